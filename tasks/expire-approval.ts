import { z } from 'zod';
import { SYSTEM_ACTOR, WorkflowEnvelope } from '../core/workflow.ts';
import type { Task } from './deps.ts';

export const ExpireApprovalInput = z.object({
  executionArn: z.string().min(1),
  input: WorkflowEnvelope.passthrough(),
});

/**
 * After `States.Timeout`: mark the execution's approvals expired and update their cards. One
 * decided after the deadline (its resume arrived too late) is expired too: the execution did not
 * take it.
 */
export const expireApproval: Task<z.infer<typeof ExpireApprovalInput>, { expired: string[] }> = {
  name: 'expire-approval',
  input: ExpireApprovalInput,
  async run({ executionArn, input }, deps) {
    const expired: string[] = [];
    for (const approval of await deps.store.forExecution(executionArn)) {
      if (approval.status === 'expired') continue;
      const next = await deps.approvals.expire(approval.approvalId, deps.now());
      if (next?.status !== 'expired') continue;
      expired.push(approval.approvalId);
      await deps.audit.append({
        kind: input.kind,
        executionArn,
        action: 'approval.expired',
        actor: SYSTEM_ACTOR,
        outcome: 'expired',
        detail: { approvalId: approval.approvalId },
      });
    }
    return { expired };
  },
};
