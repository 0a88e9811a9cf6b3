import { describe, expect, it } from 'vitest';
import { isAllowedHost, isLoopback } from '../../console/guard.ts';
import { consoleSurface } from '../../console/index.ts';
import { DEFAULT_CONFIG_INPUT, parseConfig } from '../../core/config.ts';
import { createApp } from '../../webhooks/app.ts';
import type { AppDeps } from '../../webhooks/deps.ts';

describe('isLoopback', () => {
  it.each([
    ['127.0.0.1', true],
    ['127.10.20.30', true],
    ['::1', true],
    ['::ffff:127.0.0.1', true],
    ['10.0.0.5', false],
    ['192.168.1.2', false],
    ['::ffff:10.0.0.5', false],
    ['fe80::1', false],
    [undefined, false],
  ])('%s → %s', (address, expected) => {
    expect(isLoopback(address)).toBe(expected);
  });
});

const TOKEN = 'a'.repeat(43);

/** The app with only what the console guard and the approvals listing touch. */
function appFrom(
  remote: string | undefined,
  options: { demo?: boolean; console?: Record<string, unknown> } = {},
) {
  const input = { ...structuredClone(DEFAULT_CONFIG_INPUT), console: options.console ?? {} };
  const deps = {
    config: parseConfig(input),
    chats: [],
    store: { list: async () => [] },
    remoteAddress: () => remote,
    consoleAccess: {
      demo: options.demo ?? false,
      sessionKey: new Uint8Array(32).fill(7),
      tokens: [{ token: TOKEN, user: 'bob' }],
    },
    now: () => new Date(),
    log: () => {},
  } as unknown as AppDeps;
  const app = createApp(deps, [consoleSurface]);
  return (path: string, init: RequestInit & { headers?: Record<string, string> } = {}) =>
    app.request(`http://127.0.0.1:8787${path}`, {
      ...init,
      headers: { host: '127.0.0.1:8787', ...init.headers },
    });
}

const bearer = { authorization: `Bearer ${TOKEN}` };

describe('isAllowedHost', () => {
  const deps = {
    config: parseConfig({
      ...structuredClone(DEFAULT_CONFIG_INPUT),
      console: { publicUrl: 'https://signoff.example.com' },
    }),
  } as unknown as AppDeps;
  it.each([
    ['127.0.0.1:8787', true],
    ['localhost:8787', true],
    ['[::1]:8787', true],
    ['signoff.example.com', true],
    ['signoff.example.com:443', true],
    ['SIGNOFF.example.com', true],
    ['signoff.example.com:8443', false],
    ['attacker.example:8787', false],
    ['127.0.0.1.attacker.example', false],
    ['localhost@attacker.example', false],
    ['attacker.example/localhost', false],
    ['', false],
  ])('%s → %s', (host, expected) => {
    expect(isAllowedHost(deps, host)).toBe(expected);
  });
});

describe('console access', () => {
  it('refuses the console and its API to a non-loopback client, with a JSON error', async () => {
    for (const path of ['/console', '/console/api/approvals?status=pending']) {
      const response = await appFrom('10.0.0.5')(path, { headers: bearer });
      expect(response.status).toBe(403);
      expect(await response.json()).toMatchObject({
        error: { message: expect.stringContaining('loopback') },
      });
    }
  });

  it('guards the change events like the pages: sign-in first, loopback Host only', async () => {
    const local = appFrom('127.0.0.1');
    const signIn = await local('/console/events');
    expect(signIn.status).toBe(302);
    expect(signIn.headers.get('content-type') ?? '').not.toContain('event-stream');
    const rebound = await appFrom('127.0.0.1', { demo: true })('/console/events', {
      headers: { host: 'rebind.attacker.example:8787' },
    });
    expect(rebound.status).toBe(403);
    expect((await appFrom('10.0.0.5', { demo: true })('/console/events')).status).toBe(403);
    // No socket (Lambda): no stream that would hold the function; 204 stops EventSource reconnecting.
    const lambda = appFrom(undefined, { console: { allowRemote: true } });
    const quiet = await lambda('/console/events', { headers: bearer });
    expect(quiet.status).toBe(204);
  });

  it('refuses when the client address is unknown (no socket, e.g. on Lambda)', async () => {
    expect((await appFrom(undefined)('/console/api/approvals', { headers: bearer })).status).toBe(403);
  });

  it('with a real configuration: 401 without a token or session, 200 with the token, remote only with allowRemote', async () => {
    const local = appFrom('127.0.0.1');
    const refused = await local('/console/api/approvals');
    expect(refused.status).toBe(401);
    expect(await refused.json()).toMatchObject({ error: { code: 'SignInRequired' } });
    expect((await local('/console/api/approvals', { headers: bearer })).status).toBe(200);
    const wrong = await local('/console/api/approvals', {
      headers: { authorization: `Bearer ${'b'.repeat(43)}` },
    });
    expect(wrong.status).toBe(401);
    expect(await wrong.text()).not.toContain('b'.repeat(43));
    const remote = appFrom('10.0.0.5', { console: { allowRemote: true } });
    expect((await remote('/console/api/approvals', { headers: bearer })).status).toBe(200);
    expect((await remote('/console/api/approvals')).status).toBe(401);
  });

  it('sends a page without a session to sign in, keeping where it was going', async () => {
    const response = await appFrom('127.0.0.1')('/console/audit?kind=deploy');
    expect(response.status).toBe(302);
    expect(response.headers.get('location')).toBe(
      `/console/auth/sign-in?return=${encodeURIComponent('/console/audit?kind=deploy')}`,
    );
  });

  it('demo mode: the API answers loopback without a token, and only loopback whatever allowRemote says', async () => {
    expect((await appFrom('127.0.0.1', { demo: true })('/console/api/approvals')).status).toBe(200);
    const remote = appFrom('10.0.0.5', { demo: true, console: { allowRemote: true } });
    expect((await remote('/console/api/approvals', { headers: bearer })).status).toBe(403);
  });

  it('refuses a Host that is not on the allowlist (DNS rebinding), even from loopback with a token', async () => {
    for (const demo of [true, false]) {
      const response = await appFrom('127.0.0.1', { demo })('/console/api/approvals', {
        headers: { ...bearer, host: 'rebind.attacker.example:8787' },
      });
      expect(response.status).toBe(403);
      expect(await response.json()).toMatchObject({ error: { code: 'HostNotAllowed' } });
    }
  });

  it('refuses a state change from a foreign Origin, or marked cross-site, in demo mode too', async () => {
    for (const demo of [true, false]) {
      const post = (headers: Record<string, string>) =>
        appFrom('127.0.0.1', { demo })('/console/approvals/x/decide', {
          method: 'POST',
          headers: { 'content-type': 'application/x-www-form-urlencoded', ...bearer, ...headers },
          body: 'decision=approve&actor=bob',
        });
      const foreign = await post({ origin: 'https://attacker.example' });
      expect(foreign.status).toBe(403);
      expect(await foreign.json()).toMatchObject({ error: { code: 'OriginNotAllowed' } });
      expect((await post({ origin: 'null' })).status).toBe(403);
      // Another port on this machine is another site.
      expect((await post({ origin: 'http://127.0.0.1:9999' })).status).toBe(403);
      expect((await post({ 'sec-fetch-site': 'cross-site' })).status).toBe(403);
    }
  });

  it('refuses a cookie-authenticated state change without an Origin (real configuration)', async () => {
    const response = await appFrom('127.0.0.1')('/console/auth/sign-out', { method: 'POST' });
    expect(response.status).toBe(403);
    expect(await response.json()).toMatchObject({ error: { code: 'OriginRequired' } });
    const same = await appFrom('127.0.0.1')('/console/auth/sign-out', {
      method: 'POST',
      headers: { origin: 'http://127.0.0.1:8787' },
    });
    expect(same.status).toBe(200);
  });

  it('believes X-Forwarded-* only from a configured proxy', async () => {
    const forwarded = {
      ...bearer,
      'x-forwarded-for': '127.0.0.1',
      'x-forwarded-host': 'signoff.example.com',
      'x-forwarded-proto': 'https',
    };
    // Not a configured proxy: the headers are ignored, so the client is 10.0.0.5 (refused).
    expect((await appFrom('10.0.0.5')('/console/api/approvals', { headers: forwarded })).status).toBe(403);
    // A configured proxy on this machine: the client it reports is remote, refused without allowRemote…
    const behindProxy = appFrom('127.0.0.1', {
      console: { trustedProxies: ['127.0.0.1'], publicUrl: 'https://signoff.example.com' },
    });
    const remoteClient = { ...forwarded, 'x-forwarded-for': '203.0.113.9' };
    expect((await behindProxy('/console/api/approvals', { headers: remoteClient })).status).toBe(403);
    // …and with allowRemote the forwarded host is checked against the public URL.
    const open = appFrom('127.0.0.1', {
      console: { trustedProxies: ['127.0.0.1'], publicUrl: 'https://signoff.example.com', allowRemote: true },
    });
    expect((await open('/console/api/approvals', { headers: remoteClient })).status).toBe(200);
    const rebound = { ...remoteClient, 'x-forwarded-host': 'attacker.example' };
    expect((await open('/console/api/approvals', { headers: rebound })).status).toBe(403);
  });

  it('keeps the health check and webhooks open to everyone', async () => {
    expect((await appFrom('10.0.0.5')('/healthz')).status).toBe(200);
  });
});
