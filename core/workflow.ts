import { z } from 'zod';
import type { CardContent } from './approvals/types.ts';
import { PLATFORMS, WORKFLOW_KINDS, type WorkflowKind } from './config.ts';
import type { Translate } from './messages/index.ts';

/** Signoff itself, as the actor of what it does on its own (expiry, cancellation it observed). */
export const SYSTEM_ACTOR = { platform: 'system', id: 'signoff', name: 'Signoff' } as const;

export const ActorSchema = z.object({
  platform: z.enum(PLATFORMS),
  id: z.string().min(1).max(256),
  name: z.string().min(1).max(256),
  user: z.string().min(1).max(64).optional(),
});

/**
 * What every workflow input carries, whatever its kind: who asked and how the approval is
 * scoped. The trigger fills it in; `request-approval` reads it.
 */
export const WorkflowEnvelope = z.object({
  kind: z.enum(WORKFLOW_KINDS),
  requester: ActorSchema,
  approval: z.object({
    /** Environment or project the policy is chosen for. */
    scope: z.string().max(256).optional(),
    /** What the request is about; a later event about the same subject can cancel it. */
    subject: z.string().max(256).optional(),
    timeoutSeconds: z.number().int().min(1),
    /** Whose policy decides, when not the kind's own (a release's rollback: `rollback`). */
    policyKind: z.enum(WORKFLOW_KINDS).optional(),
    /** People besides the requester who may not approve, and why (set by a prepare task). */
    excluded: z
      .array(
        z.object({
          user: z.string().min(1).max(64),
          name: z.string().min(1).max(256),
          because: z.string().min(1).max(256),
        }),
      )
      .max(100)
      .optional(),
  }),
});
export type WorkflowEnvelope = z.infer<typeof WorkflowEnvelope>;

/**
 * A workflow kind's own code: its input schema and what its approval card shows, in the
 * language of `t` (request-approval writes it in each language; core/messages/workflows.ts).
 *
 * @example export const mergeRequestWorkflow: WorkflowModule<MergeRequestInput> = { kind: 'merge-request', input, card }
 */
export interface WorkflowModule<Input extends WorkflowEnvelope = WorkflowEnvelope> {
  kind: WorkflowKind;
  input: z.ZodType<Input>;
  card(input: Input, t: Translate): CardContent;
}

/**
 * What a RequestApproval state returns (the SendTaskSuccess output, `ApprovalOutcome`), as
 * the tasks after it read it from `$.outcome`. One schema for every task that does.
 */
export const ApprovalOutcomeSchema = z.object({
  approvalId: z.string().optional(),
  decision: z.enum(['approve', 'reject', 'cancelled']),
  approvers: z
    .array(z.object({ user: z.string(), name: z.string(), platform: z.enum(PLATFORMS) }))
    .default([]),
  comment: z.string().optional(),
  decidedAt: z.string().optional(),
});
