import type { Approval } from './approvals/types.ts';
import type { Card, CardState } from './chat.ts';

/** What a card that needs a signed-in confirmation says, on every platform. */
export const CONFIRM_NOTE =
  'Needs a signed-in confirmation: open it in the Signoff console and sign in to decide (a click in chat does not count).';
/** The label of the button that opens the confirmation page (LINE allows 20 characters). */
export const CONFIRM_LABEL = 'Confirm in console';

/** Where an approval that needs a signed-in confirmation is decided: its console page. */
export function confirmUrlFor(publicUrl: string, approvalId: string): string {
  return `${publicUrl.replace(/\/$/, '')}/console/approvals/${encodeURIComponent(approvalId)}`;
}

/**
 * The card that shows an approval as it is now. `publicUrl` (`console.publicUrl`) builds the
 * confirmation link of an approval whose policy wants a signed-in confirmation.
 */
export function cardFor(approval: Approval, options: { publicUrl?: string | undefined } = {}): Card {
  const confirm = approval.policy.confirm === 'signed-in' && options.publicUrl;
  return {
    approvalId: approval.approvalId,
    title: approval.card.title,
    ...(approval.card.summary ? { summary: approval.card.summary } : {}),
    fields: [...approval.card.fields, { label: 'Requested by', value: approval.requester.name }],
    links: approval.card.links,
    state: stateOf(approval),
    ...(confirm ? { confirmUrl: confirmUrlFor(confirm, approval.approvalId) } : {}),
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
