import pRetry from 'p-retry';
import type { ApprovalStore } from './store.ts';
import type { Actor, Approval, ApprovalOutcome, Decision } from './types.ts';

export type RefusalReason =
  | 'not-found'
  | 'not-an-approver'
  | 'self-approval'
  | 'excluded'
  | 'already-voted'
  | 'already-decided'
  | 'expired'
  | 'busy'
  /** The policy wants a signed-in confirmation (`confirm: "signed-in"`) and this vote came another way. */
  | 'confirm-signed-in';

export type DecideResult =
  /** The vote was recorded; more approvals are needed. */
  | { outcome: 'counted'; approval: Approval; remaining: number }
  /** This vote decided the approval; deliver `result` to the execution. */
  | { outcome: 'completed'; approval: Approval; result: ApprovalOutcome }
  /** Nothing changed; `message` says why in words a person can act on. */
  | { outcome: 'refused'; reason: RefusalReason; message: string; approval?: Approval };

export interface DecideRequest {
  approvalId: string;
  /** The deciding person; `actor.user` must be set (unknown identities are refused). */
  actor: Actor;
  decision: Decision;
  comment?: string;
  now: Date;
}

/** Someone else's write landed first: read again and re-apply the rules to what they wrote. */
class LostRaceError extends Error {
  override name = 'LostRaceError';
}

/**
 * Lost races re-read and retry, 30 attempts in all; the backoff (5 ms doubling up to 200 ms,
 * stretched by up to 2× at random) spreads a burst of concurrent voters apart.
 */
const RACE_RETRY = { retries: 29, minTimeout: 5, factor: 2, maxTimeout: 200, randomize: true };

/**
 * The task token read with the completing vote, keyed by its outcome object, so the approval
 * service resumes the execution without a second read and the token never travels in a result.
 */
const tokens = new WeakMap<ApprovalOutcome, string>();

/** The task token read together with a completed decision (approval service only). */
export function tokenOf(outcome: ApprovalOutcome): string | undefined {
  return tokens.get(outcome);
}

/**
 * Record one person's decision. A conditional write on the approval's version makes the
 * rules hold under races: only while pending, only allowed approvers, one vote per person,
 * four-eyes, and exactly one caller sees `completed` (first reject, or the vote that reaches
 * the quorum).
 */
export async function decide(store: ApprovalStore, request: DecideRequest): Promise<DecideResult> {
  try {
    return await pRetry(() => decideOnce(store, request), {
      ...RACE_RETRY,
      shouldRetry: ({ error }) => error instanceof LostRaceError,
    });
  } catch (error) {
    if (!(error instanceof LostRaceError)) throw error;
    return { outcome: 'refused', reason: 'busy', message: 'too many people are deciding at once; try again' };
  }
}

/** One read–check–conditional write; throws LostRaceError when another write came first. */
async function decideOnce(store: ApprovalStore, request: DecideRequest): Promise<DecideResult> {
  const read = await store.getWithToken(request.approvalId);
  if (!read) return { outcome: 'refused', reason: 'not-found', message: 'no such approval' };
  const current = read.approval;

  const refusal = checkVote(current, request);
  if (refusal) return refusal;

  const user = request.actor.user as string;
  const votes = [
    ...current.votes,
    {
      user,
      actor: request.actor,
      decision: request.decision,
      at: request.now.toISOString(),
      ...(request.comment ? { comment: request.comment } : {}),
    },
  ];
  const approvals = votes.filter((v) => v.decision === 'approve');
  const rejected = request.decision === 'reject';
  const complete = rejected || approvals.length >= current.policy.required;
  const next: Approval = {
    ...current,
    votes,
    status: rejected ? 'rejected' : complete ? 'approved' : 'pending',
    version: current.version + 1,
    ...(complete ? { decidedAt: request.now.toISOString(), decidedBy: request.actor } : {}),
    ...(rejected && request.comment ? { reason: request.comment } : {}),
  };
  const result: ApprovalOutcome | undefined = complete
    ? {
        approvalId: current.approvalId,
        decision: request.decision,
        approvers: (rejected ? votes.filter((v) => v.decision === 'reject') : approvals).map((v) => ({
          user: v.user,
          name: v.actor.name,
          platform: v.actor.platform,
        })),
        ...(request.comment ? { comment: request.comment } : {}),
        decidedAt: request.now.toISOString(),
      }
    : undefined;

  const written = await store.transition(next, current.version, result);
  if (written) {
    if (result) tokens.set(result, read.taskToken);
    return result
      ? { outcome: 'completed', approval: written, result }
      : { outcome: 'counted', approval: written, remaining: current.policy.required - approvals.length };
  }
  throw new LostRaceError(`approval ${current.approvalId} changed while deciding`);
}

/** The rules a vote must pass, in the order a person would want to hear them. */
export function checkVote(
  approval: Approval,
  request: DecideRequest,
): Extract<DecideResult, { outcome: 'refused' }> | undefined {
  const refuse = (reason: RefusalReason, message: string) => ({
    outcome: 'refused' as const,
    reason,
    message,
    approval,
  });
  if (approval.status !== 'pending') {
    const by = approval.votes
      .filter((v) => (approval.status === 'approved' ? v.decision === 'approve' : v.decision === 'reject'))
      .map((v) => v.actor.name);
    const who = by.length > 0 ? ` by ${by.join(', ')}` : '';
    return refuse('already-decided', `already ${approval.status}${who}`);
  }
  if (request.now.getTime() >= Date.parse(approval.expiresAt)) {
    return refuse('expired', 'this request has expired');
  }
  const user = request.actor.user;
  if (!user || !approval.policy.approvers.includes(user)) {
    return refuse('not-an-approver', `you are not an approver for ${describeScope(approval)}`);
  }
  if (
    request.decision === 'approve' &&
    user === approval.requester.user &&
    !approval.policy.allowSelfApproval
  ) {
    return refuse('self-approval', 'you cannot approve your own request (four-eyes rule)');
  }
  // Four-eyes beyond the requester (a merge request's commit authors): like the requester, they may
  // still reject.
  const excluded = request.decision === 'approve' && approval.excluded?.find((e) => e.user === user);
  if (excluded) {
    return refuse('excluded', `you ${excluded.because} (four-eyes rule)`);
  }
  if (approval.votes.some((v) => v.user === user)) {
    return refuse('already-voted', 'you have already voted on this request');
  }
  // Step-up: only a person signed in with the identity provider (and its MFA) decides. Checked
  // last, so a click that would be refused anyway hears the real reason, not "sign in".
  if (approval.policy.confirm === 'signed-in' && request.actor.via !== 'session') {
    return refuse(
      'confirm-signed-in',
      'this request needs a signed-in confirmation: open it in the Signoff console, sign in and decide there',
    );
  }
  return undefined;
}

function describeScope(approval: Approval): string {
  const kind = approval.kind.replace('-', ' ');
  return approval.scope ? `${approval.scope} ${kind}s` : `${kind}s`;
}
