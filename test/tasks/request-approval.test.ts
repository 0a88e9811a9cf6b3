import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ApprovalChannel } from '../../core/approvals/service.ts';
import { createApprovalStore } from '../../core/approvals/store.ts';
import type { Actor, Approval, MessageRef } from '../../core/approvals/types.ts';
import { createAuditLog } from '../../core/audit.ts';
import { DEFAULT_CONFIG_INPUT, parseConfig } from '../../core/config.ts';
import type { EngineClient } from '../../core/engine.ts';
import { randomId } from '../../core/ids.ts';
import type { TaskDeps } from '../../tasks/deps.ts';
import { requestApproval } from '../../tasks/request-approval.ts';
import { supportCaseInput } from '../support/approvals.ts';
import { startTestDynamo, type TestDynamo } from '../support/dynamo.ts';
import { taskDepsOn } from '../support/task-deps.ts';

let dynamo: TestDynamo;
beforeAll(async () => {
  dynamo = await startTestDynamo();
});
afterAll(async () => {
  await dynamo.close();
});

const config = parseConfig(DEFAULT_CONFIG_INPUT);
const bobOnLine: Actor = { platform: 'line', id: 'U_bob', name: 'Bob', user: 'bob' };
const cardFor = (user: string): MessageRef => ({
  platform: 'line',
  id: `m-${user}`,
  to: `U_${user}`,
  recipient: `user:${user}`,
});

/**
 * Everything request-approval needs over the embedded DynamoDB, with one LINE-like channel:
 * its send() runs `whileSending` after the platform has the cards and before they are recorded,
 * which is where a quick approver's click can land.
 */
function world(whileSending: (deps: TaskDeps, approval: Approval) => Promise<void>) {
  const store = createApprovalStore(dynamo.client, dynamo.tableName);
  const _audit = createAuditLog(dynamo.client, dynamo.tableName);
  const resumed: string[] = [];
  const engine = {
    async succeed(taskToken: string) {
      resumed.push(taskToken);
      return 'delivered' as const;
    },
  } as unknown as EngineClient;
  const updates: Array<{ to: string | undefined; status: Approval['status'] }> = [];
  const channels: ApprovalChannel[] = [];
  const deps = taskDepsOn(dynamo, { config, engine, channels });
  channels.push({
    platform: 'line',
    async send(approval) {
      await whileSending(deps, approval);
      return { sent: [cardFor('bob'), cardFor('carol')], undelivered: [] };
    },
    async update(approval, ref) {
      updates.push({ to: ref.to, status: approval.status });
    },
    async notify() {
      return false;
    },
  });
  return { deps, store, updates, resumed };
}

async function request(deps: TaskDeps): Promise<string> {
  const { approvalId } = await requestApproval.run(
    requestApproval.input.parse({
      taskToken: `token-${randomId()}`,
      executionArn: `arn:aws:states:us-east-1:123456789012:execution:signoff-support-case:${randomId()}`,
      input: supportCaseInput(`evt-${randomId()}`),
    }),
    deps,
  );
  return approvalId;
}

describe('request-approval', () => {
  it('shows the outcome on cards a click overtook: decided before they were recorded, they are updated once', async () => {
    const { deps, store, updates, resumed } = world(async ({ approvals }, approval) => {
      const click = await approvals.decide(
        { approvalId: approval.approvalId, actor: bobOnLine, decision: 'approve', now: new Date() },
        { answered: { platform: 'line', id: 'reply', to: bobOnLine.id } },
      );
      expect(click.outcome).toBe('completed');
    });
    const approvalId = await request(deps);

    expect(resumed).toHaveLength(1);
    // Bob was answered in his chat by the click; Carol's card would otherwise still say pending.
    expect(updates).toEqual([{ to: 'U_carol', status: 'approved' }]);
    expect((await store.get(approvalId))?.cards).toEqual([cardFor('bob'), cardFor('carol')]);
  });

  it('shows a cancellation that overtook the cards on every one of them (nobody was answered)', async () => {
    const { deps, updates } = world(async ({ approvals }, approval) => {
      const alice: Actor = { platform: 'console', id: 'alice', name: 'Alice', user: 'alice' };
      expect(await approvals.cancel(approval.approvalId, 'withdrawn', alice, new Date())).toBeDefined();
    });
    await request(deps);
    expect(updates).toEqual([
      { to: 'U_bob', status: 'cancelled' },
      { to: 'U_carol', status: 'cancelled' },
    ]);
  });

  it('leaves cards alone when nothing happened while they were sent', async () => {
    const { deps, updates } = world(async () => {});
    await request(deps);
    expect(updates).toEqual([]);
  });
});
