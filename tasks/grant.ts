import { ApprovalNotGrantedError, grantRefusal } from '../core/approvals/grant.ts';
import type { Approval, Decision } from '../core/approvals/types.ts';
import { SYSTEM_ACTOR } from '../core/workflow.ts';
import type { TaskDeps } from './deps.ts';
import { notifyOnChannels } from './notify.ts';

export interface GrantRequest {
  executionArn: string;
  /** What the action does: `approve` (merge, promote, create) or `reject` (close with the reason). */
  decision: Decision;
  /** The approval id the execution was resumed with (`$.outcome.approvalId`); optional, never trusted alone. */
  approvalId?: string | undefined;
}

/**
 * The gate, re-checked by every action task before it acts: the execution's own approval (read
 * from the store, not from the resume's output) must be decided this way under its policy. The
 * engine's word is not enough: anyone holding `states:SendTaskSuccess` and the token can resume
 * an execution. Otherwise the approval is stopped (its cards say so), the requester and
 * approvers are told, `approval.forged_resume` is audited, and ApprovalNotGrantedError fails
 * the workflow. Returns the granted approval (its votes name who really decided).
 */
export async function assertGranted(deps: TaskDeps, request: GrantRequest): Promise<Approval> {
  const { executionArn, decision } = request;
  const mine = await deps.store.forExecution(executionArn);
  const claimed = request.approvalId ? await deps.store.get(request.approvalId) : undefined;
  // The approval the resume names, when it is this execution's; else this execution's latest.
  const approval = claimed?.executionArn === executionArn ? claimed : mine[0];
  const refusal = approval
    ? grantRefusal(approval, decision, executionArn)
    : 'this execution has no approval in Signoff';
  if (approval && !refusal) return approval;

  const because =
    request.approvalId && claimed?.executionArn !== executionArn && claimed
      ? `the resume named approval ${request.approvalId}, which belongs to another execution`
      : `approval ${approval?.approvalId ?? '(none)'}: ${refusal}`;
  const message = `resumed to ${decision} without a granted approval (${because}); nothing was done`;
  const kind = approval?.kind ?? claimed?.kind;
  if (kind) {
    await deps.audit.append(
      {
        kind,
        executionArn,
        action: 'approval.forged_resume',
        actor: SYSTEM_ACTOR,
        outcome: 'refused',
        detail: {
          decision,
          ...(approval ? { approvalId: approval.approvalId, status: approval.status } : {}),
          ...(request.approvalId ? { claimedApprovalId: request.approvalId } : {}),
          reason: because,
        },
      },
      { once: `${executionArn}#forged_resume` },
    );
  }
  if (approval?.status === 'pending') await stop(deps, approval);
  if (approval) {
    const title = approval.card.title;
    const people = new Set([
      ...(approval.requester.user ? [approval.requester.user] : []),
      ...approval.policy.approvers,
    ]);
    for (const user of people) {
      await notifyOnChannels(deps, user, {
        title: 'Stopped: resumed without approval',
        text: `"${title}" was resumed to ${decision} without a granted approval, so Signoff did nothing and stopped it. Someone holding the workflow's task token resumed it outside Signoff: check who can call states:SendTaskSuccess.`,
        links: [{ label: 'Execution', url: deps.executionUrl(executionArn) }],
      });
    }
  }
  deps.log('forged resume refused', { executionArn, decision, approvalId: approval?.approvalId });
  throw new ApprovalNotGrantedError(message);
}

/**
 * A pending approval whose task token was spent by the forged resume: nobody can decide it any
 * more, so it is cancelled (no outbox: there is nothing to resume) and every card says so.
 */
async function stop(deps: TaskDeps, pending: Approval): Promise<void> {
  const reason = 'the workflow was resumed without this approval and stopped';
  let current: Approval | undefined = pending;
  while (current?.status === 'pending') {
    const now = deps.now().toISOString();
    const written = await deps.store.transition(
      { ...current, status: 'cancelled', reason, decidedAt: now, version: current.version + 1 },
      current.version,
    );
    if (written) {
      await deps.audit.append({
        kind: written.kind,
        executionArn: written.executionArn,
        action: 'approval.decided',
        actor: SYSTEM_ACTOR,
        outcome: 'cancelled',
        detail: { approvalId: written.approvalId, reason },
      });
      await deps.approvals.refreshCards(written);
      return;
    }
    current = await deps.store.get(pending.approvalId);
  }
}
