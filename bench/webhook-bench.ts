import { ListExecutionsCommand, SFNClient } from '@aws-sdk/client-sfn';
import autocannon, { type Result } from 'autocannon';
import { signGitLabBody } from '../webhooks/verify-gitlab.ts';
import type { BenchRuntime, CallStats } from './bench-runtime.ts';
import { type BenchOptions, ms, type Row, waitFor } from './support.ts';

const MACHINE = 'arn:aws:states:us-east-1:123456789012:stateMachine:signoff-merge-request';
export const TARGET_RATIO = 0.5;

export interface WebhookFigures {
  healthz: Result;
  webhook: Result;
  firstStatus: number;
  executionsBefore: number;
  executionsAfter: number;
  webhookCalls: CallStats;
  rssPeak: number;
}

/** autocannon against a signed duplicate merge-request webhook and against /healthz, same settings. */
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

    const healthz = await autocannon({ url: `${runtime.urls.app}/healthz`, ...settings, title: 'healthz' });
    await runtime.resetCalls();
    const webhook = await autocannon({ url, method: 'POST', headers, body, ...settings, title: 'webhook' });
    const stats = await runtime.stats();
    return {
      healthz,
      webhook,
      firstStatus: first.status,
      executionsBefore: executionsBefore ?? 0,
      executionsAfter: await countExecutions(sfn),
      webhookCalls: stats.calls,
      rssPeak: stats.rssPeak,
    };
  } finally {
    sfn.destroy();
  }
}

export function webhookRows(f: WebhookFigures): Row[] {
  const ratio = f.webhook.requests.average / f.healthz.requests.average;
  const describe = (r: Result) =>
    `${r['2xx']} 2xx, ${r.non2xx} non-2xx, ${r.errors} errors, ${r.timeouts} timeouts`;
  return [
    {
      figure: 'GET /healthz',
      value: `${Math.round(f.healthz.requests.average)} req/s`,
      note: describe(f.healthz),
    },
    { figure: 'GET /healthz p99 latency', value: ms(f.healthz.latency.p99) },
    {
      figure: 'POST /webhooks/gitlab (signed duplicate)',
      value: `${Math.round(f.webhook.requests.average)} req/s`,
      note: `${describe(f.webhook)}; first delivery ${f.firstStatus}`,
    },
    { figure: 'POST /webhooks/gitlab p99 latency', value: ms(f.webhook.latency.p99) },
    {
      figure: 'webhook rps / healthz rps',
      value: ratio.toFixed(2),
      target: `≥ ${TARGET_RATIO}`,
      met: ratio >= TARGET_RATIO,
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
