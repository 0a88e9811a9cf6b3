import { createServer } from 'node:net';
import { SFNClient } from '@aws-sdk/client-sfn';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createSignoff } from '../../core/app.ts';
import { createApprovalStore } from '../../core/approvals/store.ts';
import { createAuditLog } from '../../core/audit.ts';
import { DEFAULT_CONFIG_INPUT, parseConfig } from '../../core/config.ts';
import { createEventDeduper } from '../../core/dedupe.ts';
import { createDelegationStore } from '../../core/delegations.ts';
import { createEngineClient } from '../../core/engine.ts';
import { createLanguageStore } from '../../core/languages.ts';
import { createNotificationStore } from '../../core/notifications.ts';
import { createApp } from '../../webhooks/app.ts';
import { appDepsFor } from '../../webhooks/deps.ts';
import { type LineFake, lineId, startLineFake } from '../fakes/line.ts';
import { startTestDynamo, type TestDynamo } from '../support/dynamo.ts';
import {
  configWithChatIds,
  decideAs,
  eventually,
  finalStatus,
  json,
  openedMergeRequest,
  pendingFor,
  postGitLab,
  startTestRuntime,
  type TestRuntime,
} from '../support/runtime.ts';

/** A loopback port nothing listens on (it was free a moment ago). */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return port;
}

/** Prometheus text → `name{labels}` → value (the exposition format's sample lines). */
function samples(text: string): Map<string, number> {
  const values = new Map<string, number>();
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#')) continue;
    const match = /^([a-zA-Z_:][a-zA-Z0-9_:]*(?:\{[^}]*\})?) (\S+)$/.exec(line);
    if (!match?.[1] || !match[2]) throw new Error(`not a sample line: ${line}`);
    values.set(match[1], Number(match[2]));
  }
  return values;
}

describe('/readyz and /metrics on the embedded runtime', () => {
  let rt: TestRuntime;
  beforeAll(async () => {
    rt = await startTestRuntime();
  }, 60_000);
  afterAll(async () => {
    await rt?.stop();
  });

  it('is ready when the store and the engine answer', async () => {
    const response = await fetch(`${rt.urls.app}/readyz`);
    expect(response.status).toBe(200);
    expect(await json(response)).toEqual({ status: 'ready', checks: { store: 'ok', engine: 'ok' } });
  });

  it('serves Prometheus text whose counters move with a decision and whose histograms see each webhook', async () => {
    const before = samples(await (await fetch(`${rt.urls.app}/metrics`)).text());
    const { hook } = openedMergeRequest(rt.gitlab, 41);
    const accepted = await postGitLab(rt.urls.app, hook);
    expect(accepted.status).toBeLessThan(300);
    const { executionArn } = (await json<{ executionArn: string }>(accepted)) as { executionArn: string };
    const approval = await pendingFor(rt, executionArn);

    const response = await fetch(`${rt.urls.app}/metrics`);
    expect(response.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/);
    const waiting = samples(await response.text());
    expect(waiting.get('signoff_pending_approvals')).toBe(1);
    expect(waiting.get('signoff_webhook_duration_seconds_count{route="/webhooks/gitlab",status="202"}')).toBe(
      (before.get('signoff_webhook_duration_seconds_count{route="/webhooks/gitlab",status="202"}') ?? 0) + 1,
    );

    expect((await decideAs(rt, approval.approvalId, 'bob', 'approve')).status).toBe(200);
    expect((await decideAs(rt, approval.approvalId, 'alice', 'approve')).status).toBeGreaterThanOrEqual(400);
    await finalStatus(rt, executionArn);
    const after = samples(await (await fetch(`${rt.urls.app}/metrics`)).text());
    const moved = (key: string) => (after.get(key) ?? 0) - (before.get(key) ?? 0);
    expect(moved('signoff_decisions_total{decision="approve",outcome="completed"}')).toBe(1);
    expect(moved('signoff_decisions_total{decision="approve",outcome="refused"}')).toBe(1);
    expect(after.get('signoff_pending_approvals')).toBe(0);
  }, 60_000);
});

describe('/readyz names the part that fails', () => {
  let dynamo: TestDynamo;
  let stopped = false;
  beforeAll(async () => {
    dynamo = await startTestDynamo();
  }, 30_000);
  afterAll(async () => {
    if (!stopped) await dynamo?.close();
  });

  it('answers 503 for an engine on a closed port, then for a stopped store; logs each request at DEBUG', async () => {
    const config = parseConfig(DEFAULT_CONFIG_INPUT);
    const quiet = () => {};
    const sfn = new SFNClient({
      region: 'us-east-1',
      endpoint: `http://127.0.0.1:${await closedPort()}`,
      credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
    });
    const engine = createEngineClient({ region: 'us-east-1', accountId: '123456789012' }, sfn);
    const { client, tableName } = dynamo;
    const signoff = createSignoff({
      config,
      store: createApprovalStore(client, tableName),
      audit: createAuditLog(client, tableName),
      notifications: createNotificationStore(client, tableName),
      delegations: createDelegationStore(client, tableName),
      languages: createLanguageStore(client, tableName),
      dedupe: createEventDeduper(client, tableName),
      engine,
      channels: [],
      executionUrl: (arn) => arn,
      clock: { now: () => new Date() },
      logger: { debug: quiet, info: quiet, warn: quiet, error: quiet },
    });
    const lines: Array<Record<string, unknown>> = [];
    const app = createApp(appDepsFor(signoff, { chats: [], remoteAddress: () => '127.0.0.1' }), [], {
      debug: (message, fields) => lines.push({ message, ...fields }),
    });

    const engineDown = await app.request('/readyz');
    expect(engineDown.status).toBe(503);
    const body = await json<{ failing: string[]; checks: Record<string, string> }>(engineDown);
    expect(body.failing).toEqual(['engine']);
    expect(body.checks.store).toBe('ok');
    expect(body.checks.engine).toMatch(/^failing: /);

    await dynamo.close();
    stopped = true;
    const bothDown = await json<{ failing: string[] }>(await app.request('/readyz'));
    expect(bothDown.failing).toEqual(['store', 'engine']);

    // No metrics given (the Lambda entry): no /metrics route.
    expect((await app.request('/metrics?x=secret')).status).toBe(404);
    expect(lines.at(-1)).toMatchObject({ message: 'request', method: 'GET', path: '/metrics', status: 404 });
    expect(JSON.stringify(lines)).not.toContain('secret');
    expect(lines.map((l) => l.path)).toEqual(['/readyz', '/readyz', '/metrics']);
    sfn.destroy();
  }, 30_000);
});

describe('/metrics counts what a chat platform refused', () => {
  let line: LineFake;
  let rt: TestRuntime;
  beforeAll(async () => {
    line = await startLineFake();
    const ids = Object.fromEntries(['alice', 'bob', 'carol'].map((user) => [user, lineId('U')]));
    rt = await startTestRuntime(configWithChatIds('line', ids), undefined, {
      LINE_CHANNEL_SECRET: line.channelSecret,
      LINE_CHANNEL_ACCESS_TOKEN: line.channelAccessToken,
      LINE_API_BASE_URL: line.url,
    });
  }, 60_000);
  afterAll(async () => {
    await rt?.stop();
    await line?.close();
  });

  it('counts a card LINE did not take under signoff_chat_send_failures_total{platform="line"}', async () => {
    const failures = async () =>
      samples(await (await fetch(`${rt.urls.app}/metrics`)).text()).get(
        'signoff_chat_send_failures_total{platform="line"}',
      ) ?? 0;
    expect(await failures()).toBe(0);
    line.failNext(20, 400);
    const { hook } = openedMergeRequest(rt.gitlab, 51);
    expect((await postGitLab(rt.urls.app, hook)).status).toBeLessThan(300);
    expect(
      await eventually(async () => (await failures()) > 0 && (await failures()), 'a failed send'),
    ).toBeGreaterThan(0);
  }, 60_000);
});
