import { Logger } from '@aws-lambda-powertools/logger';
import { getSecret } from '@aws-lambda-powertools/parameters/secrets';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { Hono } from 'hono';
import { getConnInfo, handle, type LambdaEvent } from 'hono/aws-lambda';
import { createChatChannel } from '../chat/channel.ts';
import { createConsoleChannel } from '../chat/console/index.ts';
import { chatAdapters } from '../chat/index.ts';
import { createSignoff, type Signoff } from '../core/app.ts';
import { createApprovalStore } from '../core/approvals/store.ts';
import { createAuditLog } from '../core/audit.ts';
import {
  CHAT_SECRET_PREFIXES,
  configForFunction,
  parseAwsSettings,
  secretFingerprint,
  secretRecord,
} from '../core/aws-env.ts';
import { disabledWorkflows, enabledWorkflows } from '../core/config.ts';
import { auditConfiguration } from '../core/config-audit.ts';
import { DYNAMODB_MAX_ATTEMPTS } from '../core/db.ts';
import { createEventDeduper } from '../core/dedupe.ts';
import { createDelegationStore } from '../core/delegations.ts';
import { createDeploymentStore } from '../core/deployments.ts';
import { createEngineClient } from '../core/engine.ts';
import { createLanguageStore, readerLanguage } from '../core/languages.ts';
import { awsConsoleExecutionUrl } from '../core/links.ts';
import { createNotificationStore } from '../core/notifications.ts';
import { createPipelineStore } from '../core/pipelines.ts';
import { createSupportCaseStore, type SupportApi, type SupportDeps } from '../core/support-cases.ts';
import { createApp } from './app.ts';
import { type AppDeps, appDepsFor, type Surface } from './deps.ts';

/** Inlined by the CDK app's esbuild `define` (see tasks/lambda.ts); undeclared elsewhere. */
declare const SIGNOFF_BUNDLED_CONFIG: string | undefined;

/** The input of the scheduled rule that re-delivers decisions a failed SendTaskSuccess left in the outbox. */
export const REDELIVER_EVENT = { signoff: 'redeliver' } as const;

export interface WebhookRuntime {
  env: Record<string, string | undefined>;
  readSecret(secretId: string, maxAgeSeconds: number): Promise<unknown>;
  logger: Logger;
  /**
   * The AWS Support client factory (integrations/support.ts `createSupportClient`), passed by
   * the function's generated entry (cdk/bundling.ts): webhooks/ does not import integrations/.
   * Absent: the support chat commands answer that support is not set up.
   */
  support?: (config: { endpoint?: string }) => SupportApi;
  /**
   * Surfaces mounted beside the webhooks (the console, console/), passed by the generated
   * entry (cdk/bundling.ts): webhooks/ does not import them.
   */
  surfaces?: Surface[];
}

type LambdaHandler = ReturnType<typeof handle>;

function isRedeliver(event: unknown): boolean {
  return (
    typeof event === 'object' && event !== null && (event as { signoff?: unknown }).signoff === 'redeliver'
  );
}

/**
 * The AWS entry of the Hono app: API Gateway HTTP API (payload 2.0) events in, responses out.
 * Clients and stores are built once per cold start. The secret (Powertools `getSecret`, cached
 * for `maxAge`) holds the GitLab webhook tokens and the chat platforms' keys (`LARK_*`,
 * `LINE_*`, the same names as the local environment): the chat adapters (each with its
 * `POST /webhooks/<platform>` route) and the app are rebuilt only when a rotation changed
 * them. The console stays behind its loopback guard: on AWS the client address is the API
 * Gateway source IP, so it answers only when `console.allowRemote` is set.
 */
export function createWebhookHandler(runtime: WebhookRuntime) {
  const { env, logger } = runtime;
  const settings = parseAwsSettings(env);
  const bundled = typeof SIGNOFF_BUNDLED_CONFIG === 'string' ? SIGNOFF_BUNDLED_CONFIG : undefined;
  const config = configForFunction(bundled, env);
  const log: AppDeps['log'] = (level, message, fields) => logger[level](message, fields ?? {});
  logger.info('workflows', { enabled: enabledWorkflows(config), disabled: disabledWorkflows(config) });
  const info = (message: string, fields?: Record<string, unknown>) => log('info', message, fields);
  const dynamo = new DynamoDBClient({ region: settings.region, maxAttempts: DYNAMODB_MAX_ATTEMPTS });
  const store = createApprovalStore(dynamo, settings.tableName);
  const audit = createAuditLog(dynamo, settings.tableName);
  const notifications = createNotificationStore(dynamo, settings.tableName);
  const delegations = createDelegationStore(dynamo, settings.tableName);
  const languages = createLanguageStore(dynamo, settings.tableName);
  const languageOf = readerLanguage(config, languages);
  const dedupe = createEventDeduper(dynamo, settings.tableName);
  const deployments = createDeploymentStore(dynamo, settings.tableName);
  const pipelines = createPipelineStore(dynamo, settings.tableName);
  const engine = createEngineClient({
    region: settings.region,
    accountId: settings.accountId,
    stateMachinePrefix: settings.stateMachinePrefix,
  });
  const support: SupportDeps | undefined = runtime.support
    ? {
        api: runtime.support(settings.supportEndpoint ? { endpoint: settings.supportEndpoint } : {}),
        cases: createSupportCaseStore(dynamo, settings.tableName),
      }
    : undefined;
  let current: { key: string; handler: LambdaHandler; signoff: Signoff } | undefined;

  async function built(): Promise<{ handler: LambdaHandler; signoff: Signoff }> {
    const secrets = settings.secretId
      ? secretRecord(
          await runtime.readSecret(settings.secretId, settings.secretMaxAgeSeconds),
          settings.secretId,
        )
      : {};
    const gitlabWebhookToken = secrets.GITLAB_WEBHOOK_TOKEN;
    const gitlabSigningToken = secrets.GITLAB_WEBHOOK_SIGNING_TOKEN;
    const key = JSON.stringify([
      gitlabWebhookToken ?? '',
      gitlabSigningToken ?? '',
      secretFingerprint(secrets, CHAT_SECRET_PREFIXES),
      secretFingerprint(secrets, ['SIGNOFF_OIDC_', 'SIGNOFF_SESSION_']),
    ]);
    // The console's sign-in (console/auth.ts): sessions signed with SIGNOFF_SESSION_KEY (32+
    // characters), the provider's client secret; no session key, no console for anyone.
    const sessionKey = new TextEncoder().encode(secrets.SIGNOFF_SESSION_KEY ?? '');
    const consoleAccess =
      sessionKey.length >= 32
        ? {
            demo: false,
            sessionKey,
            ...(secrets.SIGNOFF_OIDC_CLIENT_SECRET
              ? { oidcClientSecret: secrets.SIGNOFF_OIDC_CLIENT_SECRET }
              : {}),
            tokens: [],
          }
        : undefined;
    if (current?.key === key) return current;
    const chats = chatAdapters(secrets);
    const signoff = createSignoff({
      config,
      store,
      audit,
      notifications,
      dedupe,
      delegations,
      languages,
      engine,
      channels: [
        createConsoleChannel(),
        ...chats.map((adapter) => createChatChannel(adapter, config, info, { languageOf })),
      ],
      deployments,
      pipelines,
      ...(support ? { support } : {}),
      executionUrl: awsConsoleExecutionUrl,
      clock: { now: () => new Date() },
      logger: {
        debug: (message, fields) => logger.debug(message, fields ?? {}),
        info: (message, fields) => logger.info(message, fields ?? {}),
        warn: (message, fields) => logger.warn(message, fields ?? {}),
        error: (message, fields) => logger.error(message, fields ?? {}),
      },
    });
    const app: Hono = createApp(
      appDepsFor(signoff, {
        ...(gitlabWebhookToken ? { gitlabWebhookToken } : {}),
        ...(gitlabSigningToken ? { gitlabSigningToken } : {}),
        chats,
        ...(consoleAccess ? { consoleAccess } : {}),
        remoteAddress: (c) => {
          try {
            return getConnInfo(c).remote.address;
          } catch {
            return undefined;
          }
        },
      }),
      runtime.surfaces ?? [],
    );
    if (current) logger.info('credentials changed, app rebuilt', { platforms: chats.map((c) => c.platform) });
    current = { key, handler: handle(app), signoff };
    return current;
  }

  // Once per cold start, before the first request: audit the configuration if it changed.
  let configAudited: Promise<void> | undefined;
  return async (event: unknown, context?: unknown): Promise<unknown> => {
    configAudited ??= auditConfiguration(audit, config, {
      source: bundled === undefined ? 'SIGNOFF_CONFIG' : 'bundled with the function',
      by: env.AWS_LAMBDA_FUNCTION_NAME ?? 'the webhook function',
    }).then(
      () => undefined,
      (error: unknown) => logger.warn('configuration not audited', { error: String(error) }),
    );
    await configAudited;
    if (isRedeliver(event)) {
      // Redelivery also writes the records and refreshes the cards a crash cut short: it needs the chat channels.
      const count = await (await built()).signoff.approvals.redeliver();
      if (count > 0) logger.info('redelivered decisions', { count });
      return { redelivered: count };
    }
    const { handler } = await built();
    return handler(event as LambdaEvent, context as Parameters<LambdaHandler>[1]);
  };
}

/**
 * The Lambda handler, built on the first event (cold start) from process.env, Powertools
 * `getSecret` and the given clients. The CDK app's generated entry calls it:
 * `export const handler = lambdaWebhook({ support: createSupportClient })`.
 */
export function lambdaWebhook(
  clients: Pick<WebhookRuntime, 'support' | 'surfaces'> = {},
): (event: unknown, context?: unknown) => Promise<unknown> {
  let webhookHandler: ReturnType<typeof createWebhookHandler> | undefined;
  return (event, context) => {
    webhookHandler ??= createWebhookHandler({
      env: process.env,
      readSecret: (secretId, maxAge) => getSecret(secretId, { maxAge, transform: 'json' }),
      logger: new Logger({ serviceName: 'signoff' }),
      ...clients,
    });
    return webhookHandler(event, context);
  };
}
