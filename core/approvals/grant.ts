import { ForbiddenError } from '../errors.ts';
import { mayApprove, seatOf } from './seats.ts';
import type { Approval, Decision } from './types.ts';

/**
 * An action task was resumed without a granted approval: a `SendTaskSuccess` that did not come
 * from Signoff's decision (anyone holding `states:SendTaskSuccess` and the token can send one),
 * or an approval that does not satisfy its policy. The workflow fails with this error's name.
 */
export class ApprovalNotGrantedError extends ForbiddenError {}

/**
 * Why `approval` does not grant `decision` for `executionArn` under its own policy, or
 * undefined when it does. Re-counts from the votes rather than trusting the status: distinct
 * seats of allowed approvers (a delegate's vote fills the seat of the approver it was cast for),
 * the requester and the excluded people — as voters or as seats — not counted towards an approval.
 *
 * @example grantRefusal(approval, 'approve', executionArn) // → undefined, or 'it is pending with 0 of 2 approvals'
 */
export function grantRefusal(
  approval: Approval,
  decision: Decision,
  executionArn: string,
): string | undefined {
  if (approval.executionArn !== executionArn) return 'it belongs to another execution';
  const wanted = decision === 'approve' ? 'approved' : 'rejected';
  const allowed = new Set(approval.policy.approvers);
  const counting = new Set<string>();
  const voters = new Set<string>();
  for (const v of approval.votes) {
    if (v.decision !== decision || !allowed.has(seatOf(v)) || v.actor.user !== v.user) continue;
    if (decision === 'approve' && !(mayApprove(approval, v.user) && mayApprove(approval, seatOf(v))))
      continue;
    // One person, one seat: a person's second vote (or a seat's second voter) adds nothing.
    if (voters.has(v.user) || counting.has(seatOf(v))) continue;
    voters.add(v.user);
    counting.add(seatOf(v));
  }
  const needed = decision === 'approve' ? approval.policy.required : 1;
  if (approval.status !== wanted || counting.size < needed) {
    const noun = decision === 'approve' ? 'approvals' : 'rejections';
    return `it is ${approval.status} with ${counting.size} of ${needed} ${noun} that count`;
  }
  return undefined;
}
