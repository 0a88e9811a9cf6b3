import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { DEFAULT_CONFIG_INPUT, parseConfig } from '../../core/config.ts';
import { createDeploymentStore, type Deployment, DeploymentStateError } from '../../core/deployments.ts';
import { AliasChangedError, createLambdaClient } from '../../integrations/lambda.ts';
import { type LambdaFake, startLambdaFake } from '../../local/demo/lambda.ts';
import type { TaskDeps } from '../../tasks/deps.ts';
import { diffAliases } from '../../tasks/diff-aliases.ts';
import { loadDeployment } from '../../tasks/load-deployment.ts';
import { promoteAliases } from '../../tasks/promote-aliases.ts';
import { restoreAliases } from '../../tasks/restore-aliases.ts';
import type { AliasMove, DeployInput } from '../../workflows/deploy.ts';
import type { RollbackInput } from '../../workflows/rollback.ts';
import { grantApproval } from '../support/approvals.ts';
import { startTestDynamo, type TestDynamo } from '../support/dynamo.ts';
import { taskDepsOn } from '../support/task-deps.ts';

const EXECUTION = 'arn:aws:states:us-east-1:123456789012:execution:signoff-deploy:deploy-test-1';
const REQUESTER = { platform: 'console' as const, id: 'alice', name: 'Alice', user: 'alice' };

let fake: LambdaFake;
let dynamo: TestDynamo;
let deps: TaskDeps;

beforeEach(async () => {
  fake = await startLambdaFake({
    functions: [
      { name: 'app-a', versions: ['1', '2'], aliases: { dev: '2', test: '1' } },
      { name: 'app-b', versions: ['1', '2', '3'], aliases: { dev: '3', test: '2' } },
      { name: 'app-c', versions: ['1'], aliases: { dev: '$LATEST', test: '1' } },
      { name: 'app-d', versions: ['1'], aliases: { dev: '1' } },
    ],
  });
  dynamo = await startTestDynamo();
  const config = parseConfig({
    ...DEFAULT_CONFIG_INPUT,
    deploy: { environments: ['dev', 'test'], functions: { prefix: 'app-' } },
  });
  deps = taskDepsOn(dynamo, {
    config,
    deployments: createDeploymentStore(dynamo.client, dynamo.tableName),
    lambda: createLambdaClient({
      region: 'us-east-1',
      endpoint: fake.url,
      credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
      maxAttempts: 1,
    }),
  });
  // Promoting re-checks the approval (tasks/grant.ts): this execution's was granted.
  await grantApproval(deps.store, EXECUTION);
});

afterEach(async () => {
  await fake.close();
  await dynamo.close();
});

function revision(fn: string, alias: string): string {
  return fake.fn(fn)?.aliases.get(alias)?.revisionId ?? '';
}

function moves(): AliasMove[] {
  return [
    {
      functionName: 'app-a',
      alias: 'test',
      fromVersion: '1',
      toVersion: '2',
      revisionId: revision('app-a', 'test'),
    },
    {
      functionName: 'app-b',
      alias: 'test',
      fromVersion: '2',
      toVersion: '3',
      revisionId: revision('app-b', 'test'),
    },
  ];
}

const updates = () => fake.requests.filter((r) => r.action === 'UpdateAlias');

describe('diff-aliases', () => {
  it('lists moves with the target RevisionId, and says why functions were left out', async () => {
    const input: DeployInput = {
      kind: 'deploy',
      requester: REQUESTER,
      approval: { scope: 'test', timeoutSeconds: 60 },
      deploy: { id: 'deploy-test-1', environment: 'test', source: 'dev' },
    };
    const plan = await diffAliases.run({ executionArn: EXECUTION, input }, deps);
    expect(plan.moves).toEqual(moves());
    expect(plan.count).toBe(2);
    expect(plan.skipped).toEqual([
      { functionName: 'app-c', reason: 'dev points at $LATEST, not a published version' },
      { functionName: 'app-d', reason: 'no test alias' },
    ]);
    expect(updates()).toHaveLength(0);
  });
});

describe('promote-aliases', () => {
  it('moves each alias once: a repeated run (after a crash) moves nothing again', async () => {
    const planned = moves();
    const first = await promoteAliases.run({ executionArn: EXECUTION, kind: 'deploy', moves: planned }, deps);
    expect(first.moved.map((m) => `${m.functionName}→${m.version}`)).toEqual(['app-a→2', 'app-b→3']);
    const again = await promoteAliases.run({ executionArn: EXECUTION, kind: 'deploy', moves: planned }, deps);
    expect(again).toEqual({ moved: [], alreadyThere: ['app-a:test', 'app-b:test'] });
    expect(updates()).toHaveLength(2);
  });

  it('counts an alias as moved when its answer was lost and the SDK retry was refused as stale', async () => {
    // The runtime's client retries (SDK default 3 attempts): the first UpdateAlias lands, its
    // answer is lost (502), and the retry carries the RevisionId the first one just replaced.
    const retrying = createLambdaClient({
      region: 'us-east-1',
      endpoint: fake.url,
      credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
      maxAttempts: 3,
    });
    fake.failNext(1, 'lost-response', 'UpdateAlias');
    const out = await promoteAliases.run({ executionArn: EXECUTION, kind: 'deploy', moves: moves() }, {
      ...deps,
      lambda: retrying,
    } as TaskDeps);
    expect(out.moved.map((m) => `${m.functionName}→${m.version}`)).toEqual(['app-a→2', 'app-b→3']);
    expect(out.moved[0]?.revisionId).toBe(revision('app-a', 'test'));
    // Two UpdateAlias calls for app-a (the lost one and the refused retry), one for app-b.
    expect(updates()).toHaveLength(3);
  });

  it('refuses an alias changed since it was read, naming what had already moved; restore puts those back', async () => {
    const planned = moves();
    fake.setAlias('app-b', 'test', '1');
    const error = await promoteAliases
      .run({ executionArn: EXECUTION, kind: 'deploy', moves: planned }, deps)
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(AliasChangedError);
    expect((error as Error).message).toBe(
      'The test alias of app-b changed after it was read for the approval (it points at version 1, expected 2); it was not overwritten. Already moved: app-a to 2.',
    );
    expect(fake.aliasVersion('app-a', 'test')).toBe('2');

    const restored = await restoreAliases.run(
      { executionArn: EXECUTION, kind: 'deploy', moves: planned },
      deps,
    );
    expect(restored).toEqual({ restored: ['app-a:test→1'], untouched: [], leftAlone: ['app-b:test at 1'] });
    expect(fake.aliasVersion('app-a', 'test')).toBe('1');
    expect(fake.aliasVersion('app-b', 'test')).toBe('1');

    const count = updates().length;
    const again = await restoreAliases.run({ executionArn: EXECUTION, kind: 'deploy', moves: planned }, deps);
    expect(again.restored).toEqual([]);
    expect(again.untouched).toEqual(['app-a:test']);
    expect(updates()).toHaveLength(count);
  });
});

describe('load-deployment', () => {
  const deployment: Deployment = {
    deployId: 'deploy-test-1',
    environment: 'test',
    source: 'dev',
    functions: [
      { functionName: 'app-a', alias: 'test', fromVersion: '1', toVersion: '2' },
      { functionName: 'app-b', alias: 'test', fromVersion: '2', toVersion: '3' },
    ],
    requester: REQUESTER,
    approvers: [{ user: 'bob', name: 'Bob', platform: 'console' }],
    executionArn: EXECUTION,
    requestedAt: '2025-05-01T10:00:00.000Z',
    approvedAt: '2025-05-01T10:05:00.000Z',
    finishedAt: '2025-05-01T10:05:01.000Z',
    status: 'deployed',
  };
  const input: RollbackInput = {
    kind: 'rollback',
    requester: REQUESTER,
    approval: { scope: 'test', timeoutSeconds: 60 },
    rollback: { deployId: 'deploy-test-1', environment: 'test' },
  };

  it('plans each alias back to its origin version, guarded by the RevisionId read now', async () => {
    await promoteAliases.run({ executionArn: EXECUTION, kind: 'deploy', moves: moves() }, deps);
    await deps.deployments?.record(deployment);
    const plan = await loadDeployment.run({ executionArn: EXECUTION, input }, deps);
    expect(plan.moves).toEqual([
      {
        functionName: 'app-a',
        alias: 'test',
        fromVersion: '2',
        toVersion: '1',
        revisionId: revision('app-a', 'test'),
      },
      {
        functionName: 'app-b',
        alias: 'test',
        fromVersion: '3',
        toVersion: '2',
        revisionId: revision('app-b', 'test'),
      },
    ]);
    expect(plan).toMatchObject({ count: 2, deployedBy: 'Alice', deployedAt: deployment.finishedAt });
  });

  it('refuses a deployment whose aliases changed since, an unknown one and a rolled-back one', async () => {
    await promoteAliases.run({ executionArn: EXECUTION, kind: 'deploy', moves: moves() }, deps);
    await deps.deployments?.record(deployment);
    fake.setAlias('app-b', 'test', '1');
    const drifted = await loadDeployment
      .run({ executionArn: EXECUTION, input }, deps)
      .catch((e: unknown) => e);
    expect(drifted).toBeInstanceOf(DeploymentStateError);
    expect((drifted as Error).message).toContain('app-b:test points at 1, not 3');

    const unknown = { ...input, rollback: { deployId: 'deploy-test-x', environment: 'test' } };
    await expect(loadDeployment.run({ executionArn: EXECUTION, input: unknown }, deps)).rejects.toThrow(
      'There is no deployment deploy-test-x.',
    );
    await deps.deployments?.markRolledBack('deploy-test-1', {
      executionArn: 'arn:rb',
      requester: { ...REQUESTER, name: 'Carol' },
      approvers: [],
      at: '2025-05-02T00:00:00.000Z',
    });
    await expect(loadDeployment.run({ executionArn: EXECUTION, input }, deps)).rejects.toThrow(
      'Deployment deploy-test-1 was already rolled back by Carol.',
    );
  });
});
