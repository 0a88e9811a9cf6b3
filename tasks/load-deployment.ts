import { z } from 'zod';
import { DeploymentStateError } from '../core/deployments.ts';
import type { AliasMove } from '../workflows/deploy.ts';
import { RollbackInput } from '../workflows/rollback.ts';
import { deploymentsOf, lambdaOf } from './deploy-deps.ts';
import type { Task } from './deps.ts';

export const LoadDeploymentInput = z.object({
  executionArn: z.string().min(1),
  input: RollbackInput,
});

type RollbackPlan = NonNullable<RollbackInput['plan']>;

/**
 * Read the deployment to roll back and turn it into moves: each alias from the version the
 * deployment set back to its origin version, guarded by the RevisionId read now (before the
 * approval). Refuses a deployment that is unknown, failed or already rolled back, and one
 * whose aliases were changed since (a rollback would silently undo someone else's change).
 */
export const loadDeployment: Task<z.infer<typeof LoadDeploymentInput>, RollbackPlan> = {
  name: 'load-deployment',
  input: LoadDeploymentInput,
  async run({ input }, deps) {
    const lambda = lambdaOf(deps);
    const { deployId } = input.rollback;
    const deployment = await deploymentsOf(deps).get(deployId);
    if (!deployment) throw new DeploymentStateError(`There is no deployment ${deployId}.`);
    if (deployment.status === 'rolled-back') {
      const by = deployment.rollback?.requester.name ?? 'someone';
      throw new DeploymentStateError(`Deployment ${deployId} was already rolled back by ${by}.`);
    }
    if (deployment.status !== 'deployed')
      throw new DeploymentStateError(`Deployment ${deployId} failed; there is nothing to roll back.`);

    const moves: AliasMove[] = [];
    const unchanged: string[] = [];
    const changed: string[] = [];
    for (const f of deployment.functions) {
      const current = await lambda.getAlias(f.functionName, f.alias);
      if (!current) {
        changed.push(`${f.functionName}:${f.alias} no longer exists`);
      } else if (current.functionVersion === f.fromVersion) {
        unchanged.push(f.functionName);
      } else if (current.functionVersion !== f.toVersion) {
        changed.push(`${f.functionName}:${f.alias} points at ${current.functionVersion}, not ${f.toVersion}`);
      } else {
        moves.push({
          functionName: f.functionName,
          alias: f.alias,
          fromVersion: f.toVersion,
          toVersion: f.fromVersion,
          revisionId: current.revisionId,
        });
      }
    }
    if (changed.length > 0) {
      throw new DeploymentStateError(
        `Deployment ${deployId} cannot be rolled back: its aliases changed since (${changed.join('; ')}). Rolling back would undo those changes; deploy or fix them by hand.`,
      );
    }
    return {
      moves,
      count: moves.length,
      skipped: [],
      unchanged,
      checkedAt: deps.now().toISOString(),
      deployedBy: deployment.requester.name,
      deployedAt: deployment.finishedAt,
    };
  },
};
