import { describe, expect, it } from 'vitest';
import { isLoopback } from '../../console/guard.ts';
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

/** The app with only what the console guard and the approvals listing touch. */
function appFrom(remote: string | undefined, allowRemote: boolean) {
  const input = { ...structuredClone(DEFAULT_CONFIG_INPUT), console: { allowRemote } };
  const deps = {
    config: parseConfig(input),
    chats: [],
    store: { list: async () => [] },
    remoteAddress: () => remote,
    now: () => new Date(),
    log: () => {},
  } as unknown as AppDeps;
  return createApp(deps, [consoleSurface]);
}

describe('console access', () => {
  it('refuses the console and its API to a non-loopback client, with a JSON error', async () => {
    for (const path of ['/console', '/console/api/approvals?status=pending']) {
      const response = await appFrom('10.0.0.5', false).request(path);
      expect(response.status).toBe(403);
      expect(await response.json()).toMatchObject({
        error: { message: expect.stringContaining('loopback') },
      });
    }
  });

  it('refuses when the client address is unknown (no socket, e.g. on Lambda)', async () => {
    expect((await appFrom(undefined, false).request('/console/api/approvals')).status).toBe(403);
  });

  it('serves loopback clients, and remote ones only when console.allowRemote is set', async () => {
    expect((await appFrom('127.0.0.1', false).request('/console/api/approvals')).status).toBe(200);
    expect((await appFrom('10.0.0.5', true).request('/console/api/approvals')).status).toBe(200);
  });

  it('keeps the health check and webhooks open to everyone', async () => {
    expect((await appFrom('10.0.0.5', false).request('/healthz')).status).toBe(200);
  });
});
