import { ForbiddenError } from '../errors.ts';
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
 * allowed approvers, the requester and the excluded people not counted towards an approval.
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
  const excluded = new Set((approval.excluded ?? []).map((e) => e.user));
  const counting = new Set(
    approval.votes
      .filter((v) => v.decision === decision && allowed.has(v.user) && v.actor.user === v.user)
      .filter(
        (v) =>
          decision === 'reject' ||
          ((approval.policy.allowSelfApproval || v.user !== approval.requester.user) &&
            !excluded.has(v.user)),
      )
      .map((v) => v.user),
  );
  const needed = decision === 'approve' ? approval.policy.required : 1;
  if (approval.status !== wanted || counting.size < needed) {
    const noun = decision === 'approve' ? 'approvals' : 'rejections';
    return `it is ${approval.status} with ${counting.size} of ${needed} ${noun} that count`;
  }
  return undefined;
}
