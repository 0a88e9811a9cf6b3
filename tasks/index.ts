import type { Task } from './deps.ts';
import { diffAliases } from './diff-aliases.ts';
import { expireApproval } from './expire-approval.ts';
import { loadDeployment } from './load-deployment.ts';
import { mergeRequestTask } from './merge-request.ts';
import { notify } from './notify.ts';
import { notifyDeployment } from './notify-deployment.ts';
import { prepareMergeRequest } from './prepare-merge-request.ts';
import { prepareRelease } from './prepare-release.ts';
import { promoteAliases } from './promote-aliases.ts';
import { recordDeployment } from './record-deployment.ts';
import { remindApprovers } from './remind-approvers.ts';
import { reportRelease } from './report-release.ts';
import { requestApproval } from './request-approval.ts';
import { restoreAliases } from './restore-aliases.ts';
import { supportCaseTask } from './support-case.ts';
import { triggerPipeline } from './trigger-pipeline.ts';

/** Every task by its one name (file, state `RequestApproval`, placeholder `${RequestApprovalArn}`). */
export const tasks: Record<string, Task<never, unknown>> = Object.fromEntries(
  [
    requestApproval,
    expireApproval,
    prepareMergeRequest,
    mergeRequestTask,
    notify,
    supportCaseTask,
    diffAliases,
    promoteAliases,
    restoreAliases,
    recordDeployment,
    loadDeployment,
    notifyDeployment,
    prepareRelease,
    triggerPipeline,
    reportRelease,
    remindApprovers,
  ].map((task) => [task.name, task as Task<never, unknown>]),
);
