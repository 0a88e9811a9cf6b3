import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import {
  DescribeExecutionCommand,
  type ExecutionStatus,
  GetExecutionHistoryCommand,
  type HistoryEvent,
  ListExecutionsCommand,
  SFNClient,
} from '@aws-sdk/client-sfn';
import { DynamoDBDocumentClient, QueryCommand } from '@aws-sdk/lib-dynamodb';
import { signGitLabBody } from '../webhooks/verify-gitlab.ts';
import type { BenchRuntime, CallStats, CpuSpent } from './bench-runtime.ts';
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
/** How often the all-paused check reads the pending approvals (each read costs the runtime a Query). */
const PAUSED_POLL_MS = 100;
/** The longest wait between two DescribeExecution polls of one round trip. */
const POLL_MAX_MS = 50;

/** Issue #22: wall time at most 12× the same run's N PutItems; 500 MB; p99 round trip at 50 in flight. */
export const TARGETS = { wallPerPut: 12, rssBytes: 500 * 1024 * 1024, roundTripP99Ms: 500, lost: 0 };

/**
 * DynamoDB and Step Functions calls the runtime made per merge request (webhook → SUCCEEDED,
 * retries included) before the changes of issue #22: measured 2026-12-07 on commit e5cac3d,
 * N = 1,000, 50 in flight (376.8 DynamoDB calls, most of them lost races on the audit chain's
 * head, and 2.0 Step Functions calls: one start, one resume). The target is fewer in all.
 */
export const CALLS_PER_MR_BEFORE = { dynamo: 376.8, sfn: 2.0 };

export interface EngineFigures {
  n: number;
  concurrency: number;
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
  /** The runtime's CPU in each phase, and for the baseline's N PutItems. */
  startCpu: CpuSpent;
  approveCpu: CpuSpent;
  baselinePutCpu: CpuSpent;
  /** DescribeExecution calls the bench made waiting for the round trips (served by the runtime). */
  describePolls: number;
  /** The slowest round trips, and where in their execution's history the time went. */
  slowest: Array<{ ms: number; executionArn: string; longestGap: string; failures: string[] }>;
}

/** Round trips whose history the bench reads afterwards, slowest first. */
const SLOWEST = 3;

/** 1,000 merge requests end to end through the embedded runtime: webhook → paused → approve → merged. */
export async function runEngineBench(runtime: BenchRuntime, options: BenchOptions): Promise<EngineFigures> {
  const { n, concurrency } = options;
  // Bound on each phase; the bench reports what it got rather than waiting forever.
  const phaseLimitMs = options.phaseLimit * 1000;
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
    await pool(hooks, concurrency, Date.now() + phaseLimitMs, async (hook) => {
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

    const pausedDeadline = Date.now() + phaseLimitMs;
    let paused = 0;
    await waitFor(
      async () => {
        paused = await countPending(dynamo);
        return paused >= n - webhookFailures ? paused : undefined;
      },
      { deadline: pausedDeadline, intervalMs: PAUSED_POLL_MS },
    );
    const pausedMs = performance.now() - t0;
    const { calls: startCalls, cpu: startCpu } = await runtime.stats();
    await runtime.resetCalls();

    const pending = await listPending(dynamo);
    const decisionPost: number[] = [];
    const roundTrip: number[] = [];
    const roundTrips: Array<{ ms: number; executionArn: string; postedAt: number }> = [];
    let decisionFailures = 0;
    let describePolls = 0;
    const approveStart = performance.now();
    await pool(pending, concurrency, Date.now() + phaseLimitMs, async (approval) => {
      const start = performance.now();
      const postedAt = Date.now();
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
      const final = await finalStatus(sfn, approval.executionArn, Date.now() + phaseLimitMs);
      describePolls += final.polls;
      if (final.status === 'SUCCEEDED' && final.stopDate) {
        // Timed by the engine's own stop time, not by when the poll saw it (up to a poll later).
        const ms = final.stopDate.getTime() - postedAt;
        roundTrip.push(ms);
        roundTrips.push({ ms, executionArn: approval.executionArn, postedAt });
      }
    });
    const end = performance.now();
    const { calls: approveCalls, cpu: approveCpu } = await runtime.stats();

    const statusCounts: Record<string, number> = {};
    for (const status of ['RUNNING', 'SUCCEEDED', 'FAILED', 'TIMED_OUT', 'ABORTED'] as const)
      statusCounts[status] = await countExecutions(sfn, MACHINE, status);
    const stats = await runtime.stats();
    const slowest = await Promise.all(
      roundTrips
        .sort((a, b) => b.ms - a.ms)
        .slice(0, SLOWEST)
        .map(async (trip) => ({ ...trip, ...(await whereTimeWent(sfn, trip.executionArn, trip.postedAt)) })),
    );
    return {
      n,
      concurrency,
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
      startCpu,
      approveCpu,
      baselinePutCpu: baseline.putCpu,
      describePolls,
      slowest,
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
      target: `≤ ${TARGETS.wallPerPut}× PutItem baseline (${seconds(TARGETS.wallPerPut * f.baselinePutMs)})`,
      met: f.wallMs <= TARGETS.wallPerPut * f.baselinePutMs && f.succeeded === f.n,
      note: `${(f.wallMs / f.baselinePutMs).toFixed(1)}× the ${f.n} PutItems of this run`,
    },
    {
      figure: 'approval round trip p50',
      value: ms(percentile(f.roundTrip, 50)),
      note: `decision POST alone p50 ${ms(percentile(f.decisionPost, 50))}`,
    },
    {
      figure: `approval round trip p99 (${f.concurrency} in flight)`,
      value: ms(percentile(f.roundTrip, 99)),
      target: `≤ ${ms(TARGETS.roundTripP99Ms)}`,
      // Every decision must have reached SUCCEEDED for its p99 to mean anything.
      met: f.roundTrip.length === f.n && percentile(f.roundTrip, 99) <= TARGETS.roundTripP99Ms,
      note: `decision POST alone p99 ${ms(percentile(f.decisionPost, 99))}; ${f.roundTrip.length} round trips, timed to the engine's stopDate; the bench polled DescribeExecution ${(f.describePolls / Math.max(1, f.roundTrip.length)).toFixed(1)}× per round trip`,
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

/** DynamoDB and Step Functions calls the runtime made per merge request, against the count before issue #22. */
export function callTargetRows(f: EngineFigures): Row[] {
  const perMr = (service: string) => {
    let count = 0;
    for (const calls of [f.startCalls, f.approveCalls])
      for (const [key, stats] of Object.entries(calls))
        if (key.startsWith(`${service} `)) count += stats.count;
    return count / f.n;
  };
  const dynamo = perMr('dynamo');
  const sfn = perMr('sfn');
  const before = CALLS_PER_MR_BEFORE.dynamo + CALLS_PER_MR_BEFORE.sfn;
  return [
    {
      figure: 'DynamoDB + Step Functions calls per merge request',
      value: (dynamo + sfn).toFixed(1),
      target: `< ${before.toFixed(1)} (before #22)`,
      met: dynamo + sfn < before,
      note: `DynamoDB ${dynamo.toFixed(1)} (before ${CALLS_PER_MR_BEFORE.dynamo}), Step Functions ${sfn.toFixed(1)} (before ${CALLS_PER_MR_BEFORE.sfn.toFixed(1)}); made by the runtime, retries included`,
    },
  ];
}

/**
 * The runtime's CPU per merge request in each phase, next to one PutItem of the baseline: the
 * runtime's main thread is what the wall time waits on (the DynamoDB worker has its own core),
 * and CPU varies less than wall time on a shared machine.
 */
export function cpuRows(f: EngineFigures): Row[] {
  const per = (cpu: CpuSpent, n: number) =>
    `main thread ${(cpu.mainBusyMs / n).toFixed(2)} ms, process ${(cpu.processMs / n).toFixed(2)} ms`;
  const putMain = f.baselinePutCpu.mainBusyMs / f.n;
  const mrMain = (f.startCpu.mainBusyMs + f.approveCpu.mainBusyMs) / f.n;
  return [
    { figure: 'baseline: one PutItem', value: `${putMain.toFixed(2)} ms`, note: per(f.baselinePutCpu, f.n) },
    {
      figure: 'webhook → paused, per MR',
      value: `${(f.startCpu.mainBusyMs / f.n).toFixed(2)} ms`,
      note: per(f.startCpu, f.n),
    },
    {
      figure: 'decision → SUCCEEDED, per MR',
      value: `${(f.approveCpu.mainBusyMs / f.n).toFixed(2)} ms`,
      note: per(f.approveCpu, f.n),
    },
    {
      figure: 'one merge request, main thread',
      value: `${mrMain.toFixed(2)} ms`,
      note: `${(mrMain / putMain).toFixed(1)}× one PutItem's main-thread time`,
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
      note: `${count} calls, mean ${(totalMs / count).toFixed(1)} ms ${/^(dynamo|sfn) /.test(operation) ? 'round trip' : 'in server'}`,
    }));
}

/** The slowest round trips: the longest wait between two events of their history, and any failures. */
export function slowestRows(f: EngineFigures): Row[] {
  return f.slowest.map((trip) => ({
    figure: trip.executionArn.split(':').pop() ?? trip.executionArn,
    value: ms(trip.ms),
    note: `longest wait ${trip.longestGap}${trip.failures.length > 0 ? `; ${trip.failures.join(', ')}` : ''}`,
  }));
}

/**
 * The longest gap between consecutive history events after the decision was posted (the wait for
 * it is not the round trip's), with the two events, and the failed events.
 */
async function whereTimeWent(
  sfn: SFNClient,
  executionArn: string,
  postedAt: number,
): Promise<{ longestGap: string; failures: string[] }> {
  const events: HistoryEvent[] = [];
  let nextToken: string | undefined;
  for (let page = 0; page < 20; page++) {
    const out = await sfn.send(new GetExecutionHistoryCommand({ executionArn, maxResults: 1000, nextToken }));
    events.push(...(out.events ?? []));
    nextToken = out.nextToken;
    if (!nextToken) break;
  }
  let longestGap = '—';
  let longest = -1;
  for (let i = 1; i < events.length; i++) {
    const before = events[i - 1] as HistoryEvent;
    const after = events[i] as HistoryEvent;
    const afterAt = after.timestamp?.getTime() ?? 0;
    const beforeAt = before.timestamp?.getTime() ?? 0;
    const gap = afterAt - Math.max(postedAt, beforeAt);
    if (afterAt >= postedAt && gap > longest) {
      longest = gap;
      const from = beforeAt < postedAt ? 'the decision POST' : before.type;
      longestGap = `${ms(gap)} ${from} → ${after.type}`;
    }
  }
  const failures = events
    .filter((event) => /Failed|TimedOut/.test(event.type ?? ''))
    .map((event) => {
      const details = event.taskFailedEventDetails ?? event.lambdaFunctionFailedEventDetails;
      return `${event.type}${details?.error ? ` ${details.error}` : ''}`;
    });
  return { longestGap, failures };
}

/** Poll DescribeExecution until the execution leaves RUNNING (5 ms, doubling to 50 ms between polls). */
/**
 * Wait for the execution to leave RUNNING: DescribeExecution after 5 ms, doubling to every
 * `POLL_MAX_MS`. Each poll is served by the runtime's engine, on the runtime's CPU: `polls` says
 * how much of the load was the bench watching.
 */
async function finalStatus(
  sfn: SFNClient,
  executionArn: string,
  deadline: number,
): Promise<{ status?: ExecutionStatus; stopDate?: Date; polls: number }> {
  let delay = 5;
  let polls = 0;
  while (Date.now() < deadline) {
    const out = await sfn.send(new DescribeExecutionCommand({ executionArn }));
    polls++;
    if (out.status !== 'RUNNING') return { status: out.status, stopDate: out.stopDate, polls };
    await sleep(delay);
    delay = Math.min(POLL_MAX_MS, delay * 2);
  }
  return { polls };
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
