import { Logger } from '@aws-lambda-powertools/logger';
import { getSecret } from '@aws-lambda-powertools/parameters/secrets';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { ZodError, z } from 'zod';
import { createChatChannel } from '../chat/channel.ts';
import { createConsoleChannel } from '../chat/console/index.ts';
import { createSignoff, type Logger as SignoffLogger } from '../core/app.ts';
import type { ApprovalChannel } from '../core/approvals/service.ts';
import { createApprovalStore } from '../core/approvals/store.ts';
import { createAuditLog } from '../core/audit.ts';
import {
  type AwsSettings,
  CHAT_SECRET_PREFIXES,
  configForFunction,
  parseAwsSettings,
  secretFingerprint,
  secretRecord,
  secretsFromJson,
} from '../core/aws-env.ts';
import type { ChatAdapter } from '../core/chat.ts';
import { auditConfiguration } from '../core/config-audit.ts';
import { DYNAMODB_MAX_ATTEMPTS } from '../core/db.ts';
import { createEventDeduper } from '../core/dedupe.ts';
import { createDelegationStore } from '../core/delegations.ts';
import { createDeploymentStore } from '../core/deployments.ts';
import { createEngineClient } from '../core/engine.ts';
import { ConfigError, InvalidInputError } from '../core/errors.ts';
import { createLanguageStore, readerLanguage } from '../core/languages.ts';
import { awsConsoleExecutionUrl } from '../core/links.ts';
import { createNotificationStore } from '../core/notifications.ts';
import { createPipelineStore } from '../core/pipelines.ts';
import { createSupportCaseStore, type SupportApi } from '../core/support-cases.ts';
import type { GitLabClient, GitLabConfig } from '../integrations/gitlab.ts';
import type { LambdaClientLike, LambdaConfig } from '../integrations/lambda.ts';
import type { SupportConfig } from '../integrations/support.ts';
import { type Task, type TaskDeps, taskDepsFor } from './deps.ts';
import { taskFailureLog } from './failure-log.ts';

/**
 * The validated configuration, inlined by the CDK app's esbuild `define`. Undeclared outside
 * such a bundle, where `typeof` says 'undefined' and `loadConfig()` applies instead.
 */
declare const SIGNOFF_BUNDLED_CONFIG: string | undefined;

/** A Lambda handler: the state machine's `Payload` in, the task's output out. */
export type TaskHandler = (event: unknown) => Promise<unknown>;

/**
 * The clients a task's function builds, as factories. The CDK app's generated entry of each
 * function passes only those its task uses (cdk/task-access.ts), so a bundle holds only the
 * SDKs its task calls: the Lark and LINE SDKs only where cards are sent, the Lambda client
 * only in deploy tasks. A task given none of a kind fails with a ConfigError if it calls it.
 */
export interface TaskClients {
  /** GitLab (merge-request), with GITLAB_URL and GITLAB_TOKEN from the secret. */
  gitlab?: (config: GitLabConfig) => GitLabClient;
  /** Chat adapters from the secret's LARK_*, LINE_* keys (chat/index.ts `chatAdapters`). */
  chats?: (secrets: Record<string, string | undefined>) => ChatAdapter[];
  /** AWS Lambda (deploy and rollback tasks). */
  lambda?: (config: LambdaConfig) => LambdaClientLike;
  /** AWS Support (the support-case task). */
  support?: (config: SupportConfig) => SupportApi;
}

/** Everything a handler needs from its surroundings; the defaults are the Lambda ones. */
export interface TaskRuntime {
  env: Record<string, string | undefined>;
  /** Read the installation's secret (parsed JSON); Powertools `getSecret` with `maxAge` on AWS. */
  readSecret(secretId: string, maxAgeSeconds: number): Promise<unknown>;
  logger: Logger;
  clients?: TaskClients;
}

/**
 * Find the task a module exports, by its one name. A generated per-task entry imports only
 * `tasks/<name>.ts`, so each function's bundle holds one task and what it uses.
 */
export function taskFrom(module: Record<string, unknown>, name: string): Task<never, unknown> {
  for (const value of Object.values(module)) {
    if (
      typeof value === 'object' &&
      value !== null &&
      (value as { name?: unknown }).name === name &&
      typeof (value as { run?: unknown }).run === 'function'
    ) {
      return value as Task<never, unknown>;
    }
  }
  throw new ConfigError(`the module for task ${name} exports no task named ${name}`);
}

/** A GitLab client that reads the secret on each call (cached for maxAge), so tasks that never call GitLab never read it. */
function secretGitLabClient(
  settings: AwsSettings,
  runtime: TaskRuntime,
  create: TaskClients['gitlab'],
): GitLabClient {
  let cached: { url: string; token: string; client: GitLabClient } | undefined;
  async function client(): Promise<GitLabClient> {
    if (!create) throw new ConfigError("this function's task does not call GitLab: it has no GitLab client");
    if (!settings.secretId) throw new ConfigError('this function has no secret: it may not call GitLab');
    const secrets = secretsFromJson(
      await runtime.readSecret(settings.secretId, settings.secretMaxAgeSeconds),
      settings.secretId,
    );
    if (!secrets.gitlabUrl || !secrets.gitlabToken) {
      throw new ConfigError(`secret ${settings.secretId} needs GITLAB_URL and GITLAB_TOKEN to call GitLab`);
    }
    // Rebuild only when a rotation changed the credentials.
    if (cached?.url !== secrets.gitlabUrl || cached.token !== secrets.gitlabToken) {
      cached = {
        url: secrets.gitlabUrl,
        token: secrets.gitlabToken,
        client: create({ url: secrets.gitlabUrl, token: secrets.gitlabToken }),
      };
    }
    return cached.client;
  }
  return {
    getMergeRequest: async (projectId, iid) => (await client()).getMergeRequest(projectId, iid),
    listMergeRequestCommits: async (projectId, iid) =>
      (await client()).listMergeRequestCommits(projectId, iid),
    approve: async (projectId, iid, sha) => (await client()).approve(projectId, iid, sha),
    merge: async (projectId, iid, sha, read) => (await client()).merge(projectId, iid, sha, read),
    close: async (projectId, iid) => (await client()).close(projectId, iid),
    addNote: async (projectId, iid, body) => (await client()).addNote(projectId, iid, body),
    getCommit: async (project, ref) => (await client()).getCommit(project, ref),
    compare: async (project, from, to) => (await client()).compare(project, from, to),
    createPipeline: async (project, ref, variables) =>
      (await client()).createPipeline(project, ref, variables),
    getPipeline: async (project, id) => (await client()).getPipeline(project, id),
    cancelPipeline: async (project, id) => (await client()).cancelPipeline(project, id),
  };
}

/** Builds a function's task dependencies; `current()` re-reads the secret (cached) when the task sends cards. */
export interface AwsTaskDeps {
  current(): Promise<TaskDeps>;
}

/**
 * Build the task dependencies of a function on AWS from its environment: clients and stores
 * once per cold start; the chat channels (and the approval service that updates cards through
 * them) from the secret's chat keys, rebuilt only when a rotation changed those keys.
 */
export function createAwsTaskDeps(runtime: TaskRuntime): AwsTaskDeps {
  const settings = parseAwsSettings(runtime.env);
  const clients = runtime.clients ?? {};
  const bundled = typeof SIGNOFF_BUNDLED_CONFIG === 'string' ? SIGNOFF_BUNDLED_CONFIG : undefined;
  const config = configForFunction(bundled, runtime.env);
  const log = (message: string, fields?: Record<string, unknown>) =>
    runtime.logger.info(message, fields ?? {});
  const dynamo = new DynamoDBClient({ region: settings.region, maxAttempts: DYNAMODB_MAX_ATTEMPTS });
  const store = createApprovalStore(dynamo, settings.tableName);
  const audit = createAuditLog(dynamo, settings.tableName);
  const notifications = createNotificationStore(dynamo, settings.tableName);
  const delegations = createDelegationStore(dynamo, settings.tableName);
  const languages = createLanguageStore(dynamo, settings.tableName);
  const languageOf = readerLanguage(config, languages);
  const engine = createEngineClient({
    region: settings.region,
    accountId: settings.accountId,
    stateMachinePrefix: settings.stateMachinePrefix,
  });
  const lambda = clients.lambda?.({
    region: settings.region,
    ...(settings.lambdaEndpoint ? { endpoint: settings.lambdaEndpoint } : {}),
  });
  const support = clients.support?.(settings.supportEndpoint ? { endpoint: settings.supportEndpoint } : {});
  const gitlab = secretGitLabClient(settings, runtime, clients.gitlab);
  const deployments = createDeploymentStore(dynamo, settings.tableName);
  const pipelines = createPipelineStore(dynamo, settings.tableName);
  const supportDeps = support
    ? { api: support, cases: createSupportCaseStore(dynamo, settings.tableName) }
    : undefined;
  const dedupe = createEventDeduper(dynamo, settings.tableName);
  const logger = loggerOf(runtime.logger);
  const withChannels = (channels: ApprovalChannel[]): TaskDeps =>
    taskDepsFor(
      createSignoff({
        config,
        store,
        audit,
        notifications,
        dedupe,
        delegations,
        languages,
        engine,
        channels,
        deployments,
        pipelines,
        ...(supportDeps ? { support: supportDeps } : {}),
        executionUrl: awsConsoleExecutionUrl,
        clock: { now: () => new Date() },
        logger,
      }),
      { gitlab, ...(lambda ? { lambda } : {}) },
    );

  // Once per cold start, before the first task: audit the configuration if it changed.
  let configAudited: Promise<void> | undefined;
  const auditConfigOnce = () =>
    (configAudited ??= auditConfiguration(audit, config, {
      source: bundled === undefined ? 'SIGNOFF_CONFIG' : 'bundled with the function',
      by: runtime.env.AWS_LAMBDA_FUNCTION_NAME ?? 'a task function',
    }).then(
      () => undefined,
      (error: unknown) => runtime.logger.warn('configuration not audited', { error: String(error) }),
    ));

  const consoleOnly = withChannels([createConsoleChannel()]);
  const chats = clients.chats;
  if (!chats || !settings.secretId)
    return {
      current: async () => {
        await auditConfigOnce();
        return consoleOnly;
      },
    };
  const secretId = settings.secretId;
  let cached: { key: string; deps: TaskDeps } | undefined;
  return {
    async current() {
      await auditConfigOnce();
      const secrets = secretRecord(
        await runtime.readSecret(secretId, settings.secretMaxAgeSeconds),
        secretId,
      );
      const key = secretFingerprint(secrets, CHAT_SECRET_PREFIXES);
      if (cached?.key !== key) {
        const adapters = chats(secrets);
        cached = {
          key,
          deps: withChannels([
            createConsoleChannel(),
            ...adapters.map((adapter) => createChatChannel(adapter, config, log, { languageOf })),
          ]),
        };
      }
      return cached.deps;
    },
  };
}

/** The use cases' logger over the function's Powertools logger. */
function loggerOf(logger: Pick<Logger, 'debug' | 'info' | 'warn' | 'error'>): SignoffLogger {
  return {
    debug: (message, fields) => logger.debug(message, fields ?? {}),
    info: (message, fields) => logger.info(message, fields ?? {}),
    warn: (message, fields) => logger.warn(message, fields ?? {}),
    error: (message, fields) => logger.error(message, fields ?? {}),
  };
}

/** The Lambda runtime: process.env, Powertools `getSecret`, a Powertools logger, and the task's clients. */
export function awsTaskRuntime(clients: TaskClients = {}): TaskRuntime {
  return {
    env: process.env,
    readSecret: (secretId, maxAge) => getSecret(secretId, { maxAge, transform: 'json' }),
    logger: new Logger({ serviceName: 'signoff' }),
    clients,
  };
}

/**
 * Turn a task into a Lambda handler: parse the payload with the task's schema (a bad payload
 * is an InvalidInputError naming the fields), build the dependencies once per cold start,
 * and let errors through with their class name, which ASL Retry/Catch match on, after one
 * error-level `task failed` line with the cause (tasks/failure-log.ts).
 */
export function lambdaTask(task: Task<never, unknown>, runtime: TaskRuntime = awsTaskRuntime()): TaskHandler {
  let built: AwsTaskDeps | undefined;
  const { logger } = runtime;
  logger.appendPersistentKeys({ task: task.name });
  const parse = (event: unknown): never => {
    try {
      return task.input.parse(event);
    } catch (error) {
      if (error instanceof ZodError) {
        throw new InvalidInputError(`task ${task.name} got a bad payload: ${z.prettifyError(error)}`);
      }
      throw error;
    }
  };
  return async (event) => {
    built ??= createAwsTaskDeps(runtime);
    const executionArn = (event as { executionArn?: unknown } | null)?.executionArn;
    if (typeof executionArn === 'string') logger.appendKeys({ executionId: executionArn });
    try {
      return await task.run(parse(event), await built.current());
    } catch (error) {
      // The one log line of a failure; Step Functions keeps the error and cause in the history.
      logger.error('task failed', { ...taskFailureLog(task.name, event, error) });
      throw error;
    } finally {
      logger.resetKeys();
    }
  };
}
