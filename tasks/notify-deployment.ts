import { z } from 'zod';
import type { Notice } from '../core/chat.ts';
import { isWorkflowEnabled } from '../core/config.ts';
import { intentKeyOf } from '../core/ids.ts';
import { sentences, type Translate, translator } from '../core/messages/index.ts';
import { ApprovalOutcomeSchema, WorkflowEnvelope } from '../core/workflow.ts';
import { AliasPlan, DeployRequest } from '../workflows/deploy.ts';
import { RollbackRequest } from '../workflows/rollback.ts';
import { CaughtError, errorText, RestoreReport, restoreText } from './deploy-deps.ts';
import type { Task } from './deps.ts';
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
    const text = (t: Translate) => describe(event, input, t);
    const offer = event === 'deployed' && input.deploy && isWorkflowEnabled(deps.config, 'rollback');
    await tellRequester(deps, {
      kind: input.kind,
      executionArn,
      requester: input.requester,
      event,
      text,
      ...(offer && input.deploy ? { choices: rollbackChoice(input.deploy.id) } : {}),
    });
    return { text: text(translator('en')) };
  },
};

/**
 * The deploy's result offers "Roll back" (in the requester's language): the `rollback <deploy
 * id>` command, under policies.rollback, keyed by the deployment so a double tap (or a tap on a
 * resent copy) starts one rollback. None while the rollback workflow is not set up.
 */
function rollbackChoice(deployId: string): (t: Translate) => NonNullable<Notice['choices']> {
  return (t) => [
    { label: t('rollBack'), command: `rollback ${deployId}`, key: intentKeyOf('rollback', deployId) },
  ];
}

function describe(
  event: NotifyDeploymentInput['event'],
  input: NotifyDeploymentInput['input'],
  t: Translate,
): string {
  const what = subjectOf(input, t);
  const by = input.outcome?.approvers.map((a) => a.name).join(', ') || t('nobody');
  const reason = input.outcome?.comment;
  const plan = input.deploy ? input.diff : input.plan;
  const changes = (plan?.moves ?? [])
    .map((m) => `${m.functionName} ${m.fromVersion} → ${m.toVersion}`)
    .join(', ');
  switch (event) {
    case 'nothing': {
      if (!input.deploy) return t('rollbackNothing', { what });
      const { environment: env, source } = input.deploy;
      const skipped = input.diff?.skipped.map((s) => `${s.functionName} (${s.reason})`).join('; ');
      return sentences(t.language, [
        t('deployNothing', { env, source }),
        skipped ? t('deploySkipped', { list: skipped }) : undefined,
      ]);
    }
    case 'deployed':
    case 'rolled-back':
      return t('deployDone', { what, by, changes });
    case 'rejected':
      return reason ? t('endRejectedReason', { what, by, reason }) : t('endRejected', { what, by });
    case 'cancelled':
      return reason ? t('endCancelledReason', { what, reason }) : t('endCancelled', { what });
    case 'expired':
      return t('endExpired', { what });
    case 'failed': {
      // The aliases moved and nothing undid them: only recording (or marking) failed afterwards.
      const movedOnly = input.promotion && !input.restore && !input.restoreError;
      return sentences(t.language, [
        t('endFailedBecause', { what, error: '', cause: errorText(input.error) }),
        restoreText(input.restore, input.restoreError, t),
        movedOnly ? t('deployMovedUnrecorded', { changes }) : undefined,
      ]);
    }
  }
}

function subjectOf(input: NotifyDeploymentInput['input'], t: Translate): string {
  if (input.deploy)
    return t('subjectDeploy', {
      id: input.deploy.id,
      source: input.deploy.source,
      env: input.deploy.environment,
    });
  if (input.rollback)
    return t('subjectRollback', { id: input.rollback.deployId, env: input.rollback.environment });
  return t('subjectYourRequest', { kind: t(input.kind === 'rollback' ? 'kindRollback' : 'kindDeploy') });
}
