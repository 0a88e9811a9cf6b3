import { createHash, createHmac, timingSafeEqual } from 'node:crypto';
import { Hono } from 'hono';

/**
 * The webhook bench's baseline: the least a signed GitLab delivery can cost on this stack (Hono on
 * @hono/node-server, in the runtime's process). It reads the same body, checks `X-Gitlab-Token`
 * with timingSafeEqual and the Standard Webhooks HMAC, and looks the body's hash up among the
 * deliveries it has answered. Nothing else: no middleware, no other routes, no store.
 */
export function minimalWebhookApp(secrets: { webhookToken: string; signingToken: string }): Hono {
  const token = Buffer.from(secrets.webhookToken);
  const key = Buffer.from(secrets.signingToken.replace(/^whsec_/, ''), 'base64');
  const answered = new Map<string, { duplicate: string }>();
  const app = new Hono();
  app.post('/webhooks/gitlab', async (c) => {
    const body = await c.req.text();
    const given = Buffer.from(c.req.header('x-gitlab-token') ?? '');
    if (given.length !== token.length || !timingSafeEqual(given, token))
      return c.json({ error: 'X-Gitlab-Token does not match' }, 401);
    const signed = `${c.req.header('webhook-id')}.${c.req.header('webhook-timestamp')}.${body}`;
    const expected = createHmac('sha256', key).update(signed).digest();
    const signature = Buffer.from((c.req.header('webhook-signature') ?? '').replace(/^v1,/, ''), 'base64');
    if (signature.length !== expected.length || !timingSafeEqual(signature, expected))
      return c.json({ error: 'webhook-signature does not match' }, 401);
    const hash = createHash('sha256').update(body).digest('base64url');
    const seen = answered.get(hash);
    if (seen) return c.json(seen, 202);
    answered.set(hash, { duplicate: 'already processed' });
    return c.json({ started: true }, 202);
  });
  return app;
}
