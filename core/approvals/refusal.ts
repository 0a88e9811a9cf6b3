import { ConflictError, ForbiddenError, NotFoundError } from '../errors.ts';
import type { DecideResult } from './decide.ts';

/** Turn a refused decision into the HTTP error a client can act on. */
export function refusalError(result: Extract<DecideResult, { outcome: 'refused' }>): Error {
  switch (result.reason) {
    case 'not-found':
      return new NotFoundError(result.message, { code: 'ApprovalNotFound' });
    case 'not-an-approver':
      return new ForbiddenError(result.message, { code: 'NotAnApprover' });
    case 'self-approval':
      return new ForbiddenError(result.message, { code: 'SelfApproval' });
    case 'excluded':
      return new ForbiddenError(result.message, { code: 'Excluded' });
    case 'already-voted':
      return new ConflictError(result.message, { code: 'AlreadyVoted' });
    case 'already-decided':
      return new ConflictError(result.message, { code: 'AlreadyDecided' });
    case 'expired':
      return new ConflictError(result.message, { code: 'Expired' });
    case 'confirm-signed-in':
      return new ForbiddenError(result.message, { code: 'ConfirmSignedIn' });
    case 'sign-in-again':
      return new ForbiddenError(result.message, { code: 'SignInAgain' });
    case 'busy':
      return new ConflictError(result.message, { code: 'Busy' });
  }
}
