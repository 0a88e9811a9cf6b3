import { Hono } from 'hono';
import { HTTPException } from 'hono/http-exception';
import { SignoffError } from '../core/errors.ts';
import type { AppDeps, Surface } from './deps.ts';
import { chatWebhook } from './routes/chat.ts';
import { gitlabWebhook } from './routes/gitlab.ts';

/**
 * The HTTP surface of design §4, the same on Lambda (hono/aws-lambda) and on Node: the
 * webhooks, and the surfaces the entry point mounts beside them (the console, console/).
 */
export function createApp(deps: AppDeps, surfaces: Surface[] = []): Hono {
  const app = new Hono();

  app.get('/healthz', (c) => c.json({ status: 'ok' }));
  app.route('/webhooks/gitlab', gitlabWebhook(deps));
  for (const adapter of deps.chats) app.route(`/webhooks/${adapter.platform}`, chatWebhook(deps, adapter));
  for (const surface of surfaces) app.route(surface.path, surface.routes(deps));

  app.notFound((c) =>
    c.json({ error: { code: 'NotFound', message: `no route for ${c.req.method} ${c.req.path}` } }, 404),
  );

  // The only error handler: typed errors become their 4xx, anything else a logged 500.
  app.onError((error, c) => {
    if (error instanceof SignoffError) {
      return c.json({ error: { code: error.code, message: error.message } }, error.status);
    }
    if (error instanceof HTTPException) {
      const status = error.status;
      const message = error.message || (status === 413 ? 'request body too large' : 'bad request');
      return c.json({ error: { code: `Http${status}`, message } }, status);
    }
    deps.log('error', 'unhandled error', { path: c.req.path, error: error.stack ?? String(error) });
    return c.json({ error: { code: 'InternalError', message: 'internal error' } }, 500);
  });

  return app;
}
