import { mkdtempSync, rmSync } from 'node:fs';
import { connect } from 'node:net';
import { networkInterfaces, tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { DEFAULT_CONFIG_INPUT, parseConfig } from '../../core/config.ts';
import { startSignoff } from '../../local/start.ts';

const dir = mkdtempSync(join(tmpdir(), 'signoff-start-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('startSignoff close()', () => {
  it('stops even when a request never finishes: it is cut off after the grace period', async () => {
    const warnings: string[] = [];
    const signoff = await startSignoff({
      dataDir: dir,
      host: '127.0.0.1',
      ports: { app: 0, sfn: 0, dynamo: 0, gitlabDemo: 0, lambdaDemo: 0 },
      env: { GITLAB_WEBHOOK_TOKEN: 'test-webhook-token' },
      config: parseConfig(DEFAULT_CONFIG_INPUT),
      redeliverEveryMs: 0,
      stopGraceMs: 200,
      log: (level, message) => {
        if (level === 'warn') warnings.push(message);
      },
    });
    // A client that announced a body and stopped sending it: the route waits for the rest.
    const { hostname, port } = new URL(signoff.urls.app);
    const socket = connect(Number(port), hostname);
    const closed = new Promise((resolve) => socket.once('close', resolve));
    socket.on('error', () => {});
    await new Promise((resolve) => socket.once('connect', resolve));
    socket.write(
      'POST /webhooks/gitlab HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{"object_kind":',
    );
    await new Promise((resolve) => setTimeout(resolve, 100));

    await signoff.close();
    await closed;
    expect(warnings).toContain('closing requests still open after the grace period');
  });
});

/**
 * An address of this machine that a server bound to 0.0.0.0 answers on and one bound to
 * 127.0.0.1 does not: on Linux all of 127/8 is loopback, elsewhere an interface's address.
 */
function otherLocalAddress(): string {
  if (process.platform === 'linux') return '127.0.0.2';
  const address = Object.values(networkInterfaces())
    .flat()
    .find((info) => info?.family === 'IPv4' && !info.internal)?.address;
  if (!address) throw new Error('no address besides 127.0.0.1 to connect to');
  return address;
}

function tryConnect(host: string, port: number): Promise<string> {
  return new Promise((resolve) => {
    const socket = connect(port, host);
    socket.once('connect', () => {
      socket.destroy();
      resolve('connected');
    });
    socket.once('error', (error: NodeJS.ErrnoException) => resolve(error.code ?? error.message));
  });
}

describe('startSignoff listening', () => {
  it('binds the back-end servers to 127.0.0.1 whatever SIGNOFF_HOST says; only the app follows it', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'signoff-bind-'));
    const signoff = await startSignoff({
      dataDir,
      host: '0.0.0.0',
      ports: { app: 0, sfn: 0, dynamo: 0, gitlabDemo: 0, lambdaDemo: 0, supportDemo: 0 },
      env: { GITLAB_WEBHOOK_TOKEN: 'test-webhook-token' },
      config: parseConfig(DEFAULT_CONFIG_INPUT),
      redeliverEveryMs: 0,
    });
    try {
      const backEnds = {
        sfn: signoff.urls.sfn,
        dynamo: signoff.urls.dynamo,
        gitlab: signoff.urls.gitlab,
        lambda: signoff.lambdaDemo?.url ?? '',
        support: signoff.supportDemo?.url ?? '',
      };
      const other = otherLocalAddress();
      const reached: Record<string, string> = {};
      for (const [name, url] of Object.entries(backEnds)) {
        const { hostname, port } = new URL(url);
        expect(hostname, name).toBe('127.0.0.1');
        reached[name] = await tryConnect(other, Number(port));
        // Still reachable where they listen.
        expect(await tryConnect('127.0.0.1', Number(port)), name).toBe('connected');
      }
      expect(reached).toEqual({
        sfn: 'ECONNREFUSED',
        dynamo: 'ECONNREFUSED',
        gitlab: 'ECONNREFUSED',
        lambda: 'ECONNREFUSED',
        support: 'ECONNREFUSED',
      });
      expect(await tryConnect(other, Number(new URL(signoff.urls.app).port))).toBe('connected');
    } finally {
      await signoff.close();
      rmSync(dataDir, { recursive: true, force: true });
    }
  });
});
