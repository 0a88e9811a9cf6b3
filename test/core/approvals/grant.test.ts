import { describe, expect, it } from 'vitest';
import { grantRefusal } from '../../../core/approvals/grant.ts';
import type { Actor, Approval, Vote } from '../../../core/approvals/types.ts';
import { alice, bob, carol, mallory, newApproval, T0 } from '../../support/approvals.ts';

function vote(actor: Actor, decision: Vote['decision'] = 'approve'): Vote {
  return { user: actor.user ?? '', actor, decision, at: T0.toISOString() };
}

function approval(changes: Partial<Approval>): Approval {
  return { ...newApproval({ policy: { required: 2 } }).approval, ...changes };
}

describe('grantRefusal', () => {
  it('grants an approval approved by the quorum of distinct allowed approvers', () => {
    const a = approval({ status: 'approved', votes: [vote(bob), vote(carol)] });
    expect(grantRefusal(a, 'approve', a.executionArn)).toBeUndefined();
  });

  it('refuses a pending approval with no votes (a forged resume)', () => {
    const a = approval({});
    expect(grantRefusal(a, 'approve', a.executionArn)).toBe('it is pending with 0 of 2 approvals that count');
  });

  it('refuses another execution’s approval', () => {
    const a = approval({ status: 'approved', votes: [vote(bob), vote(carol)] });
    expect(grantRefusal(a, 'approve', `${a.executionArn}-other`)).toBe('it belongs to another execution');
  });

  it('does not count the requester, an excluded person, a stranger or a repeated voter', () => {
    const excluded = { user: 'carol', name: 'Carol', because: 'added commits to this merge request' };
    for (const votes of [
      [vote(bob), vote(alice)],
      [vote(bob), vote(carol)],
      [vote(bob), vote(mallory)],
      [vote(bob), vote(bob)],
    ]) {
      const a = approval({ status: 'approved', votes, excluded: [excluded] });
      expect(grantRefusal(a, 'approve', a.executionArn)).toBe(
        'it is approved with 1 of 2 approvals that count',
      );
    }
  });

  it('refuses a vote whose actor is not the user it is counted for', () => {
    const a = approval({
      status: 'approved',
      votes: [vote(bob), { ...vote(carol), actor: { ...carol, user: 'bob' } }],
    });
    expect(grantRefusal(a, 'approve', a.executionArn)).toMatch(/1 of 2/);
  });

  it('grants a reject only to a rejected approval with an allowed rejecter', () => {
    const rejected = approval({ status: 'rejected', votes: [vote(bob, 'reject')] });
    expect(grantRefusal(rejected, 'reject', rejected.executionArn)).toBeUndefined();
    expect(grantRefusal(rejected, 'approve', rejected.executionArn)).toMatch(/rejected/);
    const approved = approval({ status: 'approved', votes: [vote(bob), vote(carol)] });
    expect(grantRefusal(approved, 'reject', approved.executionArn)).toMatch(
      /approved with 0 of 1 rejections/,
    );
  });
});
