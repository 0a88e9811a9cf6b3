import type { Approval, CardContent, Vote } from './approvals/types.ts';
import type { Card, CardState } from './chat.ts';
import type { Language } from './commands.ts';
import { translate, translator } from './messages/index.ts';

/** Where an approval that needs a signed-in confirmation is decided: its console page. */
export function confirmUrlFor(publicUrl: string, approvalId: string): string {
  return `${publicUrl.replace(/\/$/, '')}/console/approvals/${encodeURIComponent(approvalId)}`;
}

/**
 * What an approval's card says in a language: the content its workflow wrote in that language
 * when the approval was requested, else the content in the configuration's language.
 */
export function contentIn(approval: Approval, language: Language): CardContent {
  return approval.translations?.[language] ?? approval.card;
}

/**
 * The card that shows an approval as it is now, in its reader's `language` (default English).
 * `publicUrl` (`console.publicUrl`) builds the confirmation link of an approval whose policy
 * wants a signed-in confirmation.
 */
export function cardFor(
  approval: Approval,
  options: { publicUrl?: string | undefined; language?: Language | undefined } = {},
): Card {
  const language = options.language ?? 'en';
  const t = translator(language);
  const content = contentIn(approval, language);
  const confirm = approval.policy.confirm === 'signed-in' && options.publicUrl;
  return {
    approvalId: approval.approvalId,
    title: content.title,
    ...(content.summary ? { summary: content.summary } : {}),
    fields: [...content.fields, { label: t('requestedBy'), value: approval.requester.name }],
    links: content.links,
    state: stateOf(approval, language),
    ...(confirm ? { confirmUrl: confirmUrlFor(confirm, approval.approvalId) } : {}),
    language,
  };
}

/** What a card that needs a signed-in confirmation says, on every platform. */
export function confirmNote(language: Language = 'en'): string {
  return translate(language, 'cardConfirmNote');
}

/** The label of the button that opens the confirmation page (LINE allows 20 characters). */
export function confirmLabel(language: Language = 'en'): string {
  return translate(language, 'cardConfirmButton');
}

/** Who cast a vote, as cards show it: `Carol (for Alice)` when a delegate decided in an approver's place. */
export function voterName(vote: Vote, language: Language = 'en'): string {
  return vote.onBehalfOf
    ? translate(language, 'voterFor', { voter: vote.actor.name, approver: vote.onBehalfOf.name })
    : vote.actor.name;
}

function stateOf(approval: Approval, language: Language): CardState {
  const names = (decision: 'approve' | 'reject') =>
    approval.votes.filter((v) => v.decision === decision).map((vote) => voterName(vote, language));
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

/** One line describing a card's state, in its reader's language, for platforms and logs that show text. */
export function describeState(state: CardState, language: Language = 'en'): string {
  const t = translator(language);
  switch (state.kind) {
    case 'pending':
      return state.approvedBy.length
        ? t('statePendingBy', { n: state.approvals, m: state.required, names: state.approvedBy.join(', ') })
        : t('statePending', { n: state.approvals, m: state.required });
    case 'approved':
      return t('stateApproved', { names: state.by.join(', ') });
    case 'rejected':
      return state.reason
        ? t('stateRejectedReason', { names: state.by.join(', '), reason: state.reason })
        : t('stateRejected', { names: state.by.join(', ') });
    case 'expired':
      return t('stateExpired');
    case 'cancelled':
      return state.reason ? t('stateCancelledReason', { reason: state.reason }) : t('stateCancelled');
  }
}
