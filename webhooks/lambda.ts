import { Logger } from '@aws-lambda-powertools/logger';
import { getSecret } from '@aws-lambda-powertools/parameters/secrets';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { Hono } from 'hono';
import { getConnInfo, handle, type LambdaEvent } from 'hono/aws-lambda';
import { createConsoleChannel } from '../chat/console/index.ts';
import { createApprovalService } from '../core/approvals/service.ts';
import { createApprovalStore } from '../core/approvals/store.ts';
import { createAuditLog } from '../core/audit.ts';
import { configForFunction, parseAwsSettings, secretsFromJson } from '../core/aws-env.ts';
import { createEventDeduper } from '../core/dedupe.ts';
import { createEngineClient } from '../core/engine.ts';
import { awsConsoleExecutionUrl } from '../core/links.ts';
import { createNotificationStore } from '../core/notifications.ts';
import { createApp } from './app.ts';
import type { AppDeps } from './deps.ts';

/** Inlined by the CDK app's esbuild `define` (see tasks/lambda.ts); undeclared elsewhere. */
declare const SIGNOFF_BUNDLED_CONFIG: string | undefined;

/** The input of the scheduled rule that re-delivers decisions a failed SendTaskSuccess left in the outbox. */
export const REDELIVER_EVENT = { signoff: 'redeliver' } as const;

export interface WebhookRuntime {
  env: Record<string, string | undefined>;
  readSecret(secretId: string, maxAgeSeconds: number): Promise<unknown>;
  logger: Logger;
}

type LambdaHandler = ReturnType<typeof handle>;

function isRedeliver(event: unknown): boolean {
  return (
    typeof event === 'object' && event !== null && (event as { signoff?: unknown }).signoff === 'redeliver'
  );
}

/**
 * The AWS entry of the Hono app: API Gateway HTTP API (payload 2.0) events in, responses out.
 * Dependencies are built once per cold start; the webhook tokens come from Secrets Manager
 * through Powertools `getSecret` (cached for `maxAge`), and the app is rebuilt only when a
 * rotation changed them. The console stays behind its loopback guard: on AWS the client
 * address is the API Gateway source IP, so it answers only when `console.allowRemote` is set.
 */
export function createWebhookHandler(runtime: WebhookRuntime) {
  const { env, logger } = runtime;
  const settings = parseAwsSettings(env);
  const bundled = typeof SIGNOFF_BUNDLED_CONFIG === 'string' ? SIGNOFF_BUNDLED_CONFIG : undefined;
  const config = configForFunction(bundled, env);
  const log: AppDeps['log'] = (level, message, fields) => logger[level](message, fields ?? {});
  const dynamo = new DynamoDBClient({ region: settings.region });
  const store = createApprovalStore(dynamo, settings.tableName);
  const audit = createAuditLog(dynamo, settings.tableName);
  const notifications = createNotificationStore(dynamo, settings.tableName);
  const dedupe = createEventDeduper(dynamo, settings.tableName);
  const engine = createEngineClient({
    region: settings.region,
    accountId: settings.accountId,
    stateMachinePrefix: settings.stateMachinePrefix,
  });
  const approvals = createApprovalService({
    store,
    engine,
    audit,
    channels: [createConsoleChannel()],
    log: (message, fields) => log('info', message, fields),
  });

  let current: { key: string; handler: LambdaHandler } | undefined;

  async function appHandler(): Promise<LambdaHandler> {
    const tokens = settings.secretId
      ? secretsFromJson(
          await runtime.readSecret(settings.secretId, settings.secretMaxAgeSeconds),
          settings.secretId,
        )
      : {};
    const key = JSON.stringify([tokens.gitlabWebhookToken ?? '', tokens.gitlabSigningToken ?? '']);
    if (current?.key === key) return current.handler;
    const app: Hono = createApp({
      config,
      ...(tokens.gitlabWebhookToken ? { gitlabWebhookToken: tokens.gitlabWebhookToken } : {}),
      ...(tokens.gitlabSigningToken ? { gitlabSigningToken: tokens.gitlabSigningToken } : {}),
      approvals,
      store,
      audit,
      notifications,
      engine,
      // Chat adapters are built from the local environment in local/start.ts today; on AWS none
      // is wired yet (see docs/deploy-aws.md, "Chat platforms").
      chats: [],
      dedupe,
      remoteAddress: (c) => {
        try {
          return getConnInfo(c).remote.address;
        } catch {
          return undefined;
        }
      },
      executionUrl: awsConsoleExecutionUrl,
      now: () => new Date(),
      log,
    });
    current = { key, handler: handle(app) };
    return current.handler;
  }

  return async (event: unknown, context?: unknown): Promise<unknown> => {
    if (isRedeliver(event)) {
      const count = await approvals.redeliver();
      if (count > 0) logger.info('redelivered decisions', { count });
      return { redelivered: count };
    }
    const handler = await appHandler();
    return handler(event as LambdaEvent, context as Parameters<LambdaHandler>[1]);
  };
}

let webhookHandler: ReturnType<typeof createWebhookHandler> | undefined;

/** The Lambda handler (`webhooks/lambda.handler`). */
export async function handler(event: unknown, context?: unknown): Promise<unknown> {
  webhookHandler ??= createWebhookHandler({
    env: process.env,
    readSecret: (secretId, maxAge) => getSecret(secretId, { maxAge, transform: 'json' }),
    logger: new Logger({ serviceName: 'signoff' }),
  });
  return webhookHandler(event, context);
}
