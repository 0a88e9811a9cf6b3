import type { Hono } from 'hono';
import { createSignoff } from '../../core/app.ts';
import { createApprovalStore } from '../../core/approvals/store.ts';
import { createAuditLog } from '../../core/audit.ts';
import { type Config, DEFAULT_CONFIG_INPUT, parseConfig } from '../../core/config.ts';
import { createEventDeduper } from '../../core/dedupe.ts';
import { createDelegationStore } from '../../core/delegations.ts';
import type { EngineClient, MachineName } from '../../core/engine.ts';
import { createLanguageStore } from '../../core/languages.ts';
import { createNotificationStore } from '../../core/notifications.ts';
import { createApp } from '../../webhooks/app.ts';
import { appDepsFor } from '../../webhooks/deps.ts';
import { startTestDynamo, type TestDynamo } from './dynamo.ts';
import { WEBHOOK_TOKEN } from './runtime.ts';

const ACCOUNT = '123456789012';

/**
 * The HTTP app built with in-memory ports, for route tests that need no workflow to run: the
 * embedded DynamoDB (in memory) and an engine that records what it was asked to start.
 */
export interface TestApp {
  app: Hono;
  /** Every StartExecution the app asked for, in order. */
  started: Array<{ kind: MachineName; name: string; input: unknown }>;
  /** POST a GitLab webhook as GitLab would (the token and headers of `postGitLab`). */
  postGitLab(body: unknown, headers?: Record<string, string>): Promise<Response>;
  close(): Promise<void>;
}

function recordingEngine(started: TestApp['started']): EngineClient {
  const names = new Set<string>();
  const engine: Partial<EngineClient> = {
    stateMachineArn: (kind) => `arn:aws:states:us-east-1:${ACCOUNT}:stateMachine:signoff-${kind}`,
    executionArn: (kind, name) => `arn:aws:states:us-east-1:${ACCOUNT}:execution:signoff-${kind}:${name}`,
    async start(kind, name, input) {
      const executionArn = `arn:aws:states:us-east-1:${ACCOUNT}:execution:signoff-${kind}:${name}`;
      if (names.has(`${kind}:${name}`)) return { started: false, executionArn };
      names.add(`${kind}:${name}`);
      started.push({ kind, name, input });
      return { started: true, executionArn, startDate: new Date() };
    },
  };
  return new Proxy(engine as EngineClient, {
    get: (target, key) =>
      (target as unknown as Record<string | symbol, unknown>)[key] ??
      (() => {
        throw new Error(`the test app's engine has no ${String(key)}`);
      }),
  });
}

export async function startTestApp(
  options: { config?: Config; gitlabWebhookToken?: string; gitlabSigningToken?: string } = {},
): Promise<TestApp> {
  const dynamo: TestDynamo = await startTestDynamo();
  const { client, tableName } = dynamo;
  const started: TestApp['started'] = [];
  const quiet = () => {};
  const signoff = createSignoff({
    config: options.config ?? parseConfig(DEFAULT_CONFIG_INPUT),
    store: createApprovalStore(client, tableName),
    audit: createAuditLog(client, tableName),
    notifications: createNotificationStore(client, tableName),
    delegations: createDelegationStore(client, tableName),
    languages: createLanguageStore(client, tableName),
    dedupe: createEventDeduper(client, tableName),
    engine: recordingEngine(started),
    channels: [],
    executionUrl: (arn) => `http://console/${arn}`,
    clock: { now: () => new Date() },
    logger: { debug: quiet, info: quiet, warn: quiet, error: quiet },
  });
  const app = createApp(
    appDepsFor(signoff, {
      gitlabWebhookToken: options.gitlabWebhookToken ?? WEBHOOK_TOKEN,
      ...(options.gitlabSigningToken ? { gitlabSigningToken: options.gitlabSigningToken } : {}),
      chats: [],
      remoteAddress: () => '127.0.0.1',
    }),
  );
  return {
    app,
    started,
    postGitLab: async (body, headers = {}) =>
      app.request('/webhooks/gitlab', {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          'x-gitlab-event': 'Merge Request Hook',
          'x-gitlab-token': WEBHOOK_TOKEN,
          ...headers,
        },
        body: typeof body === 'string' || Buffer.isBuffer(body) ? (body as string) : JSON.stringify(body),
      }),
    close: () => dynamo.close(),
  };
}
