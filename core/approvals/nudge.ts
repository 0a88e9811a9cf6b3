import { contentIn } from '../cards.ts';
import type { Notice } from '../chat.ts';
import { ConflictError, ForbiddenError, NotFoundError, type SignoffError } from '../errors.ts';
import type { Translate } from '../messages/index.ts';
import { type Delegates, NO_DELEGATES, waitingSeats } from './seats.ts';
import type { Approval } from './types.ts';

/** How often a requester may nudge one approval: once per 15 minutes. */
export const NUDGE_INTERVAL_MS = 15 * 60_000;

/** Why a nudge did nothing. */
export type NudgeRefusal = 'not-found' | 'not-yours' | 'not-pending' | 'too-soon';

export type NudgeResult =
  /** The approvers who have not voted were told again (`notified`: their user keys). */
  | { outcome: 'nudged'; approval: Approval; notified: string[] }
  /** Nothing was sent; `retryAt` says when a `too-soon` nudge may be repeated. */
  | { outcome: 'refused'; reason: NudgeRefusal; message: string; approval?: Approval; retryAt?: string };

/**
 * The people an approval still waits on: for each seat no vote counts for yet (not the
 * requester's unless the policy allows self-approval, not an excluded person's), its approver,
 * or their delegate while a delegation is active (docs/delegation.md); once each.
 */
export function pendingApprovers(approval: Approval, delegates: Delegates = NO_DELEGATES): string[] {
  return [...new Set(waitingSeats(approval, delegates).map((s) => s.holder))];
}

/**
 * The short message that points a waiting approver at the card again (a nudge, a reminder):
 * the card keeps the buttons, so this only says which one and where it is.
 */
export function waitingNotice(
  approval: Approval,
  t: Translate,
  options: { why: string; links: Array<{ label: string; url: string }> },
): Notice {
  return {
    title: t('reminderTitle'),
    text: t('waitingNotice', {
      why: options.why,
      title: contentIn(approval, t.language).title,
      id: approval.approvalId,
    }),
    links: options.links,
  };
}

/** The HTTP error (and CLI message) for a refused nudge. */
export function nudgeRefusalError(result: Extract<NudgeResult, { outcome: 'refused' }>): SignoffError {
  switch (result.reason) {
    case 'not-found':
      return new NotFoundError('no such approval', { code: 'ApprovalNotFound' });
    case 'not-yours':
      return new ForbiddenError(result.message, { code: 'NotYourRequest' });
    case 'not-pending':
      return new ConflictError(result.message, { code: 'NotPending' });
    case 'too-soon':
      return new ConflictError(result.message, { code: 'NudgedRecently' });
  }
}
