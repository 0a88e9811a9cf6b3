import type { Signoff } from '../core/app.ts';
import type { ApprovalChannel, ApprovalService } from '../core/approvals/service.ts';
import type { ApprovalStore } from '../core/approvals/store.ts';
import type { AuditLog } from '../core/audit.ts';
import type { Config } from '../core/config.ts';
import type { DeploymentStore } from '../core/deployments.ts';
import type { NotificationStore } from '../core/notifications.ts';
import type { PipelineStore } from '../core/pipelines.ts';
import type { SupportDeps } from '../core/support-cases.ts';
import type { GitLabClient } from '../integrations/gitlab.ts';
import type { LambdaClientLike } from '../integrations/lambda.ts';

/**
 * What every task may use: the use cases (`signoff`), the ports they run on, and the
 * integrations. Built once per process by an entry point (local/start.ts, tasks/lambda.ts)
 * with `taskDepsFor`.
 */
export interface TaskDeps {
  signoff: Signoff;
  config: Config;
  approvals: ApprovalService;
  store: ApprovalStore;
  audit: AuditLog;
  notifications: NotificationStore;
  gitlab: GitLabClient;
  /** Lambda, for deploy and rollback tasks (optional so entries that run no such task need not build it). */
  lambda?: LambdaClientLike;
  /** Deployment records, for deploy and rollback tasks. */
  deployments?: DeploymentStore;
  /** AWS Support (client + case records), for the support-case task. */
  support?: SupportDeps;
  /** Pipeline id → task token, for the release tasks. */
  pipelines?: PipelineStore;
  channels: ApprovalChannel[];
  /** Where a person can watch an execution: the AWS console on AWS, the local console otherwise. */
  executionUrl(executionArn: string): string;
  now(): Date;
  log(message: string, fields?: Record<string, unknown>): void;
}

/** The integrations a task may call besides the ports. */
export interface TaskIntegrations {
  gitlab: GitLabClient;
  lambda?: LambdaClientLike;
}

/** Task dependencies over one `Signoff`: its ports, its use cases, and the integrations. */
export function taskDepsFor(signoff: Signoff, integrations: TaskIntegrations): TaskDeps {
  const { ports } = signoff;
  return {
    signoff,
    config: ports.config,
    approvals: signoff.approvals,
    store: ports.store,
    audit: ports.audit,
    notifications: ports.notifications,
    gitlab: integrations.gitlab,
    ...(integrations.lambda ? { lambda: integrations.lambda } : {}),
    ...(ports.deployments ? { deployments: ports.deployments } : {}),
    ...(ports.support ? { support: ports.support } : {}),
    ...(ports.pipelines ? { pipelines: ports.pipelines } : {}),
    channels: ports.channels,
    executionUrl: ports.executionUrl,
    now: () => ports.clock.now(),
    log: (message, fields) => ports.logger.info(message, fields),
  };
}

/** A task: a small function of (input, deps), with the schema its input must match. */
export interface Task<Input = unknown, Output = unknown> {
  name: string;
  input: { parse(value: unknown): Input };
  run(input: Input, deps: TaskDeps): Promise<Output>;
}
