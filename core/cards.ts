import type { Approval } from './approvals/types.ts';
import type { Card, CardState } from './chat.ts';

/** The card that shows an approval as it is now. */
export function cardFor(approval: Approval): Card {
  return {
    approvalId: approval.approvalId,
    title: approval.card.title,
    ...(approval.card.summary ? { summary: approval.card.summary } : {}),
    fields: [...approval.card.fields, { label: 'Requested by', value: approval.requester.name }],
    links: approval.card.links,
    state: stateOf(approval),
  };
}

function stateOf(approval: Approval): CardState {
  const names = (decision: 'approve' | 'reject') =>
    approval.votes.filter((v) => v.decision === decision).map((v) => v.actor.name);
  switch (approval.status) {
    case 'pending':
      return {
        kind: 'pending',
        approvals: names('approve').length,
        required: approval.policy.required,
        approvedBy: names('approve'),
      };
    case 'approved':
      return { kind: 'approved', by: names('approve') };
    case 'rejected':
      return {
        kind: 'rejected',
        by: names('reject'),
        ...(approval.reason ? { reason: approval.reason } : {}),
      };
    case 'expired':
      return { kind: 'expired' };
    case 'cancelled':
      return { kind: 'cancelled', ...(approval.reason ? { reason: approval.reason } : {}) };
  }
}

/** One line describing a card's state, for platforms and logs that show text. */
export function describeState(state: CardState): string {
  switch (state.kind) {
    case 'pending':
      return `Waiting for approval: ${state.approvals} of ${state.required}${state.approvedBy.length ? ` (approved by ${state.approvedBy.join(', ')})` : ''}`;
    case 'approved':
      return `Approved by ${state.by.join(', ')}`;
    case 'rejected':
      return `Rejected by ${state.by.join(', ')}${state.reason ? `: ${state.reason}` : ''}`;
    case 'expired':
      return 'Expired: nobody decided in time';
    case 'cancelled':
      return `Cancelled${state.reason ? `: ${state.reason}` : ''}`;
  }
}
