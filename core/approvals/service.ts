import type { AuditLog, OnceRecord } from '../audit.ts';
import type { AnsweredRef, Notice } from '../chat.ts';
import type { DeliveryResult, EngineClient } from '../engine.ts';
import {
  checkVote,
  type DecideRequest,
  type DecideResult,
  type DelegatesOf,
  decide,
  tokenOf,
} from './decide.ts';
import {
  type AskReasonRequest,
  type AskReasonResult,
  askReason,
  type PendingReason,
  takeReason,
} from './reasons.ts';
import type { ApprovalStore } from './store.ts';
import type { Actor, Approval, ApprovalOutcome, MessageRef, Vote } from './types.ts';

/**
 * Somewhere approval cards are shown. The console channel reads the store; chat channels
 * send and update messages.
 */
export interface ApprovalChannel {
  readonly platform: MessageRef['platform'];
  /** Send the approval's card to whoever has none yet; cards that could not be delivered are reported, not thrown. */
  send(approval: Approval): Promise<SendResult>;
  update(approval: Approval, ref: MessageRef): Promise<void>;
  /** Tell a configured user something; false when they have no identity on this channel. */
  notify(user: string, notice: Notice): Promise<boolean>;
}

/** What one channel did with an approval's cards. */
export interface SendResult {
  sent: MessageRef[];
  /** Recipients whose card failed after the retries, with the platform's reason. */
  undelivered: Array<{ recipient: string; reason: string }>;
}

export interface ApprovalServiceDeps {
  store: ApprovalStore;
  engine: EngineClient;
  audit: AuditLog;
  channels: ApprovalChannel[];
  log: (message: string, fields?: Record<string, unknown>) => void;
  /** The active delegations of an approval's approvers when a vote is checked; none when absent. */
  delegatesOf?: DelegatesOf;
  /**
   * How long a decision waits for the other copies of its card before it is answered (default
   * `CARD_UPDATE_WAIT_MS`). Slack and Lark want a click answered within 3 s: one chat API that
   * hangs (up to its client's 10 s timeout) must not hold the answer on another platform. The
   * copies not updated by then finish behind the answer, each failure logged.
   */
  cardUpdateWaitMs?: number;
}

/** The default of `cardUpdateWaitMs`: a click's answer stays within the platforms' 3 s. */
export const CARD_UPDATE_WAIT_MS = 1500;

export interface ApprovalService {
  /**
   * Record a person's decision, resume the execution when it completes, update the cards.
   * `answered` is the card the platform updates through the callback response itself (Lark),
   * or, where messages cannot be edited (LINE), the chat the answer is replied to (`to`): it is
   * not updated again.
   */
  decide(request: DecideRequest, options?: { answered?: AnsweredRef }): Promise<DecideResult>;
  /** Cancel every pending approval about `subject`; returns the approvals cancelled. */
  cancelSubject(
    subject: string,
    reason: string,
    actor: Actor,
    now: Date,
    options?: { exceptExecution?: string },
  ): Promise<Approval[]>;
  /**
   * Reject tapped where the button cannot carry a reason (LINE): check the vote, then wait for
   * the reason (reasons.ts). The reason, once typed, decides through `decide`.
   */
  askReason(request: AskReasonRequest): Promise<AskReasonResult>;
  /** The reject reason this chat identity owes, taken once for this text event (undefined: none, or over). */
  takeReason(
    actor: { platform: string; id: string },
    eventId: string,
    now: Date,
  ): Promise<PendingReason | undefined>;
  /** Cancel one pending approval (the requester withdrew it); undefined when it was no longer pending. */
  cancel(approvalId: string, reason: string, actor: Actor, now: Date): Promise<Approval | undefined>;
  /** Mark an approval expired after its task timed out (no execution to resume). */
  expire(approvalId: string, now: Date): Promise<Approval | undefined>;
  /** Deliver outcomes decided before a crash or an engine outage; returns how many. */
  redeliver(): Promise<number>;
  /** Show an approval's new state on every card sent for it. */
  refreshCards(approval: Approval): Promise<void>;
  /** The approval ended outside the service (a forged resume stopped it): stop its reminder machine. */
  stopReminders(approval: Approval): Promise<void>;
  /**
   * Show an approval's current state on cards that were sent while it changed. A click can land
   * between a card's send and its record, and the decision then refreshed only the cards
   * recorded before it. The voter's own chat was answered by their click and is skipped.
   */
  catchUp(approval: Approval, refs: MessageRef[]): Promise<void>;
}

/** Signoff itself: who marks an approval expired. */
const SIGNOFF: Actor = { platform: 'system', id: 'signoff', name: 'Signoff' };

/**
 * The audit records of an approval that ended: every vote, and how it ended. Their ids derive
 * from the approval (`once`), so writing them again (the outbox redelivery after a crash, a
 * vote whose record was lost) adds nothing twice.
 */
export function endRecords(approval: Approval): OnceRecord[] {
  const common = { kind: approval.kind, executionArn: approval.executionArn };
  return [
    ...approval.votes.map((vote) => voteRecord(approval, vote)),
    {
      ...common,
      action: 'approval.decided',
      actor: approval.decidedBy ?? SIGNOFF,
      outcome: approval.status,
      ...(approval.decidedAt ? { at: approval.decidedAt } : {}),
      detail: { approvalId: approval.approvalId, ...(approval.reason ? { reason: approval.reason } : {}) },
      // One per way it ended: a late approval that then expired keeps both, in order.
      once: `${approval.approvalId}#${approval.status}`,
    },
  ];
}

function voteRecord(approval: Approval, vote: Vote): OnceRecord {
  return {
    kind: approval.kind,
    executionArn: approval.executionArn,
    action: 'approval.vote',
    actor: vote.actor,
    outcome: vote.decision,
    at: vote.at,
    detail: {
      approvalId: approval.approvalId,
      ...(vote.comment ? { comment: vote.comment } : {}),
      ...(vote.onBehalfOf ? { onBehalfOf: vote.onBehalfOf.user } : {}),
    },
    once: `${approval.approvalId}#vote#${vote.user}`,
  };
}

export function createApprovalService(deps: ApprovalServiceDeps): ApprovalService {
  const { store, engine, audit, log } = deps;

  /**
   * Resume the execution with the outcome; `kept` when the engine could not be reached. The
   * outbox entry is cleared by the caller once the records are written too, so a crash in
   * between is finished by redeliver().
   */
  async function deliver(approval: Approval, outcome: ApprovalOutcome): Promise<DeliveryResult | 'kept'> {
    try {
      const token = tokenOf(outcome) ?? (await store.getTaskToken(approval.approvalId));
      return token ? await engine.succeed(token, outcome) : 'stale';
    } catch (error) {
      log('resume failed, kept in outbox', { approvalId: approval.approvalId, error: String(error) });
      return 'kept';
    }
  }

  /**
   * The approval ended: stop its reminder machine (named by its id) at once. Best effort: the
   * machine's task also ends quietly when it finds the approval no longer pending.
   */
  async function stopReminders(approval: Approval): Promise<void> {
    if (!approval.policy.remind && !approval.policy.escalate) return;
    try {
      await engine.stop(
        engine.executionArn('reminders', approval.approvalId),
        'Signoff.ApprovalEnded',
        `approval ${approval.approvalId} is ${approval.status}`,
      );
    } catch (error) {
      // Already over, or never started (ExecutionDoesNotExist): nothing left to stop.
      log('reminders not stopped', { approvalId: approval.approvalId, error: String(error) });
    }
  }

  /**
   * `answered`: the card or chat the deciding click was answered in (the card itself on Lark,
   * the clicker's chat on LINE); it already shows the new state.
   */
  async function refreshCards(approval: Approval, answered?: AnsweredRef): Promise<void> {
    const others = (approval.cards ?? []).filter(
      (ref) =>
        !(
          answered &&
          ref.platform === answered.platform &&
          (ref.id === answered.id || (answered.to && ref.to === answered.to))
        ),
    );
    // Each card is its own message: update them side by side, so a click's answer waits for
    // the slowest chat API call, not for their sum.
    await Promise.all(
      others.map(async (ref) => {
        const channel = deps.channels.find((c) => c.platform === ref.platform);
        if (!channel) return;
        try {
          await channel.update(approval, ref);
        } catch (error) {
          // A card that cannot be updated must not undo a decision; the next refresh retries.
          log('card update failed', {
            approvalId: approval.approvalId,
            platform: ref.platform,
            error: String(error),
          });
        }
      }),
    );
  }

  /**
   * refreshCards, waited for at most `cardUpdateWaitMs`; the updates still running go on
   * (refreshCards never rejects: each card's failure is logged).
   */
  async function refreshWithin(approval: Approval, answered?: AnsweredRef): Promise<void> {
    const refresh = refreshCards(approval, answered);
    let timer: NodeJS.Timeout | undefined;
    const waited = new Promise<'late'>((resolve) => {
      timer = setTimeout(() => resolve('late'), deps.cardUpdateWaitMs ?? CARD_UPDATE_WAIT_MS);
      timer.unref?.();
    });
    const first = await Promise.race([refresh.then(() => 'done' as const), waited]);
    clearTimeout(timer);
    if (first === 'late')
      log('card updates still running; answered without waiting for them', {
        approvalId: approval.approvalId,
      });
  }

  /**
   * The decision reached the engine after its task had ended (timed out): the execution took
   * its expiry branch, so the approval is expired, not what the late click said. Every card,
   * the answered one included, shows it; the late vote stays on record.
   */
  async function expireLate(decided: Approval, now = new Date()): Promise<Approval> {
    let current: Approval | undefined = decided;
    while (current && current.status !== 'expired') {
      const late = current.status !== 'pending';
      const next: Approval = {
        ...current,
        status: 'expired',
        decidedAt: now.toISOString(),
        decidedBy: SIGNOFF,
        version: current.version + 1,
      };
      const written = await store.transition(next, current.version, undefined, { from: current.status });
      if (written) {
        if (late) log('decision arrived after the task ended: expired', { approvalId: written.approvalId });
        await Promise.all([
          late ? audit.appendMany(endRecords(written)) : undefined,
          refreshCards(written),
          stopReminders(written),
        ]);
        return written;
      }
      current = await store.get(decided.approvalId);
    }
    return current ?? decided;
  }

  /**
   * An approval ended (decided or cancelled): resume the execution, then write its records;
   * side by side, update the other cards. Returns the approval as it ends up (expired when the
   * engine said the task was already over).
   */
  async function resolve(
    approval: Approval,
    outcome: ApprovalOutcome,
    answered?: AnsweredRef,
  ): Promise<Approval> {
    const [ended] = await Promise.all([
      deliver(approval, outcome).then(async (delivery) => {
        // Kept in the outbox: redeliver() writes the records once it has resumed the execution.
        if (delivery === 'kept') return approval;
        // This write was the first use of the token: "already over" means the task timed out
        // (or the execution was stopped) before the decision reached it.
        const result = delivery === 'stale' ? await expireLate(approval) : approval;
        if (delivery === 'delivered') await audit.appendMany(endRecords(approval));
        await store.clearOutbox(approval.approvalId);
        return result;
      }),
      refreshWithin(approval, answered),
      stopReminders(approval),
    ]);
    return ended;
  }

  /** Cancel one approval if it is still pending; undefined when someone decided it first. */
  async function cancelOne(
    start: Approval,
    reason: string,
    actor: Actor,
    now: Date,
  ): Promise<Approval | undefined> {
    let current: Approval | undefined = start;
    while (current?.status === 'pending') {
      const next: Approval = {
        ...current,
        status: 'cancelled',
        reason,
        decidedAt: now.toISOString(),
        decidedBy: actor,
        version: current.version + 1,
      };
      const outcome: ApprovalOutcome = {
        approvalId: current.approvalId,
        decision: 'cancelled',
        approvers: [],
        comment: reason,
        decidedAt: now.toISOString(),
      };
      const written = await store.transition(next, current.version, outcome);
      if (written) {
        const ended = await resolve(written, outcome);
        return ended.status === 'cancelled' ? ended : undefined;
      }
      current = await store.get(start.approvalId);
    }
    return undefined;
  }

  return {
    askReason: (request) =>
      askReason(
        store,
        async (approval, vote) =>
          checkVote(
            approval,
            vote,
            deps.delegatesOf ? await deps.delegatesOf(approval.policy.approvers) : undefined,
          ),
        request,
      ),

    takeReason: (actor, eventId, now) => takeReason(store, actor, eventId, now),

    async cancel(approvalId, reason, actor, now) {
      const approval = await store.get(approvalId);
      return approval ? cancelOne(approval, reason, actor, now) : undefined;
    },

    async decide(request, options) {
      const result = await decide(store, request, deps.delegatesOf);
      if (result.outcome === 'refused') return result;
      if (result.outcome === 'counted') {
        const vote = result.approval.votes.find((v) => v.user === request.actor.user);
        await Promise.all([
          vote ? audit.appendMany([voteRecord(result.approval, vote)]) : undefined,
          refreshWithin(result.approval, options?.answered),
        ]);
        return result;
      }
      const ended = await resolve(result.approval, result.result, options?.answered);
      if (ended.status === 'expired') {
        // Too late: the task had timed out. The click is refused, and says why.
        return {
          outcome: 'refused',
          reason: 'expired',
          message: 'this request has expired',
          approval: ended,
        };
      }
      return result;
    },

    async cancelSubject(subject, reason, actor, now, options) {
      const cancelled: Approval[] = [];
      for (const pending of await store.pendingFor(subject)) {
        if (pending.executionArn === options?.exceptExecution) continue;
        const done = await cancelOne(pending, reason, actor, now);
        if (done) cancelled.push(done);
      }
      return cancelled;
    },

    async expire(approvalId, now) {
      // The execution took its expiry branch, so no decision reached it: a pending approval, or
      // one decided too late (the click landed after the task's deadline), is expired.
      const current = await store.get(approvalId);
      return current ? expireLate(current, now) : undefined;
    },

    async redeliver() {
      let count = 0;
      for (const { approval, outcome } of await store.outbox()) {
        // "Already over" here may be our own delivery before a crash: the expiry branch
        // (expire-approval) is what marks a late decision expired, not this.
        if ((await deliver(approval, outcome)) === 'kept') continue;
        try {
          // What the crash (or the engine outage) cut short: the records and every card.
          await Promise.all([audit.appendMany(endRecords(approval)), refreshCards(approval)]);
          await store.clearOutbox(approval.approvalId);
          count++;
        } catch (error) {
          log('redelivery failed', { approvalId: approval.approvalId, error: String(error) });
        }
      }
      return count;
    },

    refreshCards,
    stopReminders,

    async catchUp(approval, refs) {
      // Pending (a counted vote), approved or rejected: the last change was a vote, answered in
      // the voter's chat. Cancelled or expired: nobody has seen it yet.
      const byVote = approval.status !== 'cancelled' && approval.status !== 'expired';
      const voter = byVote ? approval.votes.at(-1)?.actor : undefined;
      await refreshCards({ ...approval, cards: refs }, voter && { platform: voter.platform, to: voter.id });
    },
  };
}
