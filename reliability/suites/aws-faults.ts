import { GetExecutionHistoryCommand } from '@aws-sdk/client-sfn';
import type { Approval } from '../../core/approvals/types.ts';
import { DEMO_FUNCTIONS } from '../../local/demo/lambda.ts';
import { type Row, tally } from '../report.ts';
import type { World } from '../world.ts';

/** The requester of every scenario here; `bob` approves (four-eyes: never the requester). */
const REQUESTER = 'alice';
const APPROVER = 'bob';
/** The deploy target of the Lambda scenarios: one approval needed, `dev` is the source. */
const TARGET = 'test';
const SOURCE = 'dev';

/** A unique event id per request, so a scenario run twice in one world starts a new execution. */
function eventId(name: string): string {
  return `${name}-${Date.now().toString(36)}${Math.random().toString(36).slice(2, 6)}`;
}

/** A chat command typed in the console as `actor`; the response and the execution it started. */
async function command(
  world: World,
  text: string,
  name: string,
): Promise<{ response: Response; executionArn: string | undefined; text: string }> {
  const response = await fetch(`${world.runtime.app}/console/api/commands`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...world.auth(REQUESTER) },
    body: JSON.stringify({ actor: REQUESTER, text, eventId: eventId(name) }),
  });
  const body = (await response.json().catch(() => ({}))) as {
    notice?: { text?: string; links?: Array<{ label: string; url: string }> };
  };
  const url = body.notice?.links?.find((l) => l.label === 'Execution')?.url ?? '';
  const arn = decodeURIComponent(url.split('/console/executions/')[1] ?? '');
  return {
    response,
    executionArn: arn.startsWith('arn:aws:states:') ? arn : undefined,
    text: body.notice?.text ?? '',
  };
}

/** The requester's notices about one execution (the console's notification list, newest first). */
async function noticesOf(world: World, executionArn: string): Promise<string[]> {
  const body = (await (
    await fetch(`${world.runtime.app}/console/api/notifications?user=${REQUESTER}`, {
      headers: world.auth(REQUESTER),
    })
  ).json()) as { notifications: Array<{ executionArn?: string; text: string }> };
  return body.notifications.filter((n) => n.executionArn === executionArn).map((n) => n.text);
}

/** The audit actions recorded for one execution. */
async function auditOf(world: World, executionArn: string): Promise<string[]> {
  return (await world.audit(executionArn)).map((r) => r.action);
}

/** The errors of the failed task attempts in the execution history (each one a retry or the last try). */
async function failedAttempts(world: World, executionArn: string): Promise<string[]> {
  const out = await world.sfn.send(new GetExecutionHistoryCommand({ executionArn, maxResults: 1000 }));
  return (out.events ?? []).flatMap((e) =>
    e.type === 'TaskFailed' ? [e.taskFailedEventDetails?.error ?? '?'] : [],
  );
}

const count = (list: string[], value: string) => list.filter((x) => x === value).length;

/** The demo functions' target aliases as seeded (dev → test: orders 3 → 4, payments 2 → 3, notifier unchanged). */
function seededTarget(): Record<string, string> {
  return Object.fromEntries(DEMO_FUNCTIONS.map((f) => [f.name, f.aliases[TARGET] as string]));
}

/** Put every target alias back where the demo seeds it, so each scenario starts from the same diff. */
function resetAliases(world: World): Record<string, string> {
  const seeded = seededTarget();
  for (const [fn, version] of Object.entries(seeded)) {
    if (world.lambda.aliasVersion(fn, TARGET) !== version) world.lambda.setAlias(fn, TARGET, version);
  }
  return seeded;
}

/** The functions a deploy to TARGET moves, with their versions before and after. */
function plannedMoves(): Array<{ fn: string; from: string; to: string }> {
  return DEMO_FUNCTIONS.flatMap((f) => {
    const from = f.aliases[TARGET] as string;
    const to = f.aliases[SOURCE] as string;
    return from === to ? [] : [{ fn: f.name, from, to }];
  });
}

/** A deploy to TARGET, requested by the requester in the console and waiting for its approval. */
async function pendingDeploy(
  world: World,
  name: string,
): Promise<{ executionArn: string; approval: Approval; fiveXX: number }> {
  const requested = await command(world, `deploy ${TARGET}`, name);
  if (!requested.executionArn)
    throw new Error(`deploy ${TARGET} started nothing (${requested.response.status}): ${requested.text}`);
  const approval = await world.pendingApproval(requested.executionArn);
  return {
    executionArn: requested.executionArn,
    approval,
    fiveXX: requested.response.status >= 500 ? 1 : 0,
  };
}

/**
 * Lambda answers UpdateAlias with PreconditionFailedException (412, the RevisionId read for the
 * approval no longer matches) on the second function: the first alias has already moved. Expect
 * the execution FAILED, that alias moved back (none left half-moved), the requester told why,
 * and `workflow.failed` in the audit.
 */
export async function lambdaAliasConflict(world: World): Promise<Row> {
  const before = resetAliases(world);
  const moves = plannedMoves();
  const victim = moves[moves.length - 1];
  if (moves.length < 2 || !victim) throw new Error('the demo functions must plan two alias moves');
  const { executionArn, approval, fiveXX } = await pendingDeploy(world, 'aws-fault-conflict');
  const from = world.lambda.requests.length;
  // Someone touches the last alias while the card waits (same version, new RevisionId), so
  // Lambda's own RevisionId check refuses the promotion's UpdateAlias with a 412 — after the
  // aliases before it have moved.
  world.lambda.setAlias(victim.fn, TARGET, victim.from);
  const decided = await world.decide(approval.approvalId, APPROVER);
  const status = await world.ended(executionArn, 90_000);

  const updates = world.lambda.requests.slice(from).filter((r) => r.action === 'UpdateAlias');
  const refused = updates.filter((r) => r.path.endsWith(`/${victim.fn}/aliases/${TARGET}`)).length;
  const atOrigin = Object.entries(before).filter(
    ([fn, version]) => world.lambda.aliasVersion(fn, TARGET) === version,
  ).length;
  const notices = await noticesOf(world, executionArn);
  const why = notices.filter(
    (t) => t.includes('failed') && t.includes(`${victim.fn} changed after it was read for the approval`),
  ).length;
  const audit = await auditOf(world, executionArn);
  return tally(
    'fault: Lambda UpdateAlias conflict (412)',
    2,
    [
      { what: 'execution FAILED', expected: 1, actual: status === 'FAILED' ? 1 : 0 },
      { what: `${TARGET} aliases at their origin`, expected: DEMO_FUNCTIONS.length, actual: atOrigin },
      { what: 'requester told why', expected: 1, actual: why },
      { what: 'other notices', expected: 0, actual: notices.length - why },
      { what: 'workflow.failed', expected: 1, actual: count(audit, 'workflow.failed') },
    ],
    fiveXX + (decided.status >= 500 ? 1 : 0),
    `execution ${status}; UpdateAlias ×${updates.length} (${refused} refused); ` +
      `effect = FAILED + ${DEMO_FUNCTIONS.length} aliases at origin + notice + workflow.failed`,
  );
}

/**
 * Lambda throttles UpdateAlias (429 TooManyRequestsException) `times` times: more than the SDK's
 * own 3 attempts absorb, so PromoteAliases fails with LambdaThrottledError once and the ASL
 * Retry (1 s, ×2, 3 retries) runs it again. Within that budget (3 SDK attempts × 4 task
 * attempts per alias) the deploy SUCCEEDS and each alias is moved exactly once.
 */
export async function lambdaTransient(world: World, times = 4): Promise<Row> {
  resetAliases(world);
  const moves = plannedMoves();
  const { executionArn, approval, fiveXX } = await pendingDeploy(world, 'aws-fault-throttle');
  const from = world.lambda.requests.length;
  world.lambda.failNext(times, { status: 429, type: 'TooManyRequestsException' }, 'UpdateAlias');
  const decided = await world.decide(approval.approvalId, APPROVER);
  const status = await world.ended(executionArn, 90_000);

  // The fake fails the first `times` UpdateAlias calls it receives; the rest went through.
  const updates = world.lambda.requests.slice(from).filter((r) => r.action === 'UpdateAlias');
  const applied = updates.slice(times);
  const perAlias = moves.map(
    (m) => applied.filter((r) => r.path.endsWith(`/${m.fn}/aliases/${TARGET}`)).length,
  );
  const atTarget = moves.filter((m) => world.lambda.aliasVersion(m.fn, TARGET) === m.to).length;
  const notices = await noticesOf(world, executionArn);
  const done = notices.filter((t) => t.includes('and done')).length;
  const audit = await auditOf(world, executionArn);
  const retried = count(await failedAttempts(world, executionArn), 'LambdaThrottledError');
  return tally(
    `fault: Lambda UpdateAlias 429 ×${times} then ok`,
    2,
    [
      { what: 'execution SUCCEEDED', expected: 1, actual: status === 'SUCCEEDED' ? 1 : 0 },
      ...moves.map((m, i) => ({ what: `${m.fn} moved`, expected: 1, actual: perAlias[i] ?? 0 })),
      { what: 'requester told done', expected: 1, actual: done },
      { what: 'other notices', expected: 0, actual: notices.length - done },
      { what: 'workflow.deployed', expected: 1, actual: count(audit, 'workflow.deployed') },
    ],
    fiveXX + (decided.status >= 500 ? 1 : 0),
    `execution ${status}; UpdateAlias ×${updates.length} (${Math.min(times, updates.length)} throttled, ` +
      `${retried} ASL retry); ${atTarget}/${moves.length} at target; effect = SUCCEEDED + 1 move per alias + notice + audit`,
  );
}

/**
 * The first UpdateAlias takes effect but its answer is lost (502): the SDK retries with the
 * RevisionId that call just replaced and Lambda refuses it. The task sees the alias already at
 * its target and counts it moved: the deploy succeeds, nothing is restored or moved twice.
 */
export async function lambdaLostResponse(world: World): Promise<Row> {
  resetAliases(world);
  const moves = plannedMoves();
  const { executionArn, approval, fiveXX } = await pendingDeploy(world, 'aws-fault-lost');
  world.lambda.failNext(1, 'lost-response', 'UpdateAlias');
  const decided = await world.decide(approval.approvalId, APPROVER);
  const status = await world.ended(executionArn, 90_000);
  const atTarget = moves.filter((m) => world.lambda.aliasVersion(m.fn, TARGET) === m.to).length;
  const notices = await noticesOf(world, executionArn);
  const done = notices.filter((t) => t.includes('and done')).length;
  const audit = await auditOf(world, executionArn);
  return tally(
    'fault: Lambda UpdateAlias answer lost',
    2,
    [
      { what: 'execution SUCCEEDED', expected: 1, actual: status === 'SUCCEEDED' ? 1 : 0 },
      { what: 'aliases at target', expected: moves.length, actual: atTarget },
      { what: 'requester told done', expected: 1, actual: done },
      { what: 'other notices', expected: 0, actual: notices.length - done },
      { what: 'workflow.deployed', expected: 1, actual: count(audit, 'workflow.deployed') },
    ],
    fiveXX + (decided.status >= 500 ? 1 : 0),
    `execution ${status}; ${atTarget}/${moves.length} at target; effect = SUCCEEDED + aliases + notice + audit`,
  );
}

/** A support case request as typed in chat; `subject` tells the cases of the scenarios apart. */
function supportCase(subject: string): string {
  return [
    'support case',
    `subject: ${subject}`,
    'body: Reliability harness: CreateCase is throttled by the AWS Support stand-in.',
    'severity: high',
    'service: aws-lambda',
    'category: performance',
  ].join('\n');
}

/** A support case requested in the console and waiting for its approval. */
async function pendingCase(
  world: World,
  subject: string,
  name: string,
): Promise<{ executionArn: string; approval: Approval; fiveXX: number }> {
  const requested = await command(world, supportCase(subject), name);
  if (!requested.executionArn)
    throw new Error(`support case started nothing (${requested.response.status}): ${requested.text}`);
  const approval = await world.pendingApproval(requested.executionArn);
  return {
    executionArn: requested.executionArn,
    approval,
    fiveXX: requested.response.status >= 500 ? 1 : 0,
  };
}

/**
 * AWS Support throttles CreateCase (ThrottlingException) `times` times. The Support client makes
 * one attempt per call (maxAttempts 1), so each is a failed task attempt retried by the ASL
 * (2, 4, 8, 16, 32 s; 5 retries): within that budget the case is opened exactly once.
 */
export async function supportThrottling(world: World, times = 3): Promise<Row> {
  const subject = `Reliability: CreateCase throttled ${times}x`;
  const { executionArn, approval, fiveXX } = await pendingCase(world, subject, 'aws-fault-case');
  const calls = world.support.calls('CreateCase').length;
  world.support.failNext(times, 'ThrottlingException', 'CreateCase');
  const decided = await world.decide(approval.approvalId, APPROVER);
  // 2 + 4 + 8 s of backoff for three throttles, and the rest of the workflow.
  const status = await world.ended(executionArn, 120_000);

  const creates = world.support.calls('CreateCase').length - calls;
  const cases = [...world.support.cases.values()].filter((c) => c.subject === subject);
  const notices = await noticesOf(world, executionArn);
  const told = notices.filter((t) => cases.some((c) => t.includes(c.caseId))).length;
  const audit = await auditOf(world, executionArn);
  const retried = count(await failedAttempts(world, executionArn), 'SupportThrottlingError');
  return tally(
    `fault: Support CreateCase throttled ×${times} then ok`,
    2,
    [
      { what: 'execution SUCCEEDED', expected: 1, actual: status === 'SUCCEEDED' ? 1 : 0 },
      { what: 'case opened', expected: 1, actual: cases.length },
      { what: 'requester told the case id', expected: 1, actual: told },
      { what: 'other notices', expected: 0, actual: notices.length - told },
      { what: 'support-case.created', expected: 1, actual: count(audit, 'support-case.created') },
    ],
    fiveXX + (decided.status >= 500 ? 1 : 0),
    `execution ${status}; CreateCase ×${creates} (${Math.min(times, creates)} throttled, ${retried} ASL retries); ` +
      `effect = SUCCEEDED + case + notice + audit`,
  );
}

/**
 * AWS Support throttles every CreateCase: after the ASL's 5 retries (about 62 s of backoff) the
 * execution FAILS with SupportThrottlingError, the requester is told why, `workflow.failed` is
 * in the audit, and no case exists.
 */
export async function supportThrottlingForever(world: World): Promise<Row> {
  // One attempt and five retries in the ASL; one more would show up as a case opened.
  const attempts = 6;
  const subject = 'Reliability: CreateCase throttled for good';
  const { executionArn, approval, fiveXX } = await pendingCase(world, subject, 'aws-fault-case-down');
  const calls = world.support.calls('CreateCase').length;
  world.support.failNext(attempts, 'ThrottlingException', 'CreateCase');
  const decided = await world.decide(approval.approvalId, APPROVER);
  const status = await world.ended(executionArn, 150_000);

  const creates = world.support.calls('CreateCase').length - calls;
  const cases = [...world.support.cases.values()].filter((c) => c.subject === subject).length;
  const notices = await noticesOf(world, executionArn);
  const why = notices.filter((t) => t.includes('could not be opened') && t.includes('hrottl')).length;
  const audit = await auditOf(world, executionArn);
  const failedWith = (
    await world.sfn.send(new GetExecutionHistoryCommand({ executionArn, reverseOrder: true, maxResults: 5 }))
  ).events?.find((e) => e.type === 'ExecutionFailed')?.executionFailedEventDetails?.error;
  return tally(
    'fault: Support CreateCase throttled for good',
    2,
    [
      { what: 'execution FAILED', expected: 1, actual: status === 'FAILED' ? 1 : 0 },
      { what: 'case opened', expected: 0, actual: cases },
      { what: 'requester told why', expected: 1, actual: why },
      { what: 'other notices', expected: 0, actual: notices.length - why },
      { what: 'workflow.failed', expected: 1, actual: count(audit, 'workflow.failed') },
    ],
    fiveXX + (decided.status >= 500 ? 1 : 0),
    `execution ${status} (${failedWith ?? '?'}); CreateCase ×${creates}, all throttled; ` +
      `effect = FAILED + notice + workflow.failed, no case`,
  );
}
