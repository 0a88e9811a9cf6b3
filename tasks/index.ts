import type { Task } from './deps.ts';
import { expireApproval } from './expire-approval.ts';
import { mergeRequestTask } from './merge-request.ts';
import { notify } from './notify.ts';
import { requestApproval } from './request-approval.ts';

/** Every task by its one name (file, state `RequestApproval`, placeholder `${RequestApprovalArn}`). */
export const tasks: Record<string, Task<never, unknown>> = Object.fromEntries(
  [requestApproval, expireApproval, mergeRequestTask, notify].map((task) => [
    task.name,
    task as Task<never, unknown>,
  ]),
);
