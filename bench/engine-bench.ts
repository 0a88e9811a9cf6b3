import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import {
  DescribeExecutionCommand,
  type ExecutionStatus,
  ListExecutionsCommand,
  SFNClient,
} from '@aws-sdk/client-sfn';
import { DynamoDBDocumentClient, QueryCommand } from '@aws-sdk/lib-dynamodb';
import { signGitLabBody } from '../webhooks/verify-gitlab.ts';
import type { BenchRuntime, CallStats } from './bench-runtime.ts';
import {
  type BenchOptions,
  mb,
  ms,
  percentile,
  perSecond,
  pool,
  type Row,
  sampleRss,
  seconds,
  sleep,
  waitFor,
} from './support.ts';

const REGION = 'us-east-1';
const CREDENTIALS = { accessKeyId: 'bench', secretAccessKey: 'bench' };
const MACHINE = 'arn:aws:states:us-east-1:123456789012:stateMachine:signoff-merge-request';
/** Bound on each phase; the bench reports what it got rather than waiting forever. */
const PHASE_LIMIT_MS = 120_000;
/** How often the all-paused check reads the pending approvals (each read costs the runtime a Query). */
const PAUSED_POLL_MS = 100;

export const TARGETS = { wallMs: 10_000, rssBytes: 500 * 1024 * 1024, lost: 0 };

export interface EngineFigures {
  n: number;
  startupMs: number;
  baselinePutMs: number;
  baselinePassMs: number;
  baselinePassCompleted: number;
  webhookMs: number;
  webhookFailures: number;
  pausedMs: number;
  paused: number;
  approveMs: number;
  wallMs: number;
  decisionPost: number[];
  roundTrip: number[];
  decisionFailures: number;
  succeeded: number;
  statusCounts: Record<string, number>;
  mergeCalls: number;
  merged: number;
  rssPeak: number;
  atPeak: NodeJS.MemoryUsage;
  driverRssPeak: number;
  startCalls: CallStats;
  approveCalls: CallStats;
}

/** 1,000 merge requests end to end through the embedded runtime: webhook → paused → approve → merged. */
export async function runEngineBench(runtime: BenchRuntime, options: BenchOptions): Promise<EngineFigures> {
  const { n, concurrency } = options;
  const driverRss = sampleRss();
  const sfn = new SFNClient({ region: REGION, endpoint: runtime.urls.sfn, credentials: CREDENTIALS });
  const dynamoClient = new DynamoDBClient({
    region: REGION,
    endpoint: runtime.urls.dynamo,
    credentials: CREDENTIALS,
  });
  const dynamo = DynamoDBDocumentClient.from(dynamoClient);
  try {
    const baseline = await runtime.baseline(n, concurrency);

    // The run.
    const hooks = await runtime.seed(1, n);
    await runtime.resetCalls();
    const t0 = performance.now();
    let webhookFailures = 0;
    await pool(hooks, concurrency, Date.now() + PHASE_LIMIT_MS, async (hook) => {
      // Signed as GitLab signs: with a signing token configured, the route requires it.
      const body = JSON.stringify(hook);
      const id = `msg_${crypto.randomUUID()}`;
      const timestamp = Math.floor(Date.now() / 1000);
      const response = await fetch(`${runtime.urls.app}/webhooks/gitlab`, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          'x-gitlab-event': 'Merge Request Hook',
          'x-gitlab-token': runtime.webhookToken,
          'webhook-id': id,
          'webhook-timestamp': String(timestamp),
          'webhook-signature': signGitLabBody(body, runtime.signingToken, id, timestamp),
        },
        body,
      });
      await response.arrayBuffer();
      if (response.status !== 202) webhookFailures++;
    });
    const webhookMs = performance.now() - t0;

    const pausedDeadline = Date.now() + PHASE_LIMIT_MS;
    let paused = 0;
    await waitFor(
      async () => {
        paused = await countPending(dynamo);
        return paused >= n - webhookFailures ? paused : undefined;
      },
      { deadline: pausedDeadline, intervalMs: PAUSED_POLL_MS },
    );
    const pausedMs = performance.now() - t0;
    const startCalls = (await runtime.stats()).calls;
    await runtime.resetCalls();

    const pending = await listPending(dynamo);
    const decisionPost: number[] = [];
    const roundTrip: number[] = [];
    let decisionFailures = 0;
    const approveStart = performance.now();
    await pool(pending, concurrency, Date.now() + PHASE_LIMIT_MS, async (approval) => {
      const start = performance.now();
      const response = await fetch(
        `${runtime.urls.app}/console/api/approvals/${approval.approvalId}/decision`,
        {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ decision: 'approve', actor: 'bob' }),
        },
      );
      await response.arrayBuffer();
      decisionPost.push(performance.now() - start);
      if (response.status !== 200) {
        decisionFailures++;
        return;
      }
      const status = await finalStatus(sfn, approval.executionArn, Date.now() + PHASE_LIMIT_MS);
      if (status === 'SUCCEEDED') roundTrip.push(performance.now() - start);
    });
    const end = performance.now();
    const approveCalls = (await runtime.stats()).calls;

    const statusCounts: Record<string, number> = {};
    for (const status of ['RUNNING', 'SUCCEEDED', 'FAILED', 'TIMED_OUT', 'ABORTED'] as const)
      statusCounts[status] = await countExecutions(sfn, MACHINE, status);
    const stats = await runtime.stats();
    return {
      n,
      startupMs: runtime.startupMs,
      baselinePutMs: baseline.putMs,
      baselinePassMs: baseline.passMs,
      baselinePassCompleted: baseline.passSucceeded,
      webhookMs,
      webhookFailures,
      pausedMs,
      paused,
      approveMs: end - approveStart,
      wallMs: end - t0,
      decisionPost,
      roundTrip,
      decisionFailures,
      succeeded: statusCounts.SUCCEEDED ?? 0,
      statusCounts,
      mergeCalls: stats.mergeCalls,
      merged: stats.merged,
      rssPeak: stats.rssPeak,
      atPeak: stats.atPeak,
      driverRssPeak: driverRss.peak(),
      startCalls,
      approveCalls,
    };
  } finally {
    driverRss.stop();
    sfn.destroy();
    dynamoClient.destroy();
  }
}

/** The engine bench's figures as table rows, each next to its target and the baselines. */
export function engineRows(f: EngineFigures): Row[] {
  const lost = f.n - f.succeeded;
  return [
    { figure: 'runtime startup (startSignoff)', value: ms(f.startupMs) },
    {
      figure: `baseline: ${f.n} PutItem, embedded DynamoDB`,
      value: seconds(f.baselinePutMs),
      note: `${perSecond(f.n, f.baselinePutMs)}, ${(f.baselinePutMs / f.n).toFixed(2)} ms each, in the runtime process`,
    },
    {
      figure: `baseline: ${f.n} Pass executions (start+describe)`,
      value: seconds(f.baselinePassMs),
      note: `${perSecond(f.baselinePassCompleted, f.baselinePassMs)}, ${f.baselinePassCompleted} succeeded`,
    },
    {
      figure: `${f.n} webhooks posted (202)`,
      value: seconds(f.webhookMs),
      note: `${perSecond(f.n, f.webhookMs)}, ${f.webhookFailures} not 202`,
    },
    {
      figure: 'time to all paused',
      value: seconds(f.pausedMs),
      note: `${f.paused}/${f.n} pending; polled every ${PAUSED_POLL_MS} ms`,
    },
    {
      figure: `${f.n} approvals to SUCCEEDED`,
      value: seconds(f.approveMs),
      note: `${perSecond(f.roundTrip.length, f.approveMs)}, ${f.decisionFailures} decisions not 200`,
    },
    {
      figure: 'wall time (first webhook → last SUCCEEDED)',
      value: seconds(f.wallMs),
      target: `≤ ${seconds(TARGETS.wallMs)}`,
      met: f.wallMs <= TARGETS.wallMs && f.succeeded === f.n,
    },
    {
      figure: 'approval round trip p50',
      value: ms(percentile(f.roundTrip, 50)),
      note: `decision POST alone p50 ${ms(percentile(f.decisionPost, 50))}`,
    },
    {
      figure: 'approval round trip p99',
      value: ms(percentile(f.roundTrip, 99)),
      note: `decision POST alone p99 ${ms(percentile(f.decisionPost, 99))}`,
    },
    {
      figure: 'peak RSS, runtime process',
      value: mb(f.rssPeak),
      target: `≤ ${mb(TARGETS.rssBytes)}`,
      met: f.rssPeak <= TARGETS.rssBytes,
      note: `at peak: heap ${mb(f.atPeak.heapUsed)}/${mb(f.atPeak.heapTotal)}, external ${mb(f.atPeak.external)}; load driver ${mb(f.driverRssPeak)}`,
    },
    {
      figure: 'lost executions (N − SUCCEEDED)',
      value: String(lost),
      target: '0',
      met: lost === TARGETS.lost,
      note: Object.entries(f.statusCounts)
        .filter(([, count]) => count > 0)
        .map(([status, count]) => `${status} ${count}`)
        .join(', '),
    },
    {
      figure: 'GitLab merges (PUT …/merge)',
      value: String(f.mergeCalls),
      target: `= ${f.n}`,
      met: f.mergeCalls === f.n && f.merged === f.n,
      note: `${f.merged} MRs in state merged`,
    },
  ];
}

/** Per-operation calls the runtime served per unit of work (merge request, request), busiest first. */
export function callRows(calls: CallStats, n: number, unit = 'MR'): Row[] {
  return Object.entries(calls)
    .sort(([, a], [, b]) => b.totalMs - a.totalMs)
    .map(([operation, { count, totalMs }]) => ({
      figure: operation,
      value: `${(count / n).toFixed(1)}/${unit}`,
      note: `${count} calls, mean ${(totalMs / count).toFixed(1)} ms in server`,
    }));
}

/** Poll DescribeExecution until the execution leaves RUNNING (5 ms, doubling to 50 ms between polls). */
async function finalStatus(
  sfn: SFNClient,
  executionArn: string,
  deadline: number,
): Promise<ExecutionStatus | undefined> {
  let delay = 5;
  while (Date.now() < deadline) {
    const out = await sfn.send(new DescribeExecutionCommand({ executionArn }));
    if (out.status !== 'RUNNING') return out.status;
    await sleep(delay);
    delay = Math.min(50, delay * 2);
  }
  return undefined;
}

async function countExecutions(
  sfn: SFNClient,
  stateMachineArn: string,
  status?: ExecutionStatus,
): Promise<number> {
  let count = 0;
  let nextToken: string | undefined;
  for (let page = 0; page < 1000; page++) {
    const out = await sfn.send(
      new ListExecutionsCommand({ stateMachineArn, statusFilter: status, maxResults: 1000, nextToken }),
    );
    count += out.executions?.length ?? 0;
    nextToken = out.nextToken;
    if (!nextToken) break;
  }
  return count;
}

/** Pending approvals straight from the approvals index (the console API returns at most 100). */
async function listPending(
  dynamo: DynamoDBDocumentClient,
): Promise<Array<{ approvalId: string; executionArn: string }>> {
  const out: Array<{ approvalId: string; executionArn: string }> = [];
  let start: Record<string, unknown> | undefined;
  for (let page = 0; page < 1000; page++) {
    const result = await dynamo.send(
      new QueryCommand({
        TableName: 'signoff',
        IndexName: 'gsi1',
        KeyConditionExpression: 'gsi1pk = :pk',
        ExpressionAttributeValues: { ':pk': 'APPROVALS#pending' },
        ProjectionExpression: 'approvalId, executionArn',
        ExclusiveStartKey: start,
      }),
    );
    for (const item of result.Items ?? [])
      out.push({ approvalId: String(item.approvalId), executionArn: String(item.executionArn) });
    start = result.LastEvaluatedKey;
    if (!start) break;
  }
  return out;
}

async function countPending(dynamo: DynamoDBDocumentClient): Promise<number> {
  let count = 0;
  let start: Record<string, unknown> | undefined;
  for (let page = 0; page < 1000; page++) {
    const result = await dynamo.send(
      new QueryCommand({
        TableName: 'signoff',
        IndexName: 'gsi1',
        KeyConditionExpression: 'gsi1pk = :pk',
        ExpressionAttributeValues: { ':pk': 'APPROVALS#pending' },
        Select: 'COUNT',
        ExclusiveStartKey: start,
      }),
    );
    count += result.Count ?? 0;
    start = result.LastEvaluatedKey;
    if (!start) break;
  }
  return count;
}
