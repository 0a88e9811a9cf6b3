import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { decide } from '../../../core/approvals/decide.ts';
import {
  type ApprovalChannel,
  type ApprovalService,
  createApprovalService,
  endRecords,
} from '../../../core/approvals/service.ts';
import { type ApprovalStore, createApprovalStore } from '../../../core/approvals/store.ts';
import type { Actor, Approval, MessageRef } from '../../../core/approvals/types.ts';
import { type AuditLog, createAuditLog } from '../../../core/audit.ts';
import type { DeliveryResult, EngineClient } from '../../../core/engine.ts';
import { alice, approvers, at, bob, carol, newApproval } from '../../support/approvals.ts';
import { startTestDynamo, type TestDynamo } from '../../support/dynamo.ts';

/** The engine as the service sees it: records succeed() calls and answers as told. */
function fakeEngine() {
  const calls: Array<{ taskToken: string; output: unknown }> = [];
  const state: { answer: DeliveryResult | 'outage' } = { answer: 'delivered' };
  const unused = () => {
    throw new Error('not used by the approval service');
  };
  const engine: EngineClient = {
    stateMachineArn: unused,
    executionArn: unused,
    start: unused,
    fail: unused,
    stop: unused,
    describe: unused,
    list: unused,
    history: unused,
    async succeed(taskToken, output) {
      if (state.answer === 'outage') throw new Error('engine unavailable');
      calls.push({ taskToken, output });
      return state.answer;
    },
  };
  return { engine, calls, state };
}

/** A card channel that records updates, and can be told to fail, or to hold updates until `holding` settles. */
function fakeChannel(platform: MessageRef['platform']) {
  const updates: Array<{ status: Approval['status']; ref: MessageRef }> = [];
  const state: { failing: boolean; holding?: Promise<void> } = { failing: false };
  const channel: ApprovalChannel = {
    platform,
    async send() {
      return { sent: [], undelivered: [] };
    },
    async update(approval, ref) {
      if (state.failing) throw new Error('chat platform down');
      await state.holding;
      updates.push({ status: approval.status, ref });
    },
    async notify() {
      return false;
    },
  };
  return { channel, updates, state };
}

const system: Actor = { platform: 'system', id: 'signoff', name: 'Signoff' };

let dynamo: TestDynamo;
let store: ApprovalStore;
let audit: AuditLog;
let engine: ReturnType<typeof fakeEngine>;
let lark: ReturnType<typeof fakeChannel>;
let logs: string[];
let service: ApprovalService;

beforeAll(async () => {
  dynamo = await startTestDynamo();
  store = createApprovalStore(dynamo.client, dynamo.tableName);
  audit = createAuditLog(dynamo.client, dynamo.tableName);
});

afterAll(async () => {
  await dynamo.close();
});

beforeEach(async () => {
  engine = fakeEngine();
  lark = fakeChannel('lark');
  logs = [];
  service = serviceWith();
  // Each test starts with an empty outbox, whatever an earlier test left behind.
  for (const { approval } of await store.outbox()) await store.clearOutbox(approval.approvalId);
});

/** The service over this test's store, engine, audit and log; Lark's channel unless others are given. */
function serviceWith(options: { channels?: ApprovalChannel[]; cardUpdateWaitMs?: number } = {}) {
  return createApprovalService({
    store,
    engine: engine.engine,
    audit,
    channels: options.channels ?? [lark.channel],
    log: (message) => logs.push(message),
    ...(options.cardUpdateWaitMs ? { cardUpdateWaitMs: options.cardUpdateWaitMs } : {}),
  });
}

async function stored(options: Parameters<typeof newApproval>[0] = {}) {
  const fixture = newApproval(options);
  await store.create(fixture.approval, fixture.taskToken);
  return fixture;
}

describe('createApprovalService', () => {
  describe('decide', () => {
    it('resumes the execution once with the outcome when the quorum is reached', async () => {
      const { approval, taskToken } = await stored({ policy: { required: 2 } });

      const first = await service.decide({
        approvalId: approval.approvalId,
        actor: bob,
        decision: 'approve',
        now: at(1),
      });
      expect(first.outcome).toBe('counted');
      expect(engine.calls).toEqual([]);

      const second = await service.decide({
        approvalId: approval.approvalId,
        actor: carol,
        decision: 'approve',
        comment: 'ship it',
        now: at(2),
      });
      expect(second.outcome).toBe('completed');
      expect(engine.calls).toEqual([
        {
          taskToken,
          output: {
            approvalId: approval.approvalId,
            decision: 'approve',
            approvers: [
              { user: 'bob', name: 'Bob', platform: 'console' },
              { user: 'carol', name: 'Carol', platform: 'lark' },
            ],
            comment: 'ship it',
            decidedAt: at(2).toISOString(),
          },
        },
      ]);
      expect(await store.outbox()).toEqual([]);
    });

    it('does not call the engine for a refused vote', async () => {
      const { approval } = await stored();
      const result = await service.decide({
        approvalId: approval.approvalId,
        actor: alice,
        decision: 'approve',
        now: at(1),
      });
      expect(result).toMatchObject({ outcome: 'refused', reason: 'self-approval' });
      expect(engine.calls).toEqual([]);
      expect(await audit.byExecution(approval.executionArn)).toEqual([]);
    });

    it('resumes the execution exactly once when ten approvers click at the same time', async () => {
      const people = approvers(10);
      const { approval, taskToken } = await stored({
        policy: { approvers: people.map((p) => p.user as string) },
      });

      const results = await Promise.all(
        people.map((actor) =>
          service.decide({ approvalId: approval.approvalId, actor, decision: 'approve', now: at(1) }),
        ),
      );

      expect(results.filter((r) => r.outcome === 'completed')).toHaveLength(1);
      expect(engine.calls).toHaveLength(1);
      expect(engine.calls[0]?.taskToken).toBe(taskToken);
    });

    it('keeps the decision and the outcome in the outbox when the engine is down', async () => {
      const { approval } = await stored();
      engine.state.answer = 'outage';

      const result = await service.decide({
        approvalId: approval.approvalId,
        actor: bob,
        decision: 'approve',
        now: at(1),
      });

      expect(result.outcome).toBe('completed');
      expect((await store.get(approval.approvalId))?.status).toBe('approved');
      const outbox = await store.outbox();
      expect(outbox.map((e) => e.approval.approvalId)).toEqual([approval.approvalId]);
      expect(outbox[0]?.outcome).toMatchObject({ decision: 'approve', approvers: [{ user: 'bob' }] });
      expect(logs).toContain('resume failed, kept in outbox');
    });

    it('refuses a decision that reached the engine after the task timed out: expired everywhere, outbox cleared', async () => {
      const { approval } = await stored();
      engine.state.answer = 'stale';
      const result = await service.decide({
        approvalId: approval.approvalId,
        actor: bob,
        decision: 'approve',
        now: at(1),
      });
      expect(result).toMatchObject({
        outcome: 'refused',
        reason: 'expired',
        approval: { status: 'expired' },
      });
      expect(engine.calls).toHaveLength(1);
      expect(await store.outbox()).toEqual([]);
      expect((await store.get(approval.approvalId))?.status).toBe('expired');
      expect(logs).toContain('decision arrived after the task ended: expired');
      const records = await audit.byExecution(approval.executionArn);
      expect(records.map((r) => [r.action, r.outcome]).sort()).toEqual([
        ['approval.decided', 'expired'],
        ['approval.vote', 'approve'],
      ]);
    });

    it('appends a vote record and a decided record to the audit log', async () => {
      const { approval } = await stored({ policy: { required: 2 } });
      await service.decide({ approvalId: approval.approvalId, actor: bob, decision: 'approve', now: at(1) });
      await service.decide({
        approvalId: approval.approvalId,
        actor: carol,
        decision: 'reject',
        comment: 'not today',
        now: at(2),
      });

      const records = await audit.byExecution(approval.executionArn);
      expect(records.map((r) => [r.action, r.outcome]).sort()).toEqual(
        [
          ['approval.vote', 'approve'],
          ['approval.vote', 'reject'],
          ['approval.decided', 'rejected'],
        ].sort(),
      );
      expect(records.find((r) => r.action === 'approval.decided')?.detail).toEqual({
        approvalId: approval.approvalId,
        reason: 'not today',
      });
    });

    it('updates every card of the approval, and a failing card update does not undo the decision', async () => {
      const { approval } = await stored({ policy: { required: 2 } });
      await store.addCard(approval.approvalId, { platform: 'lark', id: 'om_1' });
      await store.addCard(approval.approvalId, { platform: 'slack', id: 'ts_1' }); // no slack channel: skipped

      await service.decide({ approvalId: approval.approvalId, actor: bob, decision: 'approve', now: at(1) });
      expect(lark.updates).toEqual([{ status: 'pending', ref: { platform: 'lark', id: 'om_1' } }]);

      lark.state.failing = true;
      const result = await service.decide({
        approvalId: approval.approvalId,
        actor: carol,
        decision: 'approve',
        now: at(2),
      });
      expect(result.outcome).toBe('completed');
      expect(engine.calls).toHaveLength(1);
      expect((await store.get(approval.approvalId))?.status).toBe('approved');
      expect(logs).toContain('card update failed');
    });
  });

  describe('a card update that hangs', () => {
    it('does not hold the answer past cardUpdateWaitMs: the decision completes, the other copies update, the hung one finishes behind it', async () => {
      let release = () => {};
      const slack = fakeChannel('slack');
      slack.state.holding = new Promise<void>((resolve) => {
        release = resolve;
      });
      const bounded = serviceWith({ channels: [lark.channel, slack.channel], cardUpdateWaitMs: 50 });
      const { approval } = await stored();
      await store.addCard(approval.approvalId, { platform: 'lark', id: 'om_1' });
      await store.addCard(approval.approvalId, { platform: 'slack', id: 'ts_1' });

      const result = await bounded.decide({
        approvalId: approval.approvalId,
        actor: bob,
        decision: 'approve',
        now: at(1),
      });
      expect(result.outcome).toBe('completed');
      expect(engine.calls).toHaveLength(1);
      expect(lark.updates).toEqual([{ status: 'approved', ref: { platform: 'lark', id: 'om_1' } }]);
      // Answered while Slack's update still hangs.
      expect(slack.updates).toEqual([]);
      expect(logs).toContain('card updates still running; answered without waiting for them');
      release();
      await new Promise((resolve) => setImmediate(resolve));
      expect(slack.updates).toEqual([{ status: 'approved', ref: { platform: 'slack', id: 'ts_1' } }]);
    });
  });

  describe('redeliver', () => {
    it('delivers an outcome kept during an outage once, then clears it', async () => {
      const { approval, taskToken } = await stored();
      engine.state.answer = 'outage';
      await service.decide({ approvalId: approval.approvalId, actor: bob, decision: 'approve', now: at(1) });

      expect(await service.redeliver()).toBe(0);
      expect(await store.outbox()).toHaveLength(1);

      engine.state.answer = 'delivered';
      expect(await service.redeliver()).toBe(1);
      expect(engine.calls).toHaveLength(1);
      expect(engine.calls[0]).toMatchObject({
        taskToken,
        output: { approvalId: approval.approvalId, decision: 'approve' },
      });
      expect(await store.outbox()).toEqual([]);

      expect(await service.redeliver()).toBe(0);
      expect(engine.calls).toHaveLength(1);
    });
  });

  describe('redeliver after a crash between the decision and its resume', () => {
    it('writes the missing vote and decision records once and refreshes every card', async () => {
      const { approval } = await stored({ policy: { required: 2 } });
      await store.addCard(approval.approvalId, { platform: 'lark', id: 'om_1', to: 'ou_bob' });
      await store.addCard(approval.approvalId, { platform: 'lark', id: 'om_2', to: 'ou_carol' });
      // Bob's vote is counted; its record is lost (the process died before writing it).
      await decide(store, { approvalId: approval.approvalId, actor: bob, decision: 'approve', now: at(1) });
      // Carol's completing vote is written with its outbox entry, then the process dies.
      const completed = await decide(store, {
        approvalId: approval.approvalId,
        actor: carol,
        decision: 'approve',
        now: at(2),
      });
      expect(completed.outcome).toBe('completed');
      expect(await audit.byExecution(approval.executionArn)).toEqual([]);

      expect(await service.redeliver()).toBe(1);
      expect(engine.calls).toHaveLength(1);
      const records = await audit.byExecution(approval.executionArn);
      expect(records.map((r) => [r.action, r.outcome, r.actor.name]).sort()).toEqual([
        ['approval.decided', 'approved', 'Carol'],
        ['approval.vote', 'approve', 'Bob'],
        ['approval.vote', 'approve', 'Carol'],
      ]);
      expect(lark.updates.map((u) => [u.ref.id, u.status]).sort()).toEqual([
        ['om_1', 'approved'],
        ['om_2', 'approved'],
      ]);
      // A second pass (another crash, another runtime) adds nothing.
      expect(await service.redeliver()).toBe(0);
      expect(await audit.byExecution(approval.executionArn)).toHaveLength(3);
    });

    it('writing the records of a delivered decision again adds nothing (same ids)', async () => {
      const { approval } = await stored();
      await service.decide({ approvalId: approval.approvalId, actor: bob, decision: 'approve', now: at(1) });
      const decided = await store.get(approval.approvalId);
      if (!decided) throw new Error('missing approval');
      await audit.appendMany(endRecords(decided));
      expect(await audit.byExecution(approval.executionArn)).toHaveLength(2);
    });
  });

  describe('cancelSubject', () => {
    it('cancels only the pending approvals of that subject and resumes each with cancelled', async () => {
      const subject = 'gitlab:12:7';
      const pending = await stored({ subject });
      const decided = await stored({ subject });
      const other = await stored({ subject: 'gitlab:12:8' });
      await service.decide({
        approvalId: decided.approval.approvalId,
        actor: bob,
        decision: 'approve',
        now: at(1),
      });
      engine.calls.length = 0;

      const cancelled = await service.cancelSubject(subject, 'merge request closed', system, at(2));

      expect(cancelled.map((a) => a.approvalId)).toEqual([pending.approval.approvalId]);
      expect(await store.get(pending.approval.approvalId)).toMatchObject({
        status: 'cancelled',
        reason: 'merge request closed',
        decidedAt: at(2).toISOString(),
      });
      expect((await store.get(decided.approval.approvalId))?.status).toBe('approved');
      expect((await store.get(other.approval.approvalId))?.status).toBe('pending');
      expect(engine.calls).toEqual([
        {
          taskToken: pending.taskToken,
          output: {
            approvalId: pending.approval.approvalId,
            decision: 'cancelled',
            approvers: [],
            comment: 'merge request closed',
            decidedAt: at(2).toISOString(),
          },
        },
      ]);
      expect(await store.pendingFor(subject)).toEqual([]);
    });

    it('leaves the approval of the excepted execution pending', async () => {
      const subject = 'gitlab:12:9';
      const old = await stored({ subject, createdAt: at(0) });
      const current = await stored({ subject, createdAt: at(5) });

      const cancelled = await service.cancelSubject(subject, 'superseded by a new push', system, at(6), {
        exceptExecution: current.approval.executionArn,
      });

      expect(cancelled.map((a) => a.approvalId)).toEqual([old.approval.approvalId]);
      expect((await store.get(current.approval.approvalId))?.status).toBe('pending');
      expect(engine.calls.map((c) => c.taskToken)).toEqual([old.taskToken]);
    });

    it('resumes the execution once when a click and a cancellation race', async () => {
      const subject = 'gitlab:12:10';
      const { approval } = await stored({ subject });

      const [vote, cancelled] = await Promise.all([
        service.decide({ approvalId: approval.approvalId, actor: bob, decision: 'approve', now: at(1) }),
        service.cancelSubject(subject, 'merge request closed', system, at(1)),
      ]);

      expect(engine.calls).toHaveLength(1);
      const status = (await store.get(approval.approvalId))?.status;
      if (vote.outcome === 'completed') {
        expect(cancelled).toEqual([]);
        expect(status).toBe('approved');
      } else {
        expect(vote).toMatchObject({ outcome: 'refused', message: 'already cancelled' });
        expect(cancelled.map((a) => a.approvalId)).toEqual([approval.approvalId]);
        expect(status).toBe('cancelled');
      }
    });

    it('cancels nothing when the subject has no pending approvals', async () => {
      expect(await service.cancelSubject('gitlab:99:1', 'closed', system, at(1))).toEqual([]);
      expect(engine.calls).toEqual([]);
    });
  });

  describe('expire', () => {
    it('marks a pending approval expired without resuming the execution', async () => {
      const { approval } = await stored();
      await store.addCard(approval.approvalId, { platform: 'lark', id: 'om_2' });
      const expired = await service.expire(approval.approvalId, at(60 * 24));

      expect(expired).toMatchObject({ status: 'expired', decidedAt: at(60 * 24).toISOString(), version: 1 });
      expect((await store.get(approval.approvalId))?.status).toBe('expired');
      expect(engine.calls).toEqual([]);
      expect(await store.outbox()).toEqual([]);
      expect(lark.updates).toEqual([{ status: 'expired', ref: { platform: 'lark', id: 'om_2' } }]);
      const late = await service.decide({
        approvalId: approval.approvalId,
        actor: bob,
        decision: 'approve',
        now: at(1),
      });
      expect(late).toMatchObject({
        outcome: 'refused',
        reason: 'already-decided',
        message: 'already expired',
      });
    });

    it('expires an approval decided after the deadline: the execution took its expiry branch, not the decision', async () => {
      const { approval } = await stored();
      // The click's resume is still on its way (kept in the outbox) when the expiry branch runs.
      engine.state.answer = 'outage';
      await service.decide({ approvalId: approval.approvalId, actor: bob, decision: 'approve', now: at(1) });
      expect((await store.get(approval.approvalId))?.status).toBe('approved');
      const result = await service.expire(approval.approvalId, at(60 * 24));
      expect(result?.status).toBe('expired');
      expect(await service.expire(approval.approvalId, at(60 * 25))).toMatchObject({
        status: 'expired',
        version: result?.version,
      });
    });

    it('returns undefined for an unknown approval', async () => {
      expect(await service.expire('missing', at(1))).toBeUndefined();
    });
  });
});
