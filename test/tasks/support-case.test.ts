import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createApprovalStore } from '../../core/approvals/store.ts';
import { createSupportCaseStore, type SupportCaseStore } from '../../core/support-cases.ts';
import { createSupportClient } from '../../integrations/support.ts';
import { type SupportFake, startSupportFake } from '../../local/demo/support.ts';
import type { TaskDeps } from '../../tasks/deps.ts';
import { supportCaseTask } from '../../tasks/support-case.ts';
import type { SupportCaseInput } from '../../workflows/support-case.ts';
import { grantApproval, supportCaseInput } from '../support/approvals.ts';
import { startTestDynamo, type TestDynamo } from '../support/dynamo.ts';
import { taskDepsOn } from '../support/task-deps.ts';

const EXECUTION = 'arn:aws:states:us-east-1:123456789012:execution:signoff-support-case:case-evt-1';

let dynamo: TestDynamo;
let fake: SupportFake;
let api: ReturnType<typeof createSupportClient>;
beforeEach(async () => {
  dynamo = await startTestDynamo();
  fake = await startSupportFake();
  api = createSupportClient({ endpoint: fake.url, credentials: { accessKeyId: 't', secretAccessKey: 't' } });
  // Creating a case re-checks the approval (tasks/grant.ts): this execution's was granted.
  await grantApproval(createApprovalStore(dynamo.client, dynamo.tableName), EXECUTION, 'support-case');
});
afterEach(async () => {
  api.destroy();
  await fake.close();
  await dynamo.close();
});

function depsWith(cases: SupportCaseStore): TaskDeps {
  return taskDepsOn(dynamo, { support: { api, cases } });
}

function approvedInput(): SupportCaseInput & {
  outcome: { decision: 'approve'; approvers: Array<{ user: string; name: string; platform: 'console' }> };
} {
  const input = supportCaseInput('evt-1');
  return {
    ...input,
    outcome: { decision: 'approve', approvers: [{ user: 'bob', name: 'Bob', platform: 'console' }] },
  };
}

function create(deps: TaskDeps) {
  return supportCaseTask.run(
    supportCaseTask.input.parse({ action: 'create', executionArn: EXECUTION, input: approvedInput() }),
    deps,
  );
}

describe('support-case task: create', () => {
  it('opens one case, and a repeat returns it without a second CreateCase', async () => {
    const deps = depsWith(createSupportCaseStore(dynamo.client, dynamo.tableName));
    const first = await create(deps);
    expect(first).toMatchObject({ alreadyCreated: false, caseId: expect.stringMatching(/^case-/) });
    const second = await create(deps);
    expect(second).toEqual({ ...first, alreadyCreated: true });
    expect(fake.calls('CreateCase')).toHaveLength(1);
  });

  it('finds the case a crashed attempt opened (CreateCase done, id not recorded) instead of opening another', async () => {
    const store = createSupportCaseStore(dynamo.client, dynamo.tableName);
    let crash = true;
    const crashing: SupportCaseStore = {
      ...store,
      async opened(...args) {
        if (crash) {
          crash = false;
          throw new Error('process killed');
        }
        return store.opened(...args);
      },
    };
    await expect(create(depsWith(crashing))).rejects.toThrow('process killed');
    expect(fake.cases.size).toBe(1);
    expect((await store.get('case-evt-1'))?.status).toBe('creating');

    const again = await create(depsWith(store));
    const opened = [...fake.cases.values()][0];
    expect(again).toMatchObject({
      caseId: opened?.caseId,
      displayId: opened?.displayId,
      alreadyCreated: true,
    });
    expect(fake.calls('CreateCase')).toHaveLength(1);
    expect(await store.find(opened?.displayId ?? '')).toMatchObject({ status: 'opened', user: 'alice' });
  });

  it('opens the case on the retry after a throttled CreateCase (nothing was opened the first time)', async () => {
    const deps = depsWith(createSupportCaseStore(dynamo.client, dynamo.tableName));
    fake.failNext(1, 'ThrottlingException', 'CreateCase');
    await expect(create(deps)).rejects.toMatchObject({ name: 'SupportThrottlingError' });
    const retried = await create(deps);
    expect(retried).toMatchObject({ alreadyCreated: false });
    expect(fake.cases.size).toBe(1);
    expect(fake.calls('CreateCase')).toHaveLength(2);
  });
});
