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
  card(input): CardContent {
    const { rollback, plan } = input;
    const moves = plan?.moves ?? [];
    const plural = moves.length === 1 ? 'function' : 'functions';
    return {
      title: `Roll back ${rollback.environment}: ${moves.length} ${plural}`,
      summary: `${input.requester.name} asks to point ${moves.length} ${plural} in ${rollback.environment} back to the versions they had before deployment ${rollback.deployId}.`,
      fields: [
        { label: 'Environment', value: rollback.environment },
        { label: 'Deployment', value: rollback.deployId },
        ...(plan ? [{ label: 'Deployed by', value: `${plan.deployedBy} at ${plan.deployedAt}` }] : []),
        ...moveFields(moves),
      ],
      links: [],
    };
  },
};
