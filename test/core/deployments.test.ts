import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createDeploymentStore, type Deployment, type DeploymentStore } from '../../core/deployments.ts';
import { startTestDynamo, type TestDynamo } from '../support/dynamo.ts';

let dynamo: TestDynamo;
let store: DeploymentStore;

beforeEach(async () => {
  dynamo = await startTestDynamo();
  store = createDeploymentStore(dynamo.client, dynamo.tableName);
});

afterEach(async () => {
  await dynamo.close();
});

function deployment(
  id: string,
  environment: string,
  finishedAt: string,
  status: Deployment['status'] = 'deployed',
): Deployment {
  return {
    deployId: id,
    environment,
    source: 'dev',
    functions: [{ functionName: 'orders', alias: environment, fromVersion: '1', toVersion: '2' }],
    requester: { platform: 'console', id: 'alice', name: 'Alice', user: 'alice' },
    approvers: [{ user: 'bob', name: 'Bob', platform: 'console' }],
    executionArn: `arn:aws:states:us-east-1:123456789012:execution:signoff-deploy:${id}`,
    requestedAt: finishedAt,
    finishedAt,
    status,
  };
}

describe('createDeploymentStore', () => {
  it('records a deployment once', async () => {
    const first = deployment('d1', 'test', '2025-05-01T10:00:00.000Z');
    expect((await store.record(first)).created).toBe(true);
    const again = await store.record({ ...first, status: 'failed' });
    expect(again).toEqual({ deployment: first, created: false });
    expect(await store.get('d1')).toEqual(first);
    expect(await store.get('nope')).toBeUndefined();
  });

  it('lists by environment and by status, newest first', async () => {
    await store.record(deployment('d1', 'test', '2025-05-01T10:00:00.000Z'));
    await store.record(deployment('d2', 'prod', '2025-05-02T10:00:00.000Z'));
    await store.record(deployment('d3', 'test', '2025-05-03T10:00:00.000Z', 'failed'));
    await store.record(deployment('d4', 'test', '2025-05-04T10:00:00.000Z'));
    expect((await store.forEnvironment('test')).map((d) => d.deployId)).toEqual(['d4', 'd3', 'd1']);
    expect((await store.withStatus('deployed')).map((d) => d.deployId)).toEqual(['d4', 'd2', 'd1']);
    expect((await store.withStatus('failed')).map((d) => d.deployId)).toEqual(['d3']);
  });

  it('marks a deployment rolled back once, and names the last one that moved aliases per environment', async () => {
    await store.record(deployment('d1', 'test', '2025-05-01T10:00:00.000Z'));
    await store.record(deployment('d2', 'test', '2025-05-02T10:00:00.000Z', 'failed'));
    const rollback = {
      executionArn: 'arn:rollback-1',
      requester: { platform: 'console' as const, id: 'carol', name: 'Carol', user: 'carol' },
      approvers: [{ user: 'bob', name: 'Bob', platform: 'console' as const }],
      at: '2025-05-03T00:00:00.000Z',
    };
    expect(await store.markRolledBack('d1', rollback)).toBe(true);
    expect(await store.markRolledBack('d1', rollback)).toBe(true);
    expect(await store.markRolledBack('d1', { ...rollback, executionArn: 'arn:rollback-2' })).toBe(false);
    expect(await store.markRolledBack('d2', rollback)).toBe(false);
    expect(await store.withStatus('deployed')).toEqual([]);
    expect((await store.withStatus('rolled-back')).map((d) => d.deployId)).toEqual(['d1']);

    const last = await store.lastPerEnvironment(['test', 'prod']);
    expect(last.test).toMatchObject({
      deployId: 'd1',
      status: 'rolled-back',
      rollback: { executionArn: 'arn:rollback-1' },
    });
    expect(last.prod).toBeUndefined();
  });
});
