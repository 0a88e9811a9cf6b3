import { ConflictError, ForbiddenError, NotFoundError, type SignoffError } from '../errors.ts';
import type { Approval } from './types.ts';

/** Why a withdrawal did nothing. */
export type WithdrawRefusal = 'not-found' | 'not-yours' | 'not-pending';

export type WithdrawResult =
  /** The request is cancelled: its execution ends `Signoff.Cancelled`, every card shows it. */
  | { outcome: 'withdrawn'; approval: Approval }
  | { outcome: 'refused'; reason: WithdrawRefusal; message: string; approval?: Approval };

/** The reason a withdrawn request is cancelled with (on its cards, in the execution's cause). */
export function withdrawnReason(name: string, why?: string): string {
  const reason = why?.trim().slice(0, 500);
  return `withdrawn by ${name}${reason ? `: ${reason}` : ''}`;
}

/** The HTTP error (and CLI message) for a refused withdrawal. */
export function withdrawRefusalError(result: Extract<WithdrawResult, { outcome: 'refused' }>): SignoffError {
  switch (result.reason) {
    case 'not-found':
      return new NotFoundError('no such approval', { code: 'ApprovalNotFound' });
    case 'not-yours':
      return new ForbiddenError(result.message, { code: 'NotYourRequest' });
    case 'not-pending':
      return new ConflictError(result.message, { code: 'NotPending' });
  }
}
