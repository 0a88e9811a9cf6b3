import { z } from 'zod';
import type { Actor, CardContent } from '../core/approvals/types.ts';
import { type Config, policyFor } from '../core/config.ts';
import type { Deployment } from '../core/deployments.ts';
import { executionName, shortHash } from '../core/ids.ts';
import { WorkflowEnvelope, type WorkflowModule } from '../core/workflow.ts';
import { AliasPlan, moveFields } from './deploy.ts';

export const RollbackRequest = z.object({
  /** The deployment to roll back. */
  deployId: z.string().regex(/^[A-Za-z0-9_-]{1,80}$/),
  environment: z.string().regex(/^[A-Za-z0-9_-]{1,64}$/),
});

export const RollbackInput = WorkflowEnvelope.extend({
  kind: z.literal('rollback'),
  rollback: RollbackRequest,
  /** Set by LoadDeployment: each alias back from the deployed version to its origin version. */
  plan: AliasPlan.extend({
    deployedBy: z.string(),
    deployedAt: z.string(),
  }).optional(),
});
export type RollbackInput = z.infer<typeof RollbackInput>;

/**
 * A request to roll back a deployment as the workflow input; the execution name comes from
 * the triggering event and the deployment, so a redelivered click starts nothing new.
 */
export function rollbackTrigger(
  config: Config,
  requester: Actor,
  deployment: Pick<Deployment, 'deployId' | 'environment'>,
  eventId: string,
): { name: string; input: RollbackInput } {
  const policy = policyFor(config, 'rollback', deployment.environment);
  return {
    name: executionName(
      'rollback',
      deployment.environment,
      shortHash(`${deployment.deployId}:${eventId}`, 16),
    ),
    input: {
      kind: 'rollback',
      requester,
      approval: { scope: deployment.environment, timeoutSeconds: policy.timeoutSeconds },
      rollback: { deployId: deployment.deployId, environment: deployment.environment },
    },
  };
}

export const rollbackWorkflow: WorkflowModule<RollbackInput> = {
  kind: 'rollback',
  input: RollbackInput,
  card(input, t): CardContent {
    const { rollback, plan } = input;
    const moves = plan?.moves ?? [];
    const one = moves.length === 1;
    const vars = {
      env: rollback.environment,
      n: moves.length,
      who: input.requester.name,
      deploy: rollback.deployId,
    };
    return {
      title: t(one ? 'rollbackTitleOne' : 'rollbackTitle', vars),
      summary: t(one ? 'rollbackSummaryOne' : 'rollbackSummary', vars),
      fields: [
        { label: t('fieldEnvironment'), value: rollback.environment },
        { label: t('fieldDeployment'), value: rollback.deployId },
        ...(plan
          ? [
              {
                label: t('fieldDeployedBy'),
                value: t('deployedByAt', { by: plan.deployedBy, at: plan.deployedAt }),
              },
            ]
          : []),
        ...moveFields(moves),
      ],
      links: [],
    };
  },
};
