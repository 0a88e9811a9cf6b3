import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { checkVote, type DecideRequest, decide } from '../../../core/approvals/decide.ts';
import { refusalText } from '../../../core/approvals/refusals.ts';
import { type ApprovalStore, createApprovalStore } from '../../../core/approvals/store.ts';
import type { Actor } from '../../../core/approvals/types.ts';
import { alice, approvers, at, bob, carol, mallory, newApproval, T0 } from '../../support/approvals.ts';
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

async function stored(options: Parameters<typeof newApproval>[0] = {}) {
  const fixture = newApproval(options);
  await store.create(fixture.approval, fixture.taskToken);
  return fixture.approval;
}

const vote = (approvalId: string, actor: Actor, decision: 'approve' | 'reject' = 'approve', now = at(1)) =>
  ({ approvalId, actor, decision, now }) satisfies DecideRequest;

describe('decide', () => {
  it('counts the first of two required approvals and completes on the second', async () => {
    const approval = await stored({ policy: { required: 2 } });

    const first = await decide(store, vote(approval.approvalId, bob));
    expect(first).toMatchObject({ outcome: 'counted', remaining: 1 });
    expect((await store.get(approval.approvalId))?.status).toBe('pending');

    const second = await decide(store, vote(approval.approvalId, carol, 'approve', at(2)));
    expect(second.outcome).toBe('completed');
    if (second.outcome !== 'completed') return;
    expect(second.result).toEqual({
      approvalId: approval.approvalId,
      decision: 'approve',
      approvers: [
        { user: 'bob', name: 'Bob', platform: 'console' },
        { user: 'carol', name: 'Carol', platform: 'lark' },
      ],
      decidedAt: at(2).toISOString(),
    });
    const after = await store.get(approval.approvalId);
    expect(after).toMatchObject({ status: 'approved', decidedAt: at(2).toISOString(), version: 2 });
    expect(after?.votes.map((v) => v.user)).toEqual(['bob', 'carol']);
  });

  it('refuses the requester approving their own request (four-eyes)', async () => {
    const approval = await stored();
    const result = await decide(store, vote(approval.approvalId, alice));
    expect(result).toMatchObject({ outcome: 'refused', reason: 'self-approval' });
    expect((await store.get(approval.approvalId))?.votes).toEqual([]);
  });

  it('lets the requester approve their own request when the policy allows self-approval', async () => {
    const approval = await stored({ policy: { allowSelfApproval: true } });
    const result = await decide(store, vote(approval.approvalId, alice));
    expect(result.outcome).toBe('completed');
  });

  it('lets the requester reject their own request', async () => {
    const approval = await stored();
    const result = await decide(store, {
      ...vote(approval.approvalId, alice, 'reject'),
      comment: 'wrong branch',
    });
    expect(result.outcome).toBe('completed');
    if (result.outcome !== 'completed') return;
    expect(result.result).toMatchObject({ decision: 'reject', comment: 'wrong branch' });
    expect(await store.get(approval.approvalId)).toMatchObject({
      status: 'rejected',
      reason: 'wrong branch',
    });
  });

  it('refuses someone who is not an approver and names the scope', async () => {
    const approval = await stored({ scope: 'prod' });
    const result = await decide(store, vote(approval.approvalId, mallory));
    expect(result).toMatchObject({
      outcome: 'refused',
      reason: 'not-an-approver',
      message: 'you are not an approver for prod deploys',
    });
  });

  it('refuses an actor whose identity is not mapped to a user', async () => {
    const approval = await stored();
    const stranger: Actor = { platform: 'line', id: 'U123', name: 'Stranger' };
    const result = await decide(store, vote(approval.approvalId, stranger));
    expect(result).toMatchObject({ outcome: 'refused', reason: 'not-an-approver' });
  });

  it('counts one vote per person', async () => {
    const approval = await stored({ policy: { required: 2 } });
    expect((await decide(store, vote(approval.approvalId, bob))).outcome).toBe('counted');
    const again = await decide(store, vote(approval.approvalId, bob, 'approve', at(2)));
    expect(again).toMatchObject({ outcome: 'refused', reason: 'already-voted' });
    const changedMind = await decide(store, vote(approval.approvalId, bob, 'reject', at(3)));
    expect(changedMind).toMatchObject({ outcome: 'refused', reason: 'already-voted' });
    expect((await store.get(approval.approvalId))?.votes).toHaveLength(1);
  });

  it('refuses a vote on a decided approval and says who decided it', async () => {
    const approval = await stored();
    await decide(store, vote(approval.approvalId, bob));
    const late = await decide(store, vote(approval.approvalId, carol, 'approve', at(2)));
    expect(late).toMatchObject({
      outcome: 'refused',
      reason: 'already-decided',
      message: 'already approved by Bob',
    });
  });

  it('refuses a vote at or after the expiry time', async () => {
    const approval = await stored();
    const atExpiry = await decide(
      store,
      vote(approval.approvalId, bob, 'approve', new Date(approval.expiresAt)),
    );
    expect(atExpiry).toMatchObject({ outcome: 'refused', reason: 'expired' });
    const justBefore = new Date(Date.parse(approval.expiresAt) - 1);
    expect((await decide(store, vote(approval.approvalId, bob, 'approve', justBefore))).outcome).toBe(
      'completed',
    );
  });

  it('lets the first reject decide even when approvals are still missing', async () => {
    const approval = await stored({ policy: { required: 2 } });
    await decide(store, vote(approval.approvalId, bob));
    const reject = await decide(store, vote(approval.approvalId, carol, 'reject', at(2)));
    expect(reject.outcome).toBe('completed');
    if (reject.outcome !== 'completed') return;
    expect(reject.result.approvers).toEqual([{ user: 'carol', name: 'Carol', platform: 'lark' }]);
    const late = await decide(store, vote(approval.approvalId, alice, 'reject', at(3)));
    expect(late).toMatchObject({ outcome: 'refused', message: 'already rejected by Carol' });
  });

  it('refuses an unknown approval id', async () => {
    const result = await decide(store, vote('no-such-approval', bob));
    expect(result).toMatchObject({ outcome: 'refused', reason: 'not-found' });
  });

  it('lets exactly one of ten concurrent approvers complete the approval', async () => {
    const people = approvers(10);
    const approval = await stored({ policy: { approvers: people.map((p) => p.user as string) } });

    const results = await Promise.all(people.map((p) => decide(store, vote(approval.approvalId, p))));

    expect(results.filter((r) => r.outcome === 'completed')).toHaveLength(1);
    const refused = results.filter((r) => r.outcome === 'refused');
    expect(refused).toHaveLength(9);
    for (const r of refused) expect(r).toMatchObject({ reason: 'already-decided' });
    const after = await store.get(approval.approvalId);
    expect(after?.votes).toHaveLength(1);
    expect(after?.status).toBe('approved');
  });

  it('counts every vote of ten approvers clicking at once when all ten are required', async () => {
    const people = approvers(10);
    const approval = await stored({
      policy: { approvers: people.map((p) => p.user as string), required: 10 },
    });

    const results = await Promise.all(people.map((p) => decide(store, vote(approval.approvalId, p))));

    expect(results.filter((r) => r.outcome === 'refused')).toEqual([]);
    expect(results.filter((r) => r.outcome === 'completed')).toHaveLength(1);
    const after = await store.get(approval.approvalId);
    expect(after?.votes).toHaveLength(10);
    expect(after?.status).toBe('approved');
  });

  it('records one vote when the same approver clicks five times at once', async () => {
    const approval = await stored({ policy: { required: 2 } });

    const results = await Promise.all(
      Array.from({ length: 5 }, () => decide(store, vote(approval.approvalId, bob))),
    );

    expect(results.filter((r) => r.outcome === 'counted')).toHaveLength(1);
    for (const r of results.filter((r) => r.outcome !== 'counted')) {
      expect(r).toMatchObject({ outcome: 'refused', reason: 'already-voted' });
    }
    const after = await store.get(approval.approvalId);
    expect(after?.votes.map((v) => v.user)).toEqual(['bob']);
    expect(after?.status).toBe('pending');
  });
});

describe('checkVote', () => {
  const request = (actor: Actor, decision: 'approve' | 'reject' = 'approve'): DecideRequest => ({
    approvalId: 'x',
    actor,
    decision,
    now: T0,
  });

  it('accepts an allowed approver on a pending approval', () => {
    expect(checkVote(newApproval().approval, request(bob))).toBeUndefined();
  });

  it('reports a decided approval before any other rule', () => {
    const { approval } = newApproval();
    const decided = { ...approval, status: 'cancelled' as const };
    expect(checkVote(decided, request(mallory))).toMatchObject({
      reason: 'already-decided',
      message: 'already cancelled',
    });
  });

  it('names every approver of a quorum in the already-decided message', () => {
    const { approval } = newApproval({ policy: { required: 2 } });
    const votes = [bob, carol].map((actor) => ({
      user: actor.user as string,
      actor,
      decision: 'approve' as const,
      at: T0.toISOString(),
    }));
    const decided = { ...approval, status: 'approved' as const, votes };
    expect(checkVote(decided, request(alice))?.message).toBe('already approved by Bob, Carol');
  });

  it('describes a scope-less approval by its kind', () => {
    const { approval } = newApproval();
    const mr = { ...approval, kind: 'merge-request' as const };
    expect(checkVote(mr, request(mallory))?.message).toBe('you are not an approver for merge requests');
  });

  describe('with people excluded besides the requester (a merge request’s commit authors)', () => {
    const excluded = {
      ...newApproval().approval,
      excluded: [{ user: 'bob', name: 'Bob', because: 'added commits to this merge request' }],
    };

    it('refuses an excluded approver’s approval and says why', () => {
      expect(checkVote(excluded, request(bob))).toMatchObject({
        outcome: 'refused',
        reason: 'excluded',
        message: 'you added commits to this merge request (four-eyes rule)',
      });
    });

    it('lets an excluded approver reject, as the requester may', () => {
      expect(checkVote(excluded, request(bob, 'reject'))).toBeUndefined();
    });

    it('still lets the approvers who are not excluded approve', () => {
      expect(checkVote(excluded, request(carol))).toBeUndefined();
    });

    it('answers the requester with the self-approval rule, and a non-approver with that rule', () => {
      const both = {
        ...excluded,
        excluded: [
          ...excluded.excluded,
          { user: 'alice', name: 'Alice', because: 'opened this merge request' },
          { user: 'mallory', name: 'Mallory', because: 'added commits to this merge request' },
        ],
      };
      expect(checkVote(both, request(alice))?.reason).toBe('self-approval');
      expect(checkVote(both, request(mallory))?.reason).toBe('not-an-approver');
    });

    it('is not lifted by allowSelfApproval, which is about the requester only', () => {
      const allowing = { ...excluded, policy: { ...excluded.policy, allowSelfApproval: true } };
      expect(checkVote(allowing, request(bob))?.reason).toBe('excluded');
      expect(checkVote(allowing, request(alice))).toBeUndefined();
    });
  });
});

describe('decide with excluded people', () => {
  it('refuses an excluded approver without recording a vote, then completes with another', async () => {
    const { approval, taskToken } = newApproval();
    await store.create(
      {
        ...approval,
        excluded: [{ user: 'bob', name: 'Bob', because: 'added commits to this merge request' }],
      },
      taskToken,
    );
    const refused = await decide(store, vote(approval.approvalId, bob));
    expect(refused).toMatchObject({ outcome: 'refused', reason: 'excluded' });
    expect((await store.get(approval.approvalId))?.votes).toEqual([]);
    expect((await decide(store, vote(approval.approvalId, carol, 'approve', at(2)))).outcome).toBe(
      'completed',
    );
  });
});

describe('refusals about a delegated seat, in the clicker’s language', () => {
  const request = (actor: Actor): DecideRequest => ({ approvalId: 'x', actor, decision: 'approve', now: T0 });
  // Alice is away: mallory holds her seat.
  const delegates = new Map([['alice', { to: 'mallory', name: 'Alice' }]]);

  it('names the seat’s approver when their own request cannot be approved in their place', () => {
    const { approval } = newApproval({ policy: { approvers: ['alice'] } });
    const refused = checkVote(approval, request(mallory), delegates);
    expect(refused).toMatchObject({ reason: 'self-approval', seat: { user: 'alice', name: 'Alice' } });
    if (!refused) throw new Error('expected a refusal');
    expect(refusalText(refused, 'en', 'mallory')).toBe(
      "you cannot approve Alice's own request in their place (four-eyes rule)",
    );
    expect(refusalText(refused, 'ja', 'mallory')).toBe(
      'Alice 本人のリクエストを代わりに承認することはできません（4 アイ原則）',
    );
  });

  it('names the seat’s approver when it is excluded, and when its vote is already in', () => {
    const { approval } = newApproval({ policy: { approvers: ['alice'] } });
    const bobs = {
      ...approval,
      requester: bob,
      excluded: [{ user: 'alice', name: 'Alice', because: 'added commits to this merge request' }],
    };
    const excluded = checkVote(bobs, request(mallory), delegates);
    if (!excluded) throw new Error('expected a refusal');
    expect(refusalText(excluded, 'zh-Hans', 'mallory')).toBe(
      'Alice向这个合并请求提交了代码，因此你不能代其批准（四眼原则）',
    );
    const voted = {
      ...approval,
      requester: bob,
      votes: [{ user: 'alice', actor: alice, decision: 'approve' as const, at: T0.toISOString() }],
    };
    const late = checkVote(voted, request(mallory), delegates);
    if (!late) throw new Error('expected a refusal');
    expect(refusalText(late, 'zh-Hant', 'mallory')).toBe('Alice 已經對這個請求投過票');
    expect(refusalText(late, 'en', 'mallory')).toBe('Alice has already voted on this request');
  });
});

describe('reading delegations only when they can change the vote', () => {
  // Bob and Carol are the approvers; Bob is away and lent his seat to Mallory.
  const lent = new Map([['bob', { to: 'mallory', name: 'Bob' }]]);
  const counting = () => {
    const reads: string[][] = [];
    return {
      reads,
      delegatesOf: async (approvers: string[]) => {
        reads.push(approvers);
        return lent;
      },
    };
  };

  it('does not read them for an approver filling their own free seat', async () => {
    const approval = await stored({ policy: { approvers: ['bob', 'carol'], required: 2 } });
    const { reads, delegatesOf } = counting();
    expect(await decide(store, vote(approval.approvalId, carol), delegatesOf)).toMatchObject({
      outcome: 'counted',
    });
    expect(reads).toEqual([]);
  });

  it('reads them for someone who is not an approver, and for an approver whose seat a delegate filled', async () => {
    const approval = await stored({ policy: { approvers: ['bob', 'carol'], required: 2 } });
    const { reads, delegatesOf } = counting();
    const forBob = await decide(store, vote(approval.approvalId, mallory), delegatesOf);
    expect(forBob).toMatchObject({ outcome: 'counted' });
    expect(reads).toHaveLength(1);
    // Bob is back: his seat is filled, so his own vote is refused, and it took the read to say so.
    const bobs = await decide(store, vote(approval.approvalId, bob, 'approve', at(2)), delegatesOf);
    expect(bobs).toMatchObject({ outcome: 'refused', reason: 'already-voted' });
    expect(reads).toHaveLength(2);
    expect((await store.get(approval.approvalId))?.votes.map((v) => [v.user, v.onBehalfOf?.user])).toEqual([
      ['mallory', 'bob'],
    ]);
  });
});
