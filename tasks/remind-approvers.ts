import { z } from 'zod';
import type { ReminderStep } from '../core/approvals/reminders.ts';
import type { Task } from './deps.ts';

const Step = z.object({
  waitSeconds: z.number().int().min(0),
  action: z.enum(['remind', 'escalate']),
  index: z.number().int().min(0),
});

export const RemindApproversInput = z.object({
  executionArn: z.string().min(1),
  input: z.object({ approvalId: z.string().min(1).max(64), steps: z.array(Step).min(1).max(11) }),
});

/**
 * One step of the reminder machine (workflows/reminders.asl.json): act on the first step, and
 * return the rest, or none once the approval is no longer pending (the machine then ends).
 */
export const remindApprovers: Task<
  z.infer<typeof RemindApproversInput>,
  { approvalId: string; steps: ReminderStep[] }
> = {
  name: 'remind-approvers',
  input: RemindApproversInput,
  async run({ input }, deps) {
    const [step, ...rest] = input.steps as [ReminderStep, ...ReminderStep[]];
    const pending = await deps.signoff.runReminder(input.approvalId, step);
    deps.log('reminder step', { approvalId: input.approvalId, action: step.action, pending });
    return { approvalId: input.approvalId, steps: pending ? rest : [] };
  },
};
