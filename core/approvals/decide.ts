import pRetry from 'p-retry';
import { parseDuration } from '../durations.ts';
import { type Delegates, mayApprove, NO_DELEGATES, seatOf } from './seats.ts';
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
  | 'confirm-signed-in'
  /** A signed-in confirmation from a sign-in older than the policy's `confirmWithin`: sign in again. */
  | 'sign-in-again';

export type DecideResult =
  /** The vote was recorded; more approvals are needed. */
  | { outcome: 'counted'; approval: Approval; remaining: number }
  /** This vote decided the approval; deliver `result` to the execution. */
  | { outcome: 'completed'; approval: Approval; result: ApprovalOutcome }
  /** Nothing changed; `message` says why in words a person can act on. */
  | {
      outcome: 'refused';
      reason: RefusalReason;
      message: string;
      approval?: Approval;
      /** The approver whose seat the refusal is about, when it is not the clicker's own (a delegation). */
      seat?: { user: string; name: string };
    };

export interface DecideRequest {
  approvalId: string;
  /** The deciding person; `actor.user` must be set (unknown identities are refused). */
  actor: Actor;
  decision: Decision;
  comment?: string;
  now: Date;
}

/** How recent a sign-in must be to confirm (`policies.*.confirmWithin` unset). */
export const DEFAULT_CONFIRM_WITHIN = '15m';

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

/** The active delegations of an approval's approvers, read when a vote is checked. */
export type DelegatesOf = (approvers: string[]) => Promise<Delegates>;

/**
 * Record one person's decision. A conditional write on the approval's version makes the
 * rules hold under races: only while pending, only allowed approvers (or their delegates, read
 * through `delegatesOf`), one vote per person and per seat, four-eyes, and exactly one caller
 * sees `completed` (first reject, or the vote that reaches the quorum).
 */
export async function decide(
  store: ApprovalStore,
  request: DecideRequest,
  delegatesOf?: DelegatesOf,
): Promise<DecideResult> {
  try {
    return await pRetry(() => decideOnce(store, request, delegatesOf), {
      ...RACE_RETRY,
      shouldRetry: ({ error }) => error instanceof LostRaceError,
    });
  } catch (error) {
    if (!(error instanceof LostRaceError)) throw error;
    return { outcome: 'refused', reason: 'busy', message: 'too many people are deciding at once; try again' };
  }
}

/** One read–check–conditional write; throws LostRaceError when another write came first. */
async function decideOnce(
  store: ApprovalStore,
  request: DecideRequest,
  delegatesOf: DelegatesOf | undefined,
): Promise<DecideResult> {
  const read = await store.getWithToken(request.approvalId);
  if (!read) return { outcome: 'refused', reason: 'not-found', message: 'no such approval' };
  const current = read.approval;

  const delegates =
    delegatesOf && seatDependsOnDelegations(current, request)
      ? await delegatesOf(current.policy.approvers)
      : NO_DELEGATES;
  const judged = judgeVote(current, request, delegates);
  if ('outcome' in judged) return judged;

  const user = request.actor.user as string;
  const standIn = judged.seat === user ? undefined : delegates.get(judged.seat);
  const votes = [
    ...current.votes,
    {
      user,
      actor: request.actor,
      decision: request.decision,
      at: request.now.toISOString(),
      ...(request.comment ? { comment: request.comment } : {}),
      ...(standIn ? { onBehalfOf: { user: judged.seat, name: standIn.name } } : {}),
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

/**
 * Whether delegations can change how this vote is judged. An approver whose own seat is free
 * fills it (their own seat comes first; a delegation to them only matters once it is taken),
 * so their vote needs no delegation read: the usual click costs one DynamoDB read less.
 */
function seatDependsOnDelegations(approval: Approval, request: DecideRequest): boolean {
  const user = request.actor.user;
  if (!user || !approval.policy.approvers.includes(user)) return true;
  return approval.votes.some((vote) => seatOf(vote) === user);
}

/** The rules a vote must pass, in the order a person would want to hear them. */
export function checkVote(
  approval: Approval,
  request: DecideRequest,
  delegates: Delegates = NO_DELEGATES,
): Extract<DecideResult, { outcome: 'refused' }> | undefined {
  const judged = judgeVote(approval, request, delegates);
  return 'outcome' in judged ? judged : undefined;
}

/**
 * A vote's refusal, or the seat it fills: the voter's own when they are an approver and it is
 * free, else the first free seat of an approver who delegated to them (docs/delegation.md).
 */
function judgeVote(
  approval: Approval,
  request: DecideRequest,
  delegates: Delegates,
): Extract<DecideResult, { outcome: 'refused' }> | { seat: string } {
  const refuse = (reason: RefusalReason, message: string, seat?: { user: string; name: string }) => ({
    outcome: 'refused' as const,
    reason,
    message,
    approval,
    ...(seat ? { seat } : {}),
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
  const own = user !== undefined && approval.policy.approvers.includes(user);
  const lent = approval.policy.approvers.filter((seat) => seat !== user && delegates.get(seat)?.to === user);
  if (!user || (!own && lent.length === 0)) {
    return refuse('not-an-approver', `you are not an approver for ${describeScope(approval)}`);
  }
  const approving = request.decision === 'approve';
  if (approving && user === approval.requester.user && !approval.policy.allowSelfApproval) {
    return refuse('self-approval', 'you cannot approve your own request (four-eyes rule)');
  }
  // Four-eyes beyond the requester (a merge request's commit authors): like the requester, they may
  // still reject.
  const excluded = approving && approval.excluded?.find((e) => e.user === user);
  if (excluded) {
    return refuse('excluded', `you ${excluded.because} (four-eyes rule)`);
  }
  const mine = approval.votes.find((v) => v.user === user);
  if (mine) {
    const seat = mine.onBehalfOf ? ` (for ${mine.onBehalfOf.name})` : '';
    return refuse('already-voted', `you have already voted on this request${seat}`);
  }
  // One vote per seat: the approver and their delegate do not both count for it.
  const takenBy = new Map(approval.votes.map((v) => [seatOf(v), v]));
  const candidates = [...(own ? [user] : []), ...lent];
  const free = candidates.filter((seat) => !takenBy.has(seat));
  if (free.length === 0) {
    const seat = candidates[0] as string;
    const vote = takenBy.get(seat);
    if (seat === user)
      return refuse('already-voted', `${vote?.actor.name ?? 'your delegate'} already voted in your place`);
    const name = delegates.get(seat)?.name ?? seat;
    return refuse('already-voted', `${name} has already voted on this request`, { user: seat, name });
  }
  // A seat that may not approve (its approver asked, or wrote the change) does not approve
  // through a delegate either.
  const seat = approving ? free.find((s) => mayApprove(approval, s)) : free[0];
  if (!seat) {
    const seatUser = free[0] as string;
    const name = delegates.get(seatUser)?.name ?? seatUser;
    const barred = approval.excluded?.find((e) => e.user === seatUser);
    return barred
      ? refuse(
          'excluded',
          `${name} ${barred.because}, so you cannot approve it in their place (four-eyes rule)`,
          { user: seatUser, name },
        )
      : refuse('self-approval', `you cannot approve ${name}'s own request in their place (four-eyes rule)`, {
          user: seatUser,
          name,
        });
  }
  // Step-up: only a person signed in with the identity provider (and its MFA) decides. Checked
  // last, so a click that would be refused anyway hears the real reason, not "sign in".
  if (approval.policy.confirm === 'signed-in' && request.actor.via !== 'session') {
    return refuse(
      'confirm-signed-in',
      'this request needs a signed-in confirmation: open it in the Signoff console, sign in and decide there',
    );
  }
  if (approval.policy.confirm === 'signed-in' && !signedInRecently(approval, request)) {
    return refuse(
      'sign-in-again',
      'this request needs a recent sign-in: sign in again with your identity provider, then confirm',
    );
  }
  return { seat };
}

/** A signed-in confirmation's sign-in (the provider's `auth_time`) is within the policy's `confirmWithin`. */
function signedInRecently(approval: Approval, request: DecideRequest): boolean {
  const at = request.actor.authenticatedAt ? Date.parse(request.actor.authenticatedAt) : Number.NaN;
  const within = parseDuration(approval.policy.confirmWithin ?? DEFAULT_CONFIRM_WITHIN) * 1000;
  const age = request.now.getTime() - at;
  // A little clock skew between the provider and us is allowed in the future, not the past.
  return Number.isFinite(age) && age >= -60_000 && age <= within;
}

function describeScope(approval: Approval): string {
  const kind = approval.kind.replace('-', ' ');
  return approval.scope ? `${approval.scope} ${kind}s` : `${kind}s`;
}
