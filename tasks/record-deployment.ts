import { z } from 'zod';
import type { Deployment } from '../core/deployments.ts';
import { sentences } from '../core/messages/index.ts';
import { ApprovalOutcomeSchema, SYSTEM_ACTOR } from '../core/workflow.ts';
import { DeployInput } from '../workflows/deploy.ts';
import { RollbackInput } from '../workflows/rollback.ts';
import { CaughtError, deploymentsOf, errorText, RestoreReport, restoreText } from './deploy-deps.ts';
import type { Task } from './deps.ts';

const Outcome = ApprovalOutcomeSchema;

const DeployState = DeployInput.extend({
  outcome: Outcome,
  error: CaughtError.optional(),
  restore: RestoreReport.optional(),
  restoreError: CaughtError.optional(),
});

export const RecordDeploymentInput = z.discriminatedUnion('status', [
  z.object({
    status: z.literal('deployed'),
    executionArn: z.string().min(1),
    startedAt: z.string(),
    input: DeployState,
  }),
  z.object({
    status: z.literal('failed'),
    executionArn: z.string().min(1),
    startedAt: z.string(),
    input: DeployState,
  }),
  z.object({
    status: z.literal('rolled-back'),
    executionArn: z.string().min(1),
    input: RollbackInput.extend({ outcome: Outcome }),
  }),
]);

export type RecordDeploymentOutput = { deployId: string; status: Deployment['status']; recorded: boolean };

/**
 * Write the deployment record once the promotion ended (deployed, or failed and restored), or
 * mark a deployment rolled back. Written with "only if absent" / "only while deployed", so a
 * repeated run changes nothing.
 */
export const recordDeployment: Task<z.infer<typeof RecordDeploymentInput>, RecordDeploymentOutput> = {
  name: 'record-deployment',
  input: RecordDeploymentInput,
  async run(request, deps) {
    const deployments = deploymentsOf(deps);
    if (request.status === 'rolled-back') {
      const { input, executionArn } = request;
      const marked = await deployments.markRolledBack(input.rollback.deployId, {
        executionArn,
        requester: input.requester,
        approvers: input.outcome.approvers,
        at: deps.now().toISOString(),
      });
      await deps.audit.append({
        kind: 'rollback',
        executionArn,
        action: 'deployment.rolled-back',
        actor: SYSTEM_ACTOR,
        outcome: marked ? 'rolled-back' : 'already-rolled-back',
        detail: { deployId: input.rollback.deployId, environment: input.rollback.environment },
      });
      return { deployId: input.rollback.deployId, status: 'rolled-back', recorded: marked };
    }

    const { input, executionArn, status, startedAt } = request;
    const moves = input.diff?.moves ?? [];
    const deployment: Deployment = {
      deployId: input.deploy.id,
      environment: input.deploy.environment,
      source: input.deploy.source,
      functions: moves.map((m) => ({
        functionName: m.functionName,
        alias: m.alias,
        fromVersion: m.fromVersion,
        toVersion: m.toVersion,
      })),
      requester: input.requester,
      approvers: input.outcome.approvers,
      executionArn,
      requestedAt: startedAt,
      ...(input.outcome.decidedAt ? { approvedAt: input.outcome.decidedAt } : {}),
      finishedAt: deps.now().toISOString(),
      status,
      ...(status === 'failed'
        ? { error: sentences('en', [errorText(input.error), restoreText(input.restore, input.restoreError)]) }
        : {}),
    };
    const { deployment: stored, created } = await deployments.record(deployment);
    await deps.audit.append({
      kind: 'deploy',
      executionArn,
      action: 'deployment.recorded',
      actor: SYSTEM_ACTOR,
      outcome: stored.status,
      detail: {
        deployId: stored.deployId,
        environment: stored.environment,
        functions: stored.functions
          .map((f) => `${f.functionName} ${f.fromVersion}→${f.toVersion}`)
          .join(', '),
      },
    });
    deps.log('deployment recorded', { deployId: stored.deployId, status: stored.status, created });
    return { deployId: stored.deployId, status: stored.status, recorded: created };
  },
};
