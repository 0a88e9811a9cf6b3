import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type ApprovalStore, createApprovalStore } from '../../../core/approvals/store.ts';
import type { Approval, ApprovalOutcome } from '../../../core/approvals/types.ts';
import { at, bob, newApproval } from '../../support/approvals.ts';
import { startTestDynamo, type TestDynamo } from '../../support/dynamo.ts';

let dynamo: TestDynamo;
let store: ApprovalStore;

beforeAll(async () => {
  dynamo = await startTestDynamo();
  store = createApprovalStore(dynamo.client, dynamo.tableName);
});

afterAll(async () => {
  await dynamo.close();
});

function approved(approval: Approval): { next: Approval; outcome: ApprovalOutcome } {
  const decidedAt = at(5).toISOString();
  const next: Approval = {
    ...approval,
    status: 'approved',
    votes: [{ user: 'bob', actor: bob, decision: 'approve', at: decidedAt }],
    decidedAt,
    version: approval.version + 1,
  };
  const outcome: ApprovalOutcome = {
    approvalId: approval.approvalId,
    decision: 'approve',
    approvers: [{ user: 'bob', name: 'Bob', platform: 'console' }],
    decidedAt,
  };
  return { next, outcome };
}

describe('createApprovalStore', () => {
  it('stores an approval and reads it back without internal keys or the task token', async () => {
    const { approval, taskToken } = newApproval({ subject: 'gitlab:12:7' });
    expect(await store.create(approval, taskToken)).toEqual({ approval, created: true });

    const read = await store.get(approval.approvalId);
    expect(read).toEqual(approval);
    expect(JSON.stringify(read)).not.toContain(taskToken);
    expect(await store.getTaskToken(approval.approvalId)).toBe(taskToken);
  });

  it('returns the first approval when the same id is created twice', async () => {
    const { approval, taskToken } = newApproval();
    await store.create(approval, taskToken);
    const retry = await store.create(
      { ...approval, card: { ...approval.card, title: 'changed' } },
      taskToken,
    );
    expect(retry).toEqual({ approval, created: false });
  });

  it('returns undefined for an unknown approval', async () => {
    expect(await store.get('missing')).toBeUndefined();
    expect(await store.getTaskToken('missing')).toBeUndefined();
  });

  it('writes a transition only from the expected version while pending', async () => {
    const { approval, taskToken } = newApproval();
    await store.create(approval, taskToken);
    const { next } = approved(approval);

    expect(await store.transition(next, approval.version + 1)).toBeUndefined();
    const written = await store.transition(next, approval.version);
    expect(written).toMatchObject({ status: 'approved', version: 1 });
    expect(written).not.toHaveProperty('taskToken');
    expect(await store.get(approval.approvalId)).toEqual(written);
    // Decided: even the right version cannot be written again.
    expect(await store.transition({ ...next, version: 2 }, 1)).toBeUndefined();
  });

  it('lists approvals by status, moving them between lists on transition', async () => {
    const { approval, taskToken } = newApproval();
    await store.create(approval, taskToken);
    const ids = async (status: Approval['status']) => (await store.list(status)).map((a) => a.approvalId);

    expect(await ids('pending')).toContain(approval.approvalId);
    await store.transition(approved(approval).next, 0);
    expect(await ids('pending')).not.toContain(approval.approvalId);
    expect(await ids('approved')).toContain(approval.approvalId);
  });

  it('finds pending approvals by subject, newest first, and forgets them once decided', async () => {
    const subject = `gitlab:1:${Math.random()}`;
    const older = newApproval({ subject, createdAt: at(0) });
    const newer = newApproval({ subject, createdAt: at(10) });
    await store.create(older.approval, older.taskToken);
    await store.create(newer.approval, newer.taskToken);

    expect((await store.pendingFor(subject)).map((a) => a.approvalId)).toEqual([
      newer.approval.approvalId,
      older.approval.approvalId,
    ]);
    await store.transition(approved(newer.approval).next, 0);
    expect((await store.pendingFor(subject)).map((a) => a.approvalId)).toEqual([older.approval.approvalId]);
  });

  it('finds every approval of an execution', async () => {
    const executionArn = 'arn:aws:states:us-east-1:123456789012:execution:signoff-deploy:two-approvals';
    const a = newApproval({ executionArn });
    const b = newApproval({ executionArn });
    await store.create(a.approval, a.taskToken);
    await store.create(b.approval, b.taskToken);
    const found = (await store.forExecution(executionArn)).map((x) => x.approvalId);
    expect(found.sort()).toEqual([a.approval.approvalId, b.approval.approvalId].sort());
  });

  it('keeps an outcome in the outbox until it is cleared', async () => {
    const { approval, taskToken } = newApproval();
    await store.create(approval, taskToken);
    const { next, outcome } = approved(approval);
    await store.transition(next, 0, outcome);

    const entry = (await store.outbox()).find((e) => e.approval.approvalId === approval.approvalId);
    expect(entry?.outcome).toEqual(outcome);
    expect(entry?.approval.status).toBe('approved');

    await store.clearOutbox(approval.approvalId);
    expect((await store.outbox()).map((e) => e.approval.approvalId)).not.toContain(approval.approvalId);
    expect((await store.get(approval.approvalId))?.status).toBe('approved');
  });

  it('appends card references without losing concurrent ones', async () => {
    const { approval, taskToken } = newApproval();
    await store.create(approval, taskToken);
    await Promise.all(
      ['m1', 'm2', 'm3'].map((id) =>
        store.addCard(approval.approvalId, { platform: 'lark', id, to: 'oc_1' }),
      ),
    );
    const cards = (await store.get(approval.approvalId))?.cards ?? [];
    expect(cards.map((c) => c.id).sort()).toEqual(['m1', 'm2', 'm3']);
  });

  it('keeps card references through a transition, and returns those recorded after the read', async () => {
    const { approval, taskToken } = newApproval();
    await store.create(approval, taskToken);
    // `approval` (read before the card was recorded) has no cards; the write returns the card.
    expect(await store.addCard(approval.approvalId, { platform: 'slack', id: 'ts-1' })).toMatchObject({
      status: 'pending',
      cards: [{ platform: 'slack', id: 'ts-1' }],
    });
    const written = await store.transition(approved(approval).next, 0);
    expect(written?.cards).toEqual([{ platform: 'slack', id: 'ts-1' }]);
    expect((await store.get(approval.approvalId))?.cards).toEqual([{ platform: 'slack', id: 'ts-1' }]);
  });

  it('refuses to add a card to an approval that does not exist', async () => {
    await expect(store.addCard('missing', { platform: 'lark', id: 'm' })).rejects.toThrow();
    expect(await store.get('missing')).toBeUndefined();
  });

  it('records a nudge only while pending and not after the last one plus the interval', async () => {
    const { approval, taskToken } = newApproval();
    await store.create(approval, taskToken);
    const iso = (minutes: number) => at(minutes).toISOString();
    expect((await store.markNudged(approval.approvalId, iso(1), iso(-14)))?.lastNudgedAt).toBe(iso(1));
    // A second nudge within the interval: the last one (at 1) is after its cutoff (at -5).
    expect(await store.markNudged(approval.approvalId, iso(10), iso(-5))).toBeUndefined();
    expect((await store.markNudged(approval.approvalId, iso(16), iso(1)))?.lastNudgedAt).toBe(iso(16));
    const { next, outcome } = approved({ ...approval, version: 0 });
    await store.transition(next, 0, outcome);
    expect(await store.markNudged(approval.approvalId, iso(60), iso(45))).toBeUndefined();
    expect(await store.markNudged('missing', iso(60), iso(45))).toBeUndefined();
  });
});
