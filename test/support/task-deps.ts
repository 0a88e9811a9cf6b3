import { createSignoff, type Ports } from '../../core/app.ts';
import type { ApprovalChannel } from '../../core/approvals/service.ts';
import { createApprovalStore } from '../../core/approvals/store.ts';
import { createAuditLog } from '../../core/audit.ts';
import { type Config, DEFAULT_CONFIG_INPUT, parseConfig } from '../../core/config.ts';
import { createEventDeduper } from '../../core/dedupe.ts';
import { createDelegationStore } from '../../core/delegations.ts';
import type { EngineClient } from '../../core/engine.ts';
import { createLanguageStore } from '../../core/languages.ts';
import { createNotificationStore } from '../../core/notifications.ts';
import type { GitLabClient } from '../../integrations/gitlab.ts';
import type { LambdaClientLike } from '../../integrations/lambda.ts';
import { type TaskDeps, taskDepsFor } from '../../tasks/deps.ts';
import type { TestDynamo } from './dynamo.ts';

const quiet = () => {};

/** An engine for tasks that never resume anything: any call is a test bug, said so. */
const noEngine = new Proxy({} as EngineClient, {
  get: (_target, name) => () => {
    throw new Error(`this test's engine has no ${String(name)}`);
  },
});

/** A GitLab client for tasks that never call GitLab. */
const noGitLab = new Proxy({} as GitLabClient, {
  get: (_target, name) => () => {
    throw new Error(`this test's GitLab has no ${String(name)}`);
  },
});

/**
 * Task dependencies as the entry points build them (real stores on the embedded DynamoDB, a
 * real `Signoff`), with whatever a test supplies for the engine, channels and integrations.
 */
export function taskDepsOn(
  dynamo: TestDynamo,
  options: Partial<Pick<Ports, 'engine' | 'channels' | 'deployments' | 'support'>> & {
    config?: Config;
    gitlab?: GitLabClient;
    lambda?: LambdaClientLike;
  } = {},
): TaskDeps {
  const { client, tableName } = dynamo;
  const signoff = createSignoff({
    config: options.config ?? parseConfig(DEFAULT_CONFIG_INPUT),
    store: createApprovalStore(client, tableName),
    audit: createAuditLog(client, tableName),
    notifications: createNotificationStore(client, tableName),
    delegations: createDelegationStore(client, tableName),
    languages: createLanguageStore(client, tableName),
    dedupe: createEventDeduper(client, tableName),
    engine: options.engine ?? noEngine,
    channels: options.channels ?? ([] as ApprovalChannel[]),
    ...(options.deployments ? { deployments: options.deployments } : {}),
    ...(options.support ? { support: options.support } : {}),
    executionUrl: (arn) => `http://console/${arn}`,
    clock: { now: () => new Date() },
    logger: { debug: quiet, info: quiet, warn: quiet, error: quiet },
  });
  return taskDepsFor(signoff, {
    gitlab: options.gitlab ?? noGitLab,
    ...(options.lambda ? { lambda: options.lambda } : {}),
  });
}
