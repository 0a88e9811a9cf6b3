/**
 * The benched runtime, in a process of its own so the load generator does not share its event loop
 * (and so its RSS is the runtime's alone). Started by `bench-runtime.ts` with an IPC channel.
 */
import { randomBytes } from 'node:crypto';
import { subscribe } from 'node:diagnostics_channel';
import { mkdtempSync, rmSync } from 'node:fs';
import type { ClientRequest, IncomingMessage, Server, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DescribeExecutionCommand, SFNClient, StartExecutionCommand } from '@aws-sdk/client-sfn';
import { DynamoDBDocumentClient, PutCommand } from '@aws-sdk/lib-dynamodb';
import { serve } from '@hono/node-server';
import { demoConfig } from '../core/config.ts';
import { ensureTable } from '../core/table.ts';
import { buildMergeRequestHook } from '../local/demo/gitlab.ts';
import { createLocalEngine, type LocalEngine } from '../local/engine/index.ts';
import { startSignoff } from '../local/start.ts';
import { minimalWebhookApp } from './minimal-webhook.ts';
import { pool, sampleRss, sleep } from './support.ts';

export type Request =
  | { id: number; type: 'seed'; fromIid: number; count: number }
  | { id: number; type: 'stats' }
  | { id: number; type: 'reset' }
  | { id: number; type: 'baseline'; n: number; concurrency: number }
  | { id: number; type: 'stop' };

export interface Ready {
  type: 'ready';
  urls: { app: string; sfn: string; dynamo: string; gitlab: string; minimal: string };
  webhookToken: string;
  signingToken: string;
  startupMs: number;
}

/**
 * Calls since the last reset, by service and operation: those the runtime made to DynamoDB and
 * Step Functions (timed as round trips, client side), and those its app and the GitLab stand-in
 * served (timed in the server).
 */
export type CallStats = Record<string, { count: number; totalMs: number }>;

/** Baselines run inside the runtime process, so their client-side cost lands where the runtime's does. */
export interface Baseline {
  putMs: number;
  /** CPU the N PutItems cost. */
  putCpu: CpuSpent;
  passMs: number;
  passSucceeded: number;
}

export interface Stats {
  rssPeak: number;
  /** process.memoryUsage() when RSS peaked. */
  atPeak: NodeJS.MemoryUsage;
  rss: number;
  /** `PUT …/merge` calls the GitLab stand-in received. */
  mergeCalls: number;
  /** Seeded merge requests now in state `merged`. */
  merged: number;
  calls: CallStats;
  /** CPU since the last reset: the main thread's busy time (event loop), and the whole process's (the DynamoDB worker too). */
  cpu: CpuSpent;
}

export interface CpuSpent {
  mainBusyMs: number;
  processMs: number;
}

export type Reply = { id: number; ok: true; value: unknown } | { id: number; ok: false; error: string };

export const PROJECT_ID = 7;

const send = (message: Ready | Reply) => process.send?.(message);

async function main(): Promise<void> {
  const started = performance.now();
  const dataDir = mkdtempSync(join(tmpdir(), 'signoff-bench-'));
  const webhookToken = randomBytes(18).toString('base64url');
  const signingToken = `whsec_${randomBytes(32).toString('base64')}`;
  const signoff = await startSignoff({
    dataDir,
    host: '127.0.0.1',
    ports: { app: 0, sfn: 0, dynamo: 0, gitlabDemo: 0 },
    env: { GITLAB_WEBHOOK_TOKEN: webhookToken, GITLAB_WEBHOOK_SIGNING_TOKEN: signingToken },
    // The built-in demo configuration: the console API takes `actor` (demo mode).
    config: demoConfig(),
    redeliverEveryMs: 0,
  });
  const gitlab = signoff.gitlabDemo;
  if (!gitlab) throw new Error('expected the GitLab stand-in');
  const rss = sampleRss();
  const calls = countCalls(signoff.urls);
  let cpu = cpuMeter();
  // The webhook bench's baseline route, in this process on the same stack.
  const minimal = serve({
    fetch: minimalWebhookApp({ webhookToken, signingToken }).fetch,
    port: 0,
    hostname: '127.0.0.1',
  }) as Server;
  await new Promise<void>((resolve) => (minimal.listening ? resolve() : minimal.once('listening', resolve)));
  const minimalUrl = `http://127.0.0.1:${(minimal.address() as AddressInfo).port}`;
  let seeded: number[] = [];
  let passEngine: LocalEngine | undefined;
  let passUrl: string | undefined;

  const handle = async (request: Request): Promise<unknown> => {
    switch (request.type) {
      case 'seed': {
        const hooks: object[] = [];
        for (let iid = request.fromIid; iid < request.fromIid + request.count; iid++) {
          const mr = gitlab.seedMergeRequest({
            projectId: PROJECT_ID,
            projectPath: 'platform/app',
            iid,
            title: `Change ${iid}`,
            author: { id: 11, username: 'alice', name: 'Alice' },
          });
          seeded.push(iid);
          hooks.push(
            buildMergeRequestHook(mr, { action: 'open', actor: { username: 'alice' }, baseUrl: gitlab.url }),
          );
        }
        return hooks;
      }
      case 'stats': {
        const stats: Stats = {
          rssPeak: rss.peak(),
          atPeak: rss.atPeak(),
          rss: process.memoryUsage().rss,
          mergeCalls: gitlab.requests.filter(
            (r) => r.method === 'PUT' && (r.path.split('?')[0] ?? '').endsWith('/merge'),
          ).length,
          merged: seeded.filter((iid) => gitlab.mergeRequest(PROJECT_ID, iid)?.state === 'merged').length,
          calls: calls.snapshot(),
          cpu: cpu.spent(),
        };
        return stats;
      }
      case 'reset':
        calls.reset();
        cpu = cpuMeter();
        return null;
      case 'baseline':
        passEngine ??= await createLocalEngine({
          dataDir: join(dataDir, 'pass'),
          stateMachines: [{ name: 'bench-pass', definition: PASS_DEFINITION }],
          invokeFunction: () => Promise.reject(new Error('no tasks here')),
        });
        passUrl ??= await passEngine.listen(0, '127.0.0.1');
        return runBaseline(signoff.urls.dynamo, passUrl, request);
      case 'stop':
        // Let requests still being handled finish first: closing DynamoDB under a queued write
        // crashes the process ("Database is closed" thrown from dynalite).
        for (let i = 0; i < 100 && calls.inFlight() > 0; i++) await sleep(100);
        rss.stop();
        await new Promise<void>((resolve) => minimal.close(() => resolve()));
        await passEngine?.close();
        await signoff.close();
        rmSync(dataDir, { recursive: true, force: true });
        seeded = [];
        setImmediate(() => process.exit(0));
        return null;
    }
  };

  process.on('message', (request: Request) => {
    handle(request).then(
      (value) => send({ id: request.id, ok: true, value }),
      (error: unknown) => send({ id: request.id, ok: false, error: String(error) }),
    );
  });
  process.on('disconnect', () => process.exit(1));
  send({
    type: 'ready',
    urls: { ...signoff.urls, minimal: minimalUrl },
    webhookToken,
    signingToken,
    startupMs: performance.now() - started,
  });
}

const PASS_DEFINITION = JSON.stringify({ StartAt: 'P', States: { P: { Type: 'Pass', End: true } } });
const PASS_MACHINE = 'arn:aws:states:us-east-1:123456789012:stateMachine:bench-pass';
const LOCAL = { region: 'us-east-1', credentials: { accessKeyId: 'bench', secretAccessKey: 'bench' } };
const BASELINE_LIMIT_MS = 120_000;

/**
 * 1. N single-item writes (PutItem, conditional, shaped like an audit record with two GSI keys) on
 *    the same embedded DynamoDB, into a table with the same four GSIs.
 * 2. N executions of a one-Pass-state machine on a second local engine (StartExecution, then
 *    DescribeExecution until it ends): the engine's own cost, without tasks or DynamoDB.
 */
async function runBaseline(
  dynamoUrl: string,
  passUrl: string,
  options: { n: number; concurrency: number },
): Promise<Baseline> {
  const items = Array.from({ length: options.n }, (_, i) => i);
  const dynamoClient = new DynamoDBClient({ ...LOCAL, endpoint: dynamoUrl });
  const dynamo = DynamoDBDocumentClient.from(dynamoClient);
  const sfn = new SFNClient({ ...LOCAL, endpoint: passUrl });
  try {
    await ensureTable(dynamoClient, 'bench-baseline');
    const putStart = performance.now();
    const putCpu = cpuMeter();
    await pool(items, options.concurrency, Date.now() + BASELINE_LIMIT_MS, async (i) => {
      const at = new Date().toISOString();
      await dynamo.send(
        new PutCommand({
          TableName: 'bench-baseline',
          Item: {
            pk: `EXEC#bench-${i}`,
            sk: `AUDIT#${at}#${i}`,
            gsi1pk: 'AUDIT#KIND#merge-request',
            gsi1sk: `${at}#${i}`,
            gsi2pk: 'AUDIT#ACTOR#gitlab:alice',
            gsi2sk: `${at}#${i}`,
            action: 'approval.vote',
            outcome: 'approve',
            detail: { approvalId: `a${i}`.padEnd(22, 'x') },
          },
          ConditionExpression: 'attribute_not_exists(pk)',
        }),
      );
    });
    const putMs = performance.now() - putStart;
    const putSpent = putCpu.spent();

    let passSucceeded = 0;
    const passStart = performance.now();
    await pool(items, options.concurrency, Date.now() + BASELINE_LIMIT_MS, async (i) => {
      const { executionArn } = await sfn.send(
        new StartExecutionCommand({ stateMachineArn: PASS_MACHINE, name: `pass-${i}`, input: '{}' }),
      );
      for (let poll = 0; poll < 1000; poll++) {
        const out = await sfn.send(new DescribeExecutionCommand({ executionArn }));
        if (out.status === 'SUCCEEDED') passSucceeded++;
        if (out.status !== 'RUNNING') break;
        await sleep(5);
      }
    });
    return { putMs, putCpu: putSpent, passMs: performance.now() - passStart, passSucceeded };
  } finally {
    dynamoClient.destroy();
    sfn.destroy();
  }
}

/** CPU spent from now on: the main thread's event loop busy time, and the process's user + system time. */
function cpuMeter(): { spent(): CpuSpent } {
  const elu = performance.eventLoopUtilization();
  const usage = process.cpuUsage();
  return {
    spent: () => {
      const used = process.cpuUsage(usage);
      return {
        mainBusyMs: performance.eventLoopUtilization(elu).active,
        processMs: (used.user + used.system) / 1000,
      };
    },
  };
}

/** Services whose calls are counted where the runtime makes them (its SDK clients), not where they are served. */
const CLIENT_SIDE = new Set(['dynamo', 'sfn']);

/**
 * Count and time the calls the runtime makes to DynamoDB and Step Functions (Node's
 * `http.client.*` diagnostics channels: the embedded DynamoDB serves on a worker thread, whose
 * server events this thread does not see, and the bench's own polling of the engine is not the
 * runtime's), and the requests its app and the GitLab stand-in serve (`http.server.*`), keyed by
 * service and X-Amz-Target or path: where the time goes, without touching the product code.
 */
function countCalls(urls: Record<string, string>): {
  snapshot(): CallStats;
  reset(): void;
  inFlight(): number;
} {
  const services = new Map<string, string>();
  for (const [name, url] of Object.entries(urls)) {
    // `console` is a path on the app's port.
    if (name !== 'console') services.set(new URL(url).port, name);
  }
  let stats: CallStats = {};
  let inFlight = 0;
  const startedAt = new WeakMap<object, { key: string; at: number }>();
  const operationOf = (target: unknown, method: string | undefined, url: string) =>
    typeof target === 'string' ? (target.split('.').pop() ?? target) : `${method} ${routeOf(url)}`;
  const start = (message: object, key: string) => {
    startedAt.set(message, { key, at: performance.now() });
    inFlight++;
  };
  const finish = (message: object) => {
    const started = startedAt.get(message);
    if (!started) return;
    startedAt.delete(message);
    inFlight--;
    const entry = stats[started.key] ?? { count: 0, totalMs: 0 };
    stats[started.key] = entry;
    entry.count++;
    entry.totalMs += performance.now() - started.at;
  };
  subscribe('http.server.request.start', (message) => {
    const { request } = message as { request: IncomingMessage };
    const service = services.get(String(request.socket.localPort ?? 0)) ?? 'other';
    if (CLIENT_SIDE.has(service)) return;
    start(
      request,
      `${service} ${operationOf(request.headers['x-amz-target'], request.method, request.url ?? '')}`,
    );
  });
  subscribe('http.server.response.finish', (message) => {
    finish((message as { request: IncomingMessage; response: ServerResponse }).request);
  });
  subscribe('http.client.request.start', (message) => {
    const { request } = message as { request: ClientRequest };
    const port = String(request.getHeader('host') ?? '').split(':')[1] ?? '';
    const service = services.get(port);
    if (!service || !CLIENT_SIDE.has(service)) return;
    start(
      request,
      `${service} ${operationOf(request.getHeader('x-amz-target'), request.method, request.path)}`,
    );
  });
  subscribe('http.client.response.finish', (message) => {
    finish((message as { request: ClientRequest }).request);
  });
  subscribe('http.client.request.error', (message) => {
    finish((message as { request: ClientRequest }).request);
  });
  return {
    snapshot: () => structuredClone(stats),
    reset: () => {
      stats = {};
    },
    inFlight: () => inFlight,
  };
}

/** The path with ids and numbers replaced, so one route is one row. */
function routeOf(url: string): string {
  return (url.split('?')[0] ?? '')
    .split('/')
    .map((part) => (/^\d+$/.test(part) ? ':n' : /^[\w-]{16,}$/.test(part) ? ':id' : part))
    .join('/');
}

main().catch((error: unknown) => {
  process.stderr.write(
    `bench runtime failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`,
  );
  process.exit(1);
});
