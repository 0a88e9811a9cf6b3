import { mkdtempSync, rmSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
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
