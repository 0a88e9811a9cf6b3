import { z } from 'zod';
import type { Notice } from '../core/chat.ts';
import { isWorkflowEnabled } from '../core/config.ts';
import { intentKeyOf } from '../core/ids.ts';
import { translate } from '../core/messages/index.ts';
import { ApprovalOutcomeSchema, WorkflowEnvelope } from '../core/workflow.ts';
import { AliasPlan, DeployRequest } from '../workflows/deploy.ts';
import { RollbackRequest } from '../workflows/rollback.ts';
import { CaughtError, errorText, RestoreReport, restoreText } from './deploy-deps.ts';
import type { Task, TaskDeps } from './deps.ts';
import { tellRequester } from './notify.ts';

export const DEPLOYMENT_EVENTS = [
  'nothing',
  'deployed',
  'rolled-back',
  'rejected',
  'cancelled',
  'expired',
  'failed',
] as const;

export const NotifyDeploymentInput = z.object({
  event: z.enum(DEPLOYMENT_EVENTS),
  executionArn: z.string().min(1),
  input: WorkflowEnvelope.extend({
    deploy: DeployRequest.optional(),
    rollback: RollbackRequest.optional(),
    diff: AliasPlan.optional(),
    plan: AliasPlan.optional(),
    outcome: ApprovalOutcomeSchema.optional(),
    error: CaughtError.optional(),
    restore: RestoreReport.optional(),
    restoreError: CaughtError.optional(),
    promotion: z
      .object({ moved: z.array(z.object({ functionName: z.string(), version: z.string() })) })
      .optional(),
  }),
});
type NotifyDeploymentInput = z.infer<typeof NotifyDeploymentInput>;

/** Tell the requester how their deploy or rollback ended, and record the end in the audit log. */
export const notifyDeployment: Task<NotifyDeploymentInput, { text: string }> = {
  name: 'notify-deployment',
  input: NotifyDeploymentInput,
  async run({ event, executionArn, input }, deps) {
    const text = describe(event, input);
    const choices = event === 'deployed' && input.deploy ? rollbackChoices(deps, input.deploy.id) : [];
    await tellRequester(deps, {
      kind: input.kind,
      executionArn,
      requester: input.requester,
      event,
      text,
      ...(choices.length ? { choices } : {}),
    });
    return { text };
  },
};

/**
 * The deploy's result offers "Roll back": the `rollback <deploy id>` command, under
 * policies.rollback, keyed by the deployment so a double tap (or a tap on a resent copy)
 * starts one rollback. None while the rollback workflow is not set up.
 */
function rollbackChoices(deps: TaskDeps, deployId: string): NonNullable<Notice['choices']> {
  if (!isWorkflowEnabled(deps.config, 'rollback')) return [];
  return [
    {
      label: translate('en', 'rollBack'),
      command: `rollback ${deployId}`,
      key: intentKeyOf('rollback', deployId),
    },
  ];
}

function describe(event: NotifyDeploymentInput['event'], input: NotifyDeploymentInput['input']): string {
  const what = subjectOf(input);
  const by = input.outcome?.approvers.map((a) => a.name).join(', ') || 'nobody';
  const comment = input.outcome?.comment;
  const plan = input.deploy ? input.diff : input.plan;
  const changes = (plan?.moves ?? [])
    .map((m) => `${m.functionName} ${m.fromVersion} → ${m.toVersion}`)
    .join(', ');
  switch (event) {
    case 'nothing': {
      const skipped = input.diff?.skipped.length
        ? ` Skipped: ${input.diff.skipped.map((s) => `${s.functionName} (${s.reason})`).join('; ')}.`
        : '';
      return input.deploy
        ? `Nothing to deploy to ${input.deploy.environment}: every function's ${input.deploy.environment} alias already points at the ${input.deploy.source} version.${skipped}`
        : `${what}: nothing to roll back, every alias already points at its version from before the deployment.`;
    }
    case 'deployed':
      return `${what} was approved by ${by} and done: ${changes}.`;
    case 'rolled-back':
      return `${what} was approved by ${by} and done: ${changes}.`;
    case 'rejected':
      return `${what} was rejected by ${by}${comment ? `: ${comment}` : '.'}`;
    case 'cancelled':
      return `${what} no longer waits for approval${comment ? `: ${comment}` : '.'}`;
    case 'expired':
      return `${what} expired: nobody decided in time.`;
    case 'failed': {
      // The aliases moved and nothing undid them: only recording (or marking) failed afterwards.
      const moved =
        input.promotion && !input.restore && !input.restoreError
          ? ` The aliases were moved (${changes}); only the record of it failed.`
          : '';
      return `${what} failed: ${errorText(input.error)}${restoreText(input.restore, input.restoreError)}${moved}`;
    }
  }
}

function subjectOf(input: NotifyDeploymentInput['input']): string {
  if (input.deploy) return `Deploy ${input.deploy.id} (${input.deploy.source} → ${input.deploy.environment})`;
  if (input.rollback) return `Rollback of ${input.rollback.deployId} in ${input.rollback.environment}`;
  return `Your ${input.kind} request`;
}
