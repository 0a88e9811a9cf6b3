import { ListExecutionsCommand, SFNClient } from '@aws-sdk/client-sfn';
import autocannon, { type Result } from 'autocannon';
import { signGitLabBody } from '../webhooks/verify-gitlab.ts';
import type { BenchRuntime, CallStats } from './bench-runtime.ts';
import { type BenchOptions, ms, type Row, waitFor } from './support.ts';

const MACHINE = 'arn:aws:states:us-east-1:123456789012:stateMachine:signoff-merge-request';
/** Issue #22: a signed duplicate delivery at least 0.8× the minimal signed route of the same run. */
export const TARGET_RATIO = 0.8;
/** Rounds of (minimal route, product route), alternating, so drift in the machine's speed hits both. */
const ROUNDS = 2;

export interface WebhookFigures {
  healthz: Result;
  /** The product's route, one result per round. */
  webhook: Result[];
  /** The minimal signed route (bench/minimal-webhook.ts), one result per round. */
  minimal: Result[];
  firstStatus: number;
  executionsBefore: number;
  executionsAfter: number;
  webhookCalls: CallStats;
  rssPeak: number;
}

/**
 * autocannon against a signed duplicate merge-request webhook, the minimal signed route
 * (bench/minimal-webhook.ts, same body and headers) and /healthz, same settings.
 */
export async function runWebhookBench(runtime: BenchRuntime, options: BenchOptions): Promise<WebhookFigures> {
  const sfn = new SFNClient({
    region: 'us-east-1',
    endpoint: runtime.urls.sfn,
    credentials: { accessKeyId: 'bench', secretAccessKey: 'bench' },
  });
  try {
    const [hook] = await runtime.seed(1, 1);
    const body = JSON.stringify(hook);
    // Signed as GitLab signs (Standard Webhooks) and with the secret token; one timestamp for the whole
    // run, well inside the 5-minute window.
    const id = `msg_${crypto.randomUUID()}`;
    const timestamp = Math.floor(Date.now() / 1000);
    const headers = {
      'content-type': 'application/json',
      'x-gitlab-event': 'Merge Request Hook',
      'x-gitlab-token': runtime.webhookToken,
      'webhook-id': id,
      'webhook-timestamp': String(timestamp),
      'webhook-signature': signGitLabBody(body, runtime.signingToken, id, timestamp),
      'idempotency-key': id,
    };
    const url = `${runtime.urls.app}/webhooks/gitlab`;
    const minimalUrl = `${runtime.urls.minimal}/webhooks/gitlab`;
    const first = await fetch(url, { method: 'POST', headers, body });
    await first.arrayBuffer();
    const executionsBefore = await waitFor(
      async () => {
        const count = await countExecutions(sfn);
        return count > 0 ? count : undefined;
      },
      { deadline: Date.now() + 10_000, intervalMs: 50 },
    );

    const settings = { connections: options.connections, duration: options.duration, timeout: 10 };
    // A short warm-up of both paths (JIT, sockets), not measured.
    await autocannon({ url: `${runtime.urls.app}/healthz`, ...settings, duration: 1 });
    await autocannon({ url, method: 'POST', headers, body, ...settings, duration: 1 });
    await autocannon({ url: minimalUrl, method: 'POST', headers, body, ...settings, duration: 1 });

    const healthz = await autocannon({ url: `${runtime.urls.app}/healthz`, ...settings, title: 'healthz' });
    const webhook: Result[] = [];
    const minimal: Result[] = [];
    let calls: CallStats = {};
    for (let round = 0; round < ROUNDS; round++) {
      minimal.push(
        await autocannon({ url: minimalUrl, method: 'POST', headers, body, ...settings, title: 'minimal' }),
      );
      await runtime.resetCalls();
      webhook.push(await autocannon({ url, method: 'POST', headers, body, ...settings, title: 'webhook' }));
      calls = addCalls(calls, (await runtime.stats()).calls);
    }
    const stats = await runtime.stats();
    return {
      healthz,
      webhook,
      minimal,
      firstStatus: first.status,
      executionsBefore: executionsBefore ?? 0,
      executionsAfter: await countExecutions(sfn),
      webhookCalls: calls,
      rssPeak: stats.rssPeak,
    };
  } finally {
    sfn.destroy();
  }
}

/** The sum of two call tallies. */
function addCalls(a: CallStats, b: CallStats): CallStats {
  const sum = structuredClone(a);
  for (const [key, { count, totalMs }] of Object.entries(b)) {
    const entry = sum[key] ?? { count: 0, totalMs: 0 };
    sum[key] = { count: entry.count + count, totalMs: entry.totalMs + totalMs };
  }
  return sum;
}

/** Requests answered per second over every round: all requests over all seconds. */
function rate(results: Result[]): number {
  const requests = results.reduce((sum, r) => sum + r.requests.total, 0);
  const seconds = results.reduce((sum, r) => sum + r.duration, 0);
  return requests / seconds;
}

/** Requests of every round, whatever their status. */
export function requestCount(results: Result[]): number {
  return results.reduce((sum, r) => sum + r['2xx'] + r.non2xx, 0);
}

export function webhookRows(f: WebhookFigures): Row[] {
  const webhookRate = rate(f.webhook);
  const minimalRate = rate(f.minimal);
  const ratio = webhookRate / minimalRate;
  const describe = (results: Result[]) => {
    const total = (field: '2xx' | 'non2xx' | 'errors' | 'timeouts') =>
      results.reduce((sum, r) => sum + r[field], 0);
    return `${total('2xx')} 2xx, ${total('non2xx')} non-2xx, ${total('errors')} errors, ${total('timeouts')} timeouts`;
  };
  const p99 = (results: Result[]) => results.map((r) => ms(r.latency.p99)).join(', ');
  const rounds = `${f.webhook.length} rounds alternating with the minimal route`;
  return [
    {
      figure: 'GET /healthz',
      value: `${Math.round(f.healthz.requests.average)} req/s`,
      note: `${describe([f.healthz])}; p99 ${ms(f.healthz.latency.p99)}`,
    },
    {
      figure: 'baseline: minimal signed route (same body, token, HMAC, hash lookup)',
      value: `${Math.round(minimalRate)} req/s`,
      note: `${describe(f.minimal)}; p99 per round ${p99(f.minimal)}`,
    },
    {
      figure: 'POST /webhooks/gitlab (signed duplicate)',
      value: `${Math.round(webhookRate)} req/s`,
      note: `${describe(f.webhook)}; p99 per round ${p99(f.webhook)}; first delivery ${f.firstStatus}; ${rounds}`,
    },
    {
      figure: 'duplicate rps / minimal route rps',
      value: ratio.toFixed(2),
      target: `≥ ${TARGET_RATIO}`,
      // Only a route that answered every duplicate 2xx counts.
      met: ratio >= TARGET_RATIO && f.webhook.every((r) => r.non2xx === 0 && r.errors === 0),
      note: `duplicate rps / healthz rps ${(webhookRate / f.healthz.requests.average).toFixed(2)}`,
    },
    {
      figure: 'executions before → after the duplicate load',
      value: `${f.executionsBefore} → ${f.executionsAfter}`,
      target: 'unchanged',
      met: f.executionsBefore === 1 && f.executionsAfter === f.executionsBefore,
    },
  ];
}

async function countExecutions(sfn: SFNClient): Promise<number> {
  const out = await sfn.send(new ListExecutionsCommand({ stateMachineArn: MACHINE, maxResults: 1000 }));
  return out.executions?.length ?? 0;
}
