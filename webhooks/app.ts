import { Hono } from 'hono';
import { HTTPException } from 'hono/http-exception';
import { SignoffError } from '../core/errors.ts';
import type { AppDeps, Surface } from './deps.ts';
import type { AppMetrics } from './metrics.ts';
import { chatWebhook } from './routes/chat.ts';
import { gitlabWebhook } from './routes/gitlab.ts';

/** What an entry point may add to the app: metrics (`/metrics`) and the access log. */
export interface AppOptions {
  /** Serve `/metrics` and count into these; absent (Lambda), no `/metrics` route. */
  metrics?: AppMetrics;
  /** One line per request (method, path, status, duration), at DEBUG. */
  debug?: (message: string, fields: Record<string, unknown>) => void;
  /** How long each `/readyz` check may take (ms); default 2000. */
  readyTimeoutMs?: number;
}

/** One `/readyz` check: resolves when the part answers, rejects (or times out) when it does not. */
async function probe(check: () => Promise<unknown>, timeoutMs: number): Promise<string> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<never>((_, fail) => {
    timer = setTimeout(() => fail(new Error(`no answer within ${timeoutMs} ms`)), timeoutMs);
  });
  try {
    await Promise.race([check(), timeout]);
    return 'ok';
  } catch (error) {
    const text = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
    return `failing: ${text.slice(0, 200)}`;
  } finally {
    clearTimeout(timer);
  }
}

/**
 * The HTTP surface of design §4, the same on Lambda (hono/aws-lambda) and on Node: the
 * webhooks, and the surfaces the entry point mounts beside them (the console, console/).
 */
export function createApp(deps: AppDeps, surfaces: Surface[] = [], options: AppOptions = {}): Hono {
  const app = new Hono();
  const { metrics, debug } = options;
  const webhookRoutes = new Set(['gitlab', ...deps.chats.map((adapter) => adapter.platform)]);

  // The access log and the webhook latency histograms. The query string is left out: it can
  // carry a sign-in code.
  if (metrics || debug)
    app.use('*', async (c, next) => {
      const started = performance.now();
      await next();
      const seconds = (performance.now() - started) / 1000;
      const source = /^\/webhooks\/([^/]+)/.exec(c.req.path)?.[1];
      if (metrics && source && webhookRoutes.has(source))
        metrics.observeRequest(`/webhooks/${source}`, c.res.status, seconds);
      debug?.('request', {
        method: c.req.method,
        path: c.req.path,
        status: c.res.status,
        durationMs: Math.round(seconds * 1000),
      });
    });

  app.get('/healthz', (c) => c.json({ status: 'ok' }));
  // Ready when the store (a GetItem) and the engine (a ListExecutions of one) both answer.
  app.get('/readyz', async (c) => {
    const timeoutMs = options.readyTimeoutMs ?? 2000;
    const [store, engine] = await Promise.all([
      probe(() => deps.store.get('readyz-probe'), timeoutMs),
      probe(() => deps.engine.list('merge-request', { limit: 1 }), timeoutMs),
    ]);
    const checks = { store, engine };
    const failing = Object.entries(checks)
      .filter(([, result]) => result !== 'ok')
      .map(([name]) => name);
    if (failing.length === 0) return c.json({ status: 'ready', checks });
    deps.log('warn', 'not ready', { checks });
    return c.json({ status: 'unavailable', failing, checks }, 503);
  });
  if (metrics)
    app.get('/metrics', async (c) =>
      c.body(await metrics.text(), 200, { 'content-type': metrics.contentType }),
    );
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
