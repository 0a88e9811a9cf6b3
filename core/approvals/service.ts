import type { AuditLog, NewAuditRecord } from '../audit.ts';
import type { Notice } from '../chat.ts';
import type { EngineClient } from '../engine.ts';
import { type DecideRequest, type DecideResult, decide, tokenOf } from './decide.ts';
import type { ApprovalStore } from './store.ts';
import type { Actor, Approval, ApprovalOutcome, MessageRef } from './types.ts';

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
}

export interface ApprovalService {
  /**
   * Record a person's decision, resume the execution when it completes, update the cards.
   * `answered` is the card the platform updates through the callback response itself (Lark),
   * or, where messages cannot be edited (LINE), the chat the answer is replied to (`to`): it is
   * not updated again.
   */
  decide(request: DecideRequest, options?: { answered?: MessageRef }): Promise<DecideResult>;
  /** Cancel every pending approval about `subject`; returns the approvals cancelled. */
  cancelSubject(
    subject: string,
    reason: string,
    actor: Actor,
    now: Date,
    options?: { exceptExecution?: string },
  ): Promise<Approval[]>;
  /** Cancel one pending approval (the requester withdrew it); undefined when it was no longer pending. */
  cancel(approvalId: string, reason: string, actor: Actor, now: Date): Promise<Approval | undefined>;
  /** Mark an approval expired after its task timed out (no execution to resume). */
  expire(approvalId: string, now: Date): Promise<Approval | undefined>;
  /** Deliver outcomes decided before a crash or an engine outage; returns how many. */
  redeliver(): Promise<number>;
  /** Show an approval's new state on every card sent for it. */
  refreshCards(approval: Approval): Promise<void>;
  /**
   * Show an approval's current state on cards that were sent while it changed. A click can land
   * between a card's send and its record, and the decision then refreshed only the cards
   * recorded before it. The voter's own chat was answered by their click and is skipped.
   */
  catchUp(approval: Approval, refs: MessageRef[]): Promise<void>;
}

export function createApprovalService(deps: ApprovalServiceDeps): ApprovalService {
  const { store, engine, audit, log } = deps;

  async function deliver(approval: Approval, outcome: ApprovalOutcome): Promise<void> {
    const token = tokenOf(outcome) ?? (await store.getTaskToken(approval.approvalId));
    if (token) {
      const delivered = await engine.succeed(token, outcome);
      if (delivered === 'stale')
        log('decision arrived after the task ended', { approvalId: approval.approvalId });
    }
    await store.clearOutbox(approval.approvalId);
  }

  /**
   * `answered`: the card or chat the deciding click was answered in (the card itself on Lark,
   * the clicker's chat on LINE); it already shows the new state.
   */
  async function refreshCards(
    approval: Approval,
    answered?: { platform: MessageRef['platform']; id?: string; to?: string },
  ): Promise<void> {
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

  async function resolve(
    approval: Approval,
    outcome: ApprovalOutcome,
    actor: Actor,
    answered?: MessageRef,
    vote?: NewAuditRecord,
  ): Promise<void> {
    const decided: NewAuditRecord = {
      kind: approval.kind,
      executionArn: approval.executionArn,
      action: 'approval.decided',
      actor,
      outcome: approval.status,
      detail: { approvalId: approval.approvalId, ...(approval.reason ? { reason: approval.reason } : {}) },
    };
    // Resuming the execution, the records (the deciding vote and the decision, in one round
    // trip) and the other cards do not depend on each other: do them side by side, so the
    // click's answer waits for the slowest, not for their sum.
    await Promise.all([
      deliver(approval, outcome).catch((error: unknown) => {
        // The outcome stays in the outbox; redeliver() resumes the execution later.
        log('resume failed, kept in outbox', { approvalId: approval.approvalId, error: String(error) });
      }),
      audit.appendMany(vote ? [vote, decided] : [decided]),
      refreshCards(approval, answered),
    ]);
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
        await resolve(written, outcome, actor);
        return written;
      }
      current = await store.get(start.approvalId);
    }
    return undefined;
  }

  return {
    async cancel(approvalId, reason, actor, now) {
      const approval = await store.get(approvalId);
      return approval ? cancelOne(approval, reason, actor, now) : undefined;
    },

    async decide(request, options) {
      const result = await decide(store, request);
      if (result.outcome === 'refused') return result;
      const vote: NewAuditRecord = {
        kind: result.approval.kind,
        executionArn: result.approval.executionArn,
        action: 'approval.vote',
        actor: request.actor,
        outcome: request.decision,
        at: request.now.toISOString(),
        detail: { approvalId: request.approvalId, ...(request.comment ? { comment: request.comment } : {}) },
      };
      if (result.outcome === 'completed') {
        // Resuming the execution first keeps the click's answer short; the vote is recorded with the decision.
        await resolve(result.approval, result.result, request.actor, options?.answered, vote);
      } else {
        await Promise.all([audit.append(vote), refreshCards(result.approval, options?.answered)]);
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
      let current = await store.get(approvalId);
      while (current?.status === 'pending') {
        const next: Approval = {
          ...current,
          status: 'expired',
          decidedAt: now.toISOString(),
          version: current.version + 1,
        };
        const written = await store.transition(next, current.version);
        if (written) {
          await refreshCards(written);
          return written;
        }
        current = await store.get(approvalId);
      }
      return current;
    },

    async redeliver() {
      let count = 0;
      for (const { approval, outcome } of await store.outbox()) {
        try {
          await deliver(approval, outcome);
          count++;
        } catch (error) {
          log('redelivery failed', { approvalId: approval.approvalId, error: String(error) });
        }
      }
      return count;
    },

    refreshCards,

    async catchUp(approval, refs) {
      // Pending (a counted vote), approved or rejected: the last change was a vote, answered in
      // the voter's chat. Cancelled or expired: nobody has seen it yet.
      const byVote = approval.status !== 'cancelled' && approval.status !== 'expired';
      const voter = byVote ? approval.votes.at(-1)?.actor : undefined;
      await refreshCards({ ...approval, cards: refs }, voter && { platform: voter.platform, to: voter.id });
    },
  };
}
