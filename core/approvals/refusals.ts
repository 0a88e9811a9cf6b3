import type { Language } from '../commands.ts';
import { type MessageKey, translator } from '../messages/index.ts';
import type { DecideResult } from './decide.ts';
import type { Approval, ApprovalStatus } from './types.ts';

type Refusal = Extract<DecideResult, { outcome: 'refused' }>;

const STATUS: Record<ApprovalStatus, MessageKey> = {
  pending: 'statusPending',
  approved: 'statusApproved',
  rejected: 'statusRejected',
  expired: 'statusExpired',
  cancelled: 'statusCancelled',
};

const KINDS: Record<Approval['kind'], MessageKey> = {
  'merge-request': 'kindsMergeRequest',
  deploy: 'kindsDeploy',
  rollback: 'kindsRollback',
  'support-case': 'kindsSupportCase',
  release: 'kindsRelease',
};

/** An approval's status as a word in a language (`approved`, `已批准`, `承認済み`). */
export function statusText(status: ApprovalStatus, language: Language): string {
  return translator(language)(STATUS[status]);
}

/** The reasons prepare tasks give for keeping someone from approving, as the catalog words them. */
const BECAUSE: Record<string, MessageKey> = {
  'opened this merge request': 'becauseOpenedMergeRequest',
  'added commits to this merge request': 'becauseAddedCommits',
};

/** Why someone may not approve (an `Exclusion.because`), in a language; unknown reasons as written. */
export function becauseIn(because: string, language: Language): string {
  const key = BECAUSE[because];
  return key ? translator(language)(key) : because;
}

/**
 * Why a click changed nothing, in the clicker's language. The refusal's `message` is the
 * English text (API errors and logs keep it); a refusal this does not know how to word (a new
 * reason, a delegate's variant) is shown as that message.
 */
export function refusalText(refusal: Refusal, language: Language, user?: string): string {
  if (language === 'en') return refusal.message;
  const t = translator(language);
  const approval = refusal.approval;
  switch (refusal.reason) {
    case 'not-found':
      return t('refusedNotFound');
    case 'expired':
      return t('refusedExpired');
    case 'busy':
      return t('refusedBusy');
    case 'confirm-signed-in':
      return t('refusedConfirmSignedIn');
    case 'sign-in-again':
      return t('refusedSignInAgain');
  }
  if (!approval) return refusal.message;
  switch (refusal.reason) {
    case 'not-an-approver': {
      const kinds = t(KINDS[approval.kind]);
      return t('refusedNotApprover', { what: approval.scope ? `${approval.scope} ${kinds}` : kinds });
    }
    case 'already-decided': {
      const status = t(STATUS[approval.status]);
      const by = approval.votes
        .filter((v) => (approval.status === 'approved' ? v.decision === 'approve' : v.decision === 'reject'))
        .map((v) => v.actor.name);
      return by.length > 0
        ? t('refusedAlreadyDecidedBy', { status, names: by.join(', ') })
        : t('refusedAlreadyDecided', { status });
    }
    case 'self-approval':
      if (refusal.seat) return t('refusedSelfApprovalInPlace', { name: refusal.seat.name });
      return user && user === approval.requester.user ? t('refusedSelfApproval') : refusal.message;
    case 'excluded': {
      const seat = refusal.seat;
      const barred = seat && approval.excluded?.find((e) => e.user === seat.user);
      if (seat && barred)
        return t('refusedExcludedInPlace', { name: seat.name, because: becauseIn(barred.because, language) });
      const mine = approval.excluded?.find((e) => e.user === user);
      return mine ? t('refusedExcluded', { because: becauseIn(mine.because, language) }) : refusal.message;
    }
    case 'already-voted': {
      // Their own vote (perhaps cast for someone who delegated to them), else their delegate's in their place.
      const mine = approval.votes.find((v) => v.user === user);
      if (mine)
        return mine.onBehalfOf
          ? t('refusedAlreadyVotedFor', { name: mine.onBehalfOf.name })
          : t('refusedAlreadyVoted');
      const forMe = approval.votes.find((v) => v.onBehalfOf?.user === user);
      if (forMe) return t('refusedVotedInYourPlace', { name: forMe.actor.name });
      return refusal.seat ? t('refusedSeatAlreadyVoted', { name: refusal.seat.name }) : refusal.message;
    }
    default:
      return refusal.message;
  }
}
