import { z } from 'zod';
import { ApprovalOutcomeSchema, SYSTEM_ACTOR } from '../core/workflow.ts';
import { MergeRequestChangedError } from '../integrations/gitlab.ts';
import { MergeRequestInput } from '../workflows/merge-request.ts';
import type { Task } from './deps.ts';

const Outcome = ApprovalOutcomeSchema;

export const MergeRequestTaskInput = z.object({
  action: z.enum(['merge', 'close']),
  executionArn: z.string().min(1),
  input: MergeRequestInput.extend({ outcome: Outcome }),
});

export type MergeRequestTaskOutput =
  | { action: 'merge'; mergeCommitSha?: string; alreadyMerged: boolean }
  | { action: 'close'; alreadyClosed: boolean };

/**
 * Act on the decision in GitLab. Merge: approve and merge with `sha` = the approved head
 * commit. Close: note the reason, then close. Both check the MR first, so a retry or a
 * resume after a crash never does the same thing twice.
 */
export const mergeRequestTask: Task<z.infer<typeof MergeRequestTaskInput>, MergeRequestTaskOutput> = {
  name: 'merge-request',
  input: MergeRequestTaskInput,
  async run({ action, executionArn, input }, deps) {
    const mr = input.mergeRequest;
    // The gate: the resume's own word (`$.outcome`) is not enough.
    const approval = await deps.signoff.assertGranted({
      executionArn,
      decision: action === 'merge' ? 'approve' : 'reject',
      approvalId: input.outcome.approvalId,
    });
    const decided = action === 'merge' ? 'approve' : 'reject';
    const approvers = approval.votes
      .filter((v) => v.decision === decided)
      .map((v) => v.actor.name)
      .join(', ');
    const current = await deps.gitlab.getMergeRequest(mr.projectId, mr.iid);

    if (action === 'merge') {
      if (current.state === 'merged' && current.mergeCommitSha && current.sha === mr.sha) {
        return { action, mergeCommitSha: current.mergeCommitSha, alreadyMerged: true };
      }
      if (current.sha !== mr.sha) {
        throw new MergeRequestChangedError(
          `merge request !${mr.iid} moved to ${current.sha.slice(0, 8)} after ${mr.sha.slice(0, 8)} was approved`,
        );
      }
      await deps.gitlab.approve(mr.projectId, mr.iid, mr.sha);
      // Read just above; approving does not change what the merge checks (state, head).
      const merged = await deps.gitlab.merge(mr.projectId, mr.iid, mr.sha, current);
      await deps.audit.append({
        kind: 'merge-request',
        executionArn,
        action: 'merge-request.merged',
        actor: SYSTEM_ACTOR,
        outcome: merged.alreadyMerged ? 'already-merged' : 'merged',
        detail: { project: mr.projectPath, iid: mr.iid, sha: mr.sha, approvers },
      });
      return {
        action,
        alreadyMerged: merged.alreadyMerged,
        ...(merged.mergeCommitSha ? { mergeCommitSha: merged.mergeCommitSha } : {}),
      };
    }

    if (current.state !== 'opened') return { action, alreadyClosed: true };
    const reason = approval.reason ? `: ${approval.reason}` : ' (no reason given)';
    await deps.gitlab.addNote(mr.projectId, mr.iid, `Rejected in Signoff by ${approvers}${reason}`);
    await deps.gitlab.close(mr.projectId, mr.iid);
    await deps.audit.append({
      kind: 'merge-request',
      executionArn,
      action: 'merge-request.closed',
      actor: SYSTEM_ACTOR,
      outcome: 'closed',
      detail: {
        project: mr.projectPath,
        iid: mr.iid,
        approvers,
        ...(approval.reason ? { reason: approval.reason } : {}),
      },
    });
    return { action, alreadyClosed: false };
  },
};
