import { randomBytes } from 'node:crypto';
import { chmodSync, existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { join, resolve } from 'node:path';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { SFNClient } from '@aws-sdk/client-sfn';
import { serve } from '@hono/node-server';
import { getConnInfo } from '@hono/node-server/conninfo';
import { createChatChannel } from '../chat/channel.ts';
import { createConsoleChannel } from '../chat/console/index.ts';
import type { DingTalkAdapter } from '../chat/dingtalk/index.ts';
import { chatAdapters } from '../chat/index.ts';
import { consoleSurface } from '../console/index.ts';
import { createSignoff } from '../core/app.ts';
import type { ApprovalService } from '../core/approvals/service.ts';
import { createApprovalStore } from '../core/approvals/store.ts';
import { createAuditLog } from '../core/audit.ts';
import type { ChatAdapter } from '../core/chat.ts';
import {
  type Config,
  disabledWorkflows,
  enabledWorkflows,
  isDemoConfig,
  loadConfig,
  readSecrets,
} from '../core/config.ts';
import { auditConfiguration } from '../core/config-audit.ts';
import { DYNAMODB_MAX_ATTEMPTS } from '../core/db.ts';
import { createEventDeduper } from '../core/dedupe.ts';
import { createDelegationStore } from '../core/delegations.ts';
import { createDeploymentStore } from '../core/deployments.ts';
import { createEngineClient, SFN_CLIENT_DEFAULTS } from '../core/engine.ts';
import { createLanguageStore, readerLanguage } from '../core/languages.ts';
import { nodeVersionProblem } from '../core/node-version.ts';
import { createNotificationStore } from '../core/notifications.ts';
import { createPipelineStore } from '../core/pipelines.ts';
import { createSupportCaseStore, type SupportDeps } from '../core/support-cases.ts';
import { ensureTable } from '../core/table.ts';
import { createGitLabClient } from '../integrations/gitlab.ts';
import { createLambdaClient } from '../integrations/lambda.ts';
import { createSupportClient } from '../integrations/support.ts';
import { type TaskDeps, taskDepsFor } from '../tasks/deps.ts';
import { type TaskFailureLog, taskFailureLog } from '../tasks/failure-log.ts';
import { tasks } from '../tasks/index.ts';
import { type ReconcileReport, reconcilePipelines } from '../tasks/reconcile-pipelines.ts';
import { createApp } from '../webhooks/app.ts';
import { appDepsFor, type ConsoleAccess, type DemoHooks } from '../webhooks/deps.ts';
import { type AppMetrics, createMetrics } from '../webhooks/metrics.ts';
import { handleChatItems } from '../webhooks/routes/chat.ts';
import { signGitLabBody } from '../webhooks/verify-gitlab.ts';
import { readDefinition, STATE_MACHINES, substitute } from '../workflows/index.ts';
import { secureDataDir } from './data-dir.ts';
import { buildMergeRequestHook, type GitLabFake, startGitLabFake } from './demo/gitlab.ts';
import { DEMO_FUNCTIONS, LAMBDA_DEMO_LABEL, type LambdaFake, startLambdaFake } from './demo/lambda.ts';
import { SUPPORT_DEMO_LABEL, type SupportFake, startSupportFake } from './demo/support.ts';
import { startDynamo } from './dynamo.ts';
import { createLocalEngine } from './engine/index.ts';
import { collectWhenIdle } from './idle-gc.ts';
import { lockDataDir } from './lock.ts';

export const LOCAL_ACCOUNT = '123456789012';
export const LOCAL_REGION = 'us-east-1';
/** Where the back-end servers listen (engine, DynamoDB, stand-ins), whatever `host` says: only the app faces the network. */
const LOOPBACK = '127.0.0.1';
const LOCAL_CREDENTIALS = { accessKeyId: 'local', secretAccessKey: 'local' };

export interface StartOptions {
  dataDir: string;
  /** Where the app listens (SIGNOFF_HOST); the back-end servers always listen on 127.0.0.1. */
  host: string;
  /** 0 picks a free port (tests). */
  ports: {
    app: number;
    sfn: number;
    dynamo: number;
    gitlabDemo: number;
    supportDemo?: number;
    lambdaDemo?: number;
  };
  env: Record<string, string | undefined>;
  config?: Config;
  /**
   * Console demo mode (the loopback "act as" picker, `actor` in the API). Default: whether the
   * configuration is the built-in demo one (`loadConfig` found no file). Tests that act as several
   * people through the API on a config object of their own set it; `npm start` never does.
   */
  demo?: boolean;
  tableName?: string;
  log?: (level: LogLevel, message: string, fields?: Record<string, unknown>) => void;
  /** Re-deliver decided outcomes this often (ms); 0 turns the timer off. */
  redeliverEveryMs?: number;
  /** Ask GitLab about released pipelines whose hook never came this often (ms); 0 turns the timer off. Default 30 s. */
  reconcileEveryMs?: number;
  /** How long close() lets in-flight requests finish before it closes their connections (ms). */
  stopGraceMs?: number;
  /** The engine journal's `fs.writeSync` (tests pass one that fails like a full disk). */
  journalWriteSync?: (fd: number, buffer: Buffer, offset: number) => number;
  /**
   * Runs each HTTP request and each task invocation inside `around`. test/cdk/iam.test.ts uses it
   * to attribute every AWS SDK call to the function that would make it on AWS.
   */
  around?: <T>(scope: RuntimeScope, run: () => Promise<T>) => Promise<T>;
}

/** The levels the runtime logs at; `debug` carries the access log. */
export type LogLevel = 'debug' | 'info' | 'warn' | 'error';

/** Each server's port setting and the variable that moves it (named when the port is taken). */
export const PORT_VARIABLES = {
  app: ['SIGNOFF_PORT', 'the app'],
  sfn: ['SIGNOFF_SFN_PORT', 'the Step Functions endpoint'],
  dynamo: ['SIGNOFF_DYNAMODB_PORT', 'the embedded DynamoDB'],
  gitlabDemo: ['SIGNOFF_GITLAB_DEMO_PORT', 'the GitLab stand-in'],
  supportDemo: ['SIGNOFF_SUPPORT_DEMO_PORT', 'the AWS Support stand-in'],
  lambdaDemo: ['SIGNOFF_LAMBDA_DEMO_PORT', 'the AWS Lambda stand-in'],
} as const satisfies Record<keyof StartOptions['ports'], readonly [string, string]>;

/** Start one server; a port already in use is reported with the variable that moves it. */
async function listening<T>(
  part: keyof typeof PORT_VARIABLES,
  port: number,
  start: () => Promise<T>,
): Promise<T> {
  try {
    return await start();
  } catch (error) {
    const code = (error as { code?: unknown } | undefined)?.code;
    if (code === 'EADDRINUSE' || /EADDRINUSE/.test(String(error))) {
      const [variable, what] = PORT_VARIABLES[part];
      throw new Error(
        `port ${port} is already in use (${what}): stop what listens there, or set ${variable} to another port (0 picks a free one)`,
        { cause: error },
      );
    }
    throw error;
  }
}

/** What the runtime is doing when it calls `StartOptions.around`: serving a request, or running a task. */
export type RuntimeScope = { kind: 'request'; path: string } | { kind: 'task'; functionName: string };

export interface Signoff {
  urls: { app: string; console: string; sfn: string; dynamo: string; gitlab: string };
  /** The demo GitLab stand-in, when GITLAB_URL is unset. */
  gitlabDemo?: GitLabFake;
  /** The demo AWS Support stand-in, when AWS_ENDPOINT_URL_SUPPORT is unset. */
  supportDemo?: SupportFake;
  /** The demo AWS Lambda stand-in (seeded demo functions), when AWS_ENDPOINT_URL_LAMBDA is unset. */
  lambdaDemo?: LambdaFake;
  gitlabWebhookToken: string;
  config: Config;
  /** The operator's bearer token for the console API (also in `<data dir>/runtime.json`), and its user. */
  operator?: { token: string; user: string };
  /** The chat webhook routes this runtime serves (`/webhooks/<platform>`), one per configured platform. */
  chatRoutes: string[];
  /** Run the pipeline reconciler once now (what its timer does). */
  reconcilePipelines(): Promise<ReconcileReport>;
  close(): Promise<void>;
}

/** The file the local runtime writes for the CLI and scripts: where it listens and the operator token (0600). */
export const RUNTIME_FILE = 'runtime.json';

/** The key that signs console sessions, kept in the data dir (0600) so sessions survive a restart. */
function sessionKey(dataDir: string): Uint8Array {
  const path = join(dataDir, 'session-key');
  if (existsSync(path)) {
    const saved = Buffer.from(readFileSync(path, 'utf8').trim(), 'base64url');
    if (saved.length >= 32) return new Uint8Array(saved);
  }
  const key = randomBytes(32);
  writeFileSync(path, key.toString('base64url'), { mode: 0o600 });
  chmodSync(path, 0o600);
  return new Uint8Array(key);
}

/**
 * Bearer tokens for automation users from `SIGNOFF_CONSOLE_TOKENS` (JSON `{"<user key>":
 * "<token>"}`, like any other secret in the environment); each at least 32 characters.
 */
export function consoleTokensFrom(
  value: string | undefined,
  config: Config,
): Array<{ token: string; user: string }> {
  if (!value) return [];
  let parsed: unknown;
  try {
    parsed = JSON.parse(value);
  } catch {
    throw new Error('SIGNOFF_CONSOLE_TOKENS is not JSON ({"<user key>": "<token>"})');
  }
  if (!parsed || typeof parsed !== 'object' || Array.isArray(parsed))
    throw new Error('SIGNOFF_CONSOLE_TOKENS must be a JSON object {"<user key>": "<token>"}');
  return Object.entries(parsed).map(([user, token]) => {
    if (!config.users[user])
      throw new Error(`SIGNOFF_CONSOLE_TOKENS names "${user.slice(0, 64)}", not a configured user`);
    if (typeof token !== 'string' || !/^[A-Za-z0-9._~+/=-]{32,512}$/.test(token))
      throw new Error(`SIGNOFF_CONSOLE_TOKENS: the token of "${user}" must be 32 to 512 token characters`);
    return { token, user };
  });
}

/** The GitLab webhook token: the environment's, or one generated once and kept in the data dir. */
function localWebhookToken(dataDir: string, env: Record<string, string | undefined>): string {
  if (env.GITLAB_WEBHOOK_TOKEN) return env.GITLAB_WEBHOOK_TOKEN;
  const path = join(dataDir, 'local-secrets.json');
  if (existsSync(path)) {
    const saved = JSON.parse(readFileSync(path, 'utf8')) as { gitlabWebhookToken?: string };
    if (saved.gitlabWebhookToken) return saved.gitlabWebhookToken;
  }
  const token = randomBytes(24).toString('base64url');
  writeFileSync(path, JSON.stringify({ gitlabWebhookToken: token }), { mode: 0o600 });
  return token;
}

/** Start the embedded runtime: DynamoDB, the local Step Functions engine, the app and the demo stand-ins. */
export async function startSignoff(options: StartOptions): Promise<Signoff> {
  const log = options.log ?? (() => {});
  const around = options.around ?? ((_scope, run) => run());
  const config = options.config ?? loadConfig(options.env);
  const secrets = readSecrets(options.env);
  const dataDir = resolve(options.dataDir);
  const tableName = options.tableName ?? 'signoff';
  secureDataDir(dataDir);
  const unlock = lockDataDir(dataDir);
  const closers: Array<() => Promise<void> | void> = [unlock];
  // Stop taking requests first, and let in-flight ones finish, before the parts they use close.
  let stopServing: (() => Promise<void>) | undefined;
  const close = async () => {
    await stopServing?.();
    for (const closer of closers.reverse()) await closer();
  };

  try {
    // DynamoDB: the endpoint in SIGNOFF_DYNAMODB_URL (DynamoDB Local, a proxy in front of one;
    // default credentials), else the embedded one under the data dir. Not AWS_ENDPOINT_URL_DYNAMODB:
    // a shell that exported it for the CLI must still start the embedded one.
    const externalDynamo = options.env.SIGNOFF_DYNAMODB_URL || undefined;
    let dynamoUrl: string;
    if (externalDynamo) {
      dynamoUrl = externalDynamo;
    } else {
      const dynamo = await listening('dynamo', options.ports.dynamo, () =>
        startDynamo({ path: join(dataDir, 'dynamodb'), port: options.ports.dynamo, host: LOOPBACK }),
      );
      closers.push(() => dynamo.close());
      dynamoUrl = dynamo.endpoint;
    }
    const dynamoClient = new DynamoDBClient({
      region: externalDynamo ? (options.env.AWS_REGION ?? LOCAL_REGION) : LOCAL_REGION,
      endpoint: dynamoUrl,
      maxAttempts: DYNAMODB_MAX_ATTEMPTS,
      ...(externalDynamo ? {} : { credentials: LOCAL_CREDENTIALS }),
    });
    closers.push(() => dynamoClient.destroy());
    await ensureTable(dynamoClient, tableName);

    let gitlabDemo: GitLabFake | undefined;
    let gitlabUrl = secrets.gitlabUrl;
    let gitlabToken = secrets.gitlabToken ?? '';
    if (!gitlabUrl) {
      gitlabDemo = await listening('gitlabDemo', options.ports.gitlabDemo, () =>
        startGitLabFake({ host: LOOPBACK, port: options.ports.gitlabDemo }),
      );
      closers.push(() => gitlabDemo?.close());
      gitlabUrl = gitlabDemo.url;
      gitlabToken = gitlabDemo.token;
    }

    // AWS Support: the endpoint in AWS_ENDPOINT_URL_SUPPORT (with the default credentials), else the demo stand-in.
    let supportDemo: SupportFake | undefined;
    const supportEndpoint = options.env.AWS_ENDPOINT_URL_SUPPORT || undefined;
    if (!supportEndpoint) {
      const supportPort = options.ports.supportDemo ?? 0;
      supportDemo = await listening('supportDemo', supportPort, () =>
        startSupportFake({ host: LOOPBACK, port: supportPort }),
      );
      closers.push(() => supportDemo?.close());
    }
    const supportApi = createSupportClient(
      supportDemo
        ? { endpoint: supportDemo.url, credentials: LOCAL_CREDENTIALS }
        : { endpoint: supportEndpoint },
    );
    closers.push(() => supportApi.destroy());
    const support: SupportDeps = { api: supportApi, cases: createSupportCaseStore(dynamoClient, tableName) };

    // AWS Lambda (deploy, rollback): the endpoint in AWS_ENDPOINT_URL_LAMBDA, else the demo stand-in.
    let lambdaDemo: LambdaFake | undefined;
    const lambdaEndpoint = options.env.AWS_ENDPOINT_URL_LAMBDA || undefined;
    if (!lambdaEndpoint) {
      const lambdaPort = options.ports.lambdaDemo ?? 0;
      lambdaDemo = await listening('lambdaDemo', lambdaPort, () =>
        startLambdaFake({
          host: LOOPBACK,
          port: lambdaPort,
          region: LOCAL_REGION,
          accountId: LOCAL_ACCOUNT,
          functions: DEMO_FUNCTIONS,
        }),
      );
      closers.push(() => lambdaDemo?.close());
    }
    const lambda = createLambdaClient(
      lambdaDemo
        ? { region: LOCAL_REGION, endpoint: lambdaDemo.url, credentials: LOCAL_CREDENTIALS }
        : { region: options.env.AWS_REGION || LOCAL_REGION, endpoint: lambdaEndpoint },
    );
    const deployments = createDeploymentStore(dynamoClient, tableName);
    const pipelines = createPipelineStore(dynamoClient, tableName);

    const store = createApprovalStore(dynamoClient, tableName);
    const audit = createAuditLog(dynamoClient, tableName);
    // The configuration's hash, audited when it differs from the one audited last (at any start).
    await auditConfiguration(audit, config, {
      source: options.config ? 'given to startSignoff' : (configFile(options) ?? 'the built-in defaults'),
      by: `${options.env.USER ?? options.env.USERNAME ?? 'someone'} (npm start)`,
    });
    const notifications = createNotificationStore(dynamoClient, tableName);
    const delegations = createDelegationStore(dynamoClient, tableName);
    const languages = createLanguageStore(dynamoClient, tableName);
    const languageOf = readerLanguage(config, languages);
    const chats = chatAdapters(options.env, (message, fields) => log('warn', message, fields));
    const metrics = createMetrics({
      pendingApprovals: async () => (await store.list('pending')).length,
    });
    for (const adapter of chats) countSendFailures(adapter, metrics);
    const channels = [
      createConsoleChannel(),
      ...chats.map((adapter) =>
        createChatChannel(adapter, config, (message, fields) => log('info', message, fields), { languageOf }),
      ),
    ];
    const dedupe = createEventDeduper(dynamoClient, tableName);
    const gitlab = createGitLabClient({ url: gitlabUrl, token: gitlabToken });

    // The app URL is needed for links before the app listens: reserve the port first.
    // 5 s without a request or a task: collect, so memory after a burst is what is in use.
    const idle = collectWhenIdle(5000);
    closers.push(() => idle.stop());
    // Once the engine's journal cannot be written, the runtime takes no more work: every request
    // gets the reason (a restart after freeing disk space resumes from the journal).
    let engineFailure: Error | undefined;
    const appServer = serve({
      fetch: (request, env) => {
        idle.touch();
        if (engineFailure) return unavailable(engineFailure);
        // Without an `around` (npm start), straight to the app: no URL parsed, no extra promise.
        if (!options.around) return app.fetch(request, env);
        return around({ kind: 'request', path: new URL(request.url).pathname }, async () =>
          app.fetch(request, env),
        );
      },
      port: options.ports.app,
      hostname: options.host,
    });
    await listening(
      'app',
      options.ports.app,
      () =>
        new Promise<void>((done, fail) => {
          appServer.once('listening', () => done());
          appServer.once('error', fail);
        }),
    );
    stopServing = () =>
      new Promise<void>((done) => {
        appServer.close(() => done());
        if (!('closeAllConnections' in appServer)) return;
        appServer.closeIdleConnections();
        // In-flight requests get the time a chat platform waits for an answer (3 s) and more;
        // a request still open after that must not keep the runtime from stopping.
        const graceMs = options.stopGraceMs ?? 10_000;
        setTimeout(() => {
          log('warn', 'closing requests still open after the grace period', { graceMs });
          appServer.closeAllConnections();
        }, graceMs).unref();
      });
    const appUrl = `http://${options.host}:${(appServer.address() as AddressInfo).port}`;
    const executionUrl = (arn: string) => `${appUrl}/console/executions/${encodeURIComponent(arn)}`;

    // The engine's port is known once it listens; the client resolves its endpoint lazily.
    let sfnUrl: string | undefined;
    const sfnClient = new SFNClient({
      ...SFN_CLIENT_DEFAULTS,
      region: LOCAL_REGION,
      credentials: LOCAL_CREDENTIALS,
      endpoint: async () => {
        if (!sfnUrl) throw new Error('the local engine is not listening yet');
        const url = new URL(sfnUrl);
        return { protocol: url.protocol, hostname: url.hostname, port: Number(url.port), path: '/' };
      },
    });
    closers.push(() => sfnClient.destroy());
    const engineClient = createEngineClient({ region: LOCAL_REGION, accountId: LOCAL_ACCOUNT }, sfnClient);
    const logAt =
      (level: 'debug' | 'info' | 'warn' | 'error') => (message: string, fields?: Record<string, unknown>) =>
        log(level === 'debug' ? 'info' : level, message, fields);
    const signoff = createSignoff({
      config,
      store,
      audit,
      notifications,
      dedupe,
      delegations,
      languages,
      engine: engineClient,
      channels,
      deployments,
      support,
      pipelines,
      executionUrl,
      clock: { now: () => new Date() },
      logger: { debug: logAt('debug'), info: logAt('info'), warn: logAt('warn'), error: logAt('error') },
    });
    const { approvals } = signoff;
    countDecisions(approvals, metrics);
    const taskDeps = taskDepsFor(signoff, { gitlab, lambda });

    const engine = await createLocalEngine({
      dataDir,
      accountId: LOCAL_ACCOUNT,
      region: LOCAL_REGION,
      stateMachines: STATE_MACHINES.map((kind) => ({
        name: `signoff-${kind}`,
        definition: substitute(
          readDefinition(kind),
          (task) => `arn:aws:lambda:${LOCAL_REGION}:${LOCAL_ACCOUNT}:function:signoff-${task}`,
        ),
      })),
      invokeFunction: (functionName, payload) => {
        idle.touch();
        return around({ kind: 'task', functionName }, () =>
          invokeTask(functionName, payload, taskDeps, (fields) => log('error', 'task failed', { ...fields })),
        );
      },
      log: (message, fields) => log('info', message, fields),
      writeSync: options.journalWriteSync,
      onFailure: (error) => {
        engineFailure = error;
        log('error', 'signoff stopped taking work: the engine journal cannot be written', {
          error: error.message,
        });
      },
    });
    closers.push(() => engine.close());
    sfnUrl = await listening('sfn', options.ports.sfn, () => engine.listen(options.ports.sfn, LOOPBACK));

    const gitlabWebhookToken = localWebhookToken(dataDir, options.env);
    // Who may use the console: sessions signed with a key kept in the data dir, the operator's
    // token (runtime.json), and any tokens the environment provisions.
    const demoMode = options.demo ?? isDemoConfig(config);
    const operatorUser = config.console.operator ?? (demoMode ? config.demo.requester : undefined);
    const operator = operatorUser
      ? { token: randomBytes(32).toString('base64url'), user: operatorUser }
      : undefined;
    const consoleAccess: ConsoleAccess = {
      demo: demoMode,
      sessionKey: sessionKey(dataDir),
      ...(options.env.SIGNOFF_OIDC_CLIENT_SECRET
        ? { oidcClientSecret: options.env.SIGNOFF_OIDC_CLIENT_SECRET }
        : {}),
      tokens: [
        ...(operator ? [operator] : []),
        ...consoleTokensFrom(options.env.SIGNOFF_CONSOLE_TOKENS, config),
      ],
    };
    const runtimeFile = join(dataDir, RUNTIME_FILE);
    writeFileSync(
      runtimeFile,
      `${JSON.stringify(
        {
          app: appUrl,
          console: `${appUrl}/console`,
          sfn: sfnUrl,
          dynamo: dynamoUrl,
          pid: process.pid,
          // What the CLI needs to reach the same data with the same configuration.
          region: externalDynamo ? (options.env.AWS_REGION ?? LOCAL_REGION) : LOCAL_REGION,
          accountId: LOCAL_ACCOUNT,
          table: tableName,
          ...(externalDynamo ? { dynamoExternal: true } : {}),
          ...(configFile(options) ? { config: configFile(options) } : {}),
          ...(operator ? { operator } : {}),
        },
        null,
        2,
      )}\n`,
      { mode: 0o600 },
    );
    chmodSync(runtimeFile, 0o600);
    closers.push(() => rmSync(runtimeFile, { force: true }));
    const demo: DemoHooks | undefined = gitlabDemo
      ? {
          gitlabUrl: gitlabDemo.url,
          standIns: [
            ...(lambdaDemo ? [{ label: LAMBDA_DEMO_LABEL, url: lambdaDemo.url }] : []),
            ...(supportDemo ? [{ label: SUPPORT_DEMO_LABEL, url: supportDemo.url }] : []),
          ],
          simulateMergeRequest: (input) =>
            simulateMergeRequest(gitlabDemo as GitLabFake, appUrl, gitlabWebhookToken, config, input, {
              signingToken: options.env.GITLAB_WEBHOOK_SIGNING_TOKEN || undefined,
            }),
        }
      : undefined;
    const appDeps = appDepsFor(signoff, {
      gitlabWebhookToken,
      ...(options.env.GITLAB_WEBHOOK_SIGNING_TOKEN
        ? { gitlabSigningToken: options.env.GITLAB_WEBHOOK_SIGNING_TOKEN }
        : {}),
      chats,
      remoteAddress: (c) => {
        try {
          return getConnInfo(c).remote.address;
        } catch {
          return undefined;
        }
      },
      ...(demo ? { demo } : {}),
      consoleAccess,
    });
    const app = createApp(appDeps, [consoleSurface], {
      metrics,
      debug: (message, fields) => log('debug', message, fields),
    });

    // DingTalk Stream mode (DINGTALK_STREAM=true): robot messages and card clicks over the SDK's
    // WebSocket, handled exactly as the route handles a webhook; no public URL needed.
    const dingtalk = chats.find((adapter): adapter is DingTalkAdapter => adapter.platform === 'dingtalk');
    if (dingtalk && options.env.DINGTALK_STREAM === 'true') {
      const { startDingTalkStream } = await import('../chat/dingtalk/stream.ts');
      const stream = startDingTalkStream({
        appKey: options.env.DINGTALK_APP_KEY ?? '',
        appSecret: options.env.DINGTALK_APP_SECRET ?? '',
        ...(options.env.DINGTALK_API_URL ? { apiUrl: options.env.DINGTALK_API_URL } : {}),
        adapter: dingtalk,
        handle: (items, now) => handleChatItems(appDeps, dingtalk, items, now),
        now: () => new Date(),
        log,
      });
      closers.push(() => stream.close());
    }

    // Slack Socket Mode (local only): Slack delivers over a WebSocket this process opens, and each
    // envelope goes through the same /webhooks/slack route as an HTTP delivery.
    if (options.env.SLACK_APP_TOKEN && chats.some((adapter) => adapter.platform === 'slack')) {
      const { startSlackSocketMode } = await import('../chat/slack/socket.ts');
      const socket = await startSlackSocketMode({
        appToken: options.env.SLACK_APP_TOKEN,
        signingSecret: options.env.SLACK_SIGNING_SECRET ?? '',
        ...(options.env.SLACK_API_URL ? { apiUrl: options.env.SLACK_API_URL } : {}),
        deliver: async (request) => app.fetch(request),
        log: (message, fields) => log('info', message, fields),
      });
      closers.push(() => socket.close());
    }

    // Outcomes decided just before a crash are still in the outbox: resume those executions.
    const redelivered = await approvals.redeliver();
    if (redelivered > 0) log('info', 'redelivered decisions', { count: redelivered });
    const every = options.redeliverEveryMs ?? 30_000;
    if (every > 0) {
      const timer = setInterval(() => {
        approvals.redeliver().catch((error) => log('warn', 'redelivery failed', { error: String(error) }));
      }, every);
      timer.unref();
      closers.push(() => clearInterval(timer));
    }

    // The demo GitLab sends its Pipeline Hooks here, as a project webhook would.
    gitlabDemo?.pipelines.setHookTarget({
      url: `${appUrl}/webhooks/gitlab`,
      token: gitlabWebhookToken,
      ...(options.env.GITLAB_WEBHOOK_SIGNING_TOKEN
        ? { signingToken: options.env.GITLAB_WEBHOOK_SIGNING_TOKEN }
        : {}),
    });
    // Pipelines whose hook never came: ask GitLab, resume those that ended, heartbeat the rest.
    const reconcile = () =>
      around({ kind: 'task', functionName: 'signoff-reconcile-pipelines' }, () =>
        reconcilePipelines.run({}, taskDeps),
      );
    const reconcileEvery = options.reconcileEveryMs ?? 30_000;
    if (reconcileEvery > 0) {
      const timer = setInterval(() => {
        reconcile().catch((error) => log('warn', 'pipeline reconcile failed', { error: String(error) }));
      }, reconcileEvery);
      timer.unref();
      closers.push(() => clearInterval(timer));
    }

    return {
      chatRoutes: chats.map((adapter) => `/webhooks/${adapter.platform}`),
      reconcilePipelines: reconcile,
      urls: {
        app: appUrl,
        console: `${appUrl}/console`,
        sfn: sfnUrl as string,
        dynamo: dynamoUrl,
        gitlab: gitlabUrl,
      },
      ...(gitlabDemo ? { gitlabDemo } : {}),
      ...(supportDemo ? { supportDemo } : {}),
      ...(lambdaDemo ? { lambdaDemo } : {}),
      gitlabWebhookToken,
      config,
      ...(operator ? { operator } : {}),
      close,
    };
  } catch (error) {
    await close();
    throw error;
  }
}

/** The configuration file the runtime loaded (`loadConfig`'s rule), for the CLI; none for the demo or a config object. */
function configFile(options: StartOptions): string | undefined {
  if (options.config) return undefined;
  const path = resolve(options.env.SIGNOFF_CONFIG ?? 'signoff.config.json');
  return existsSync(path) ? path : undefined;
}

/** Count each decision's outcome (the console, chat and the CLI all decide through `approvals`). */
function countDecisions(approvals: ApprovalService, metrics: AppMetrics): void {
  const decide = approvals.decide.bind(approvals);
  approvals.decide = async (request, options) => {
    const result = await decide(request, options);
    metrics.decision(request.decision, result.outcome);
    return result;
  };
}

/** Count the cards a chat platform did not take (the channel logs and retries them). */
function countSendFailures(adapter: ChatAdapter, metrics: AppMetrics): void {
  const send = adapter.send.bind(adapter);
  adapter.send = async (to, card) => {
    try {
      return await send(to, card);
    } catch (error) {
      metrics.chatSendFailure(adapter.platform);
      throw error;
    }
  };
}

function unavailable(error: Error): Response {
  return Response.json({ error: { code: 'Unavailable', message: error.message } }, { status: 503 });
}

/**
 * Run a task in-process, as its Lambda function would run it on AWS: a failure is reported to
 * `failed` once (the `task failed` error line), then thrown to the engine.
 */
export async function invokeTask(
  functionName: string,
  payload: unknown,
  deps: TaskDeps,
  failed: (fields: TaskFailureLog) => void = () => {},
): Promise<unknown> {
  const name =
    functionName
      .split(':')
      .pop()
      ?.replace(/^signoff-/, '') ?? '';
  try {
    const task = tasks[name];
    if (!task) {
      const error = new Error(`no task named ${name}`);
      error.name = 'Lambda.ResourceNotFoundException';
      throw error;
    }
    return await task.run(task.input.parse(payload) as never, deps);
  } catch (error) {
    failed(taskFailureLog(name, payload, error));
    throw error;
  }
}

/** The console's "simulate a merge request": a new MR in the stand-in and its signed webhook. */
async function simulateMergeRequest(
  gitlab: GitLabFake,
  appUrl: string,
  webhookToken: string,
  config: Config,
  input: { title?: string; author?: string },
  secrets: { signingToken?: string } = {},
): Promise<{ status: number; body: unknown }> {
  const author = input.author ?? config.demo.requester;
  const username = config.users[author]?.gitlab ?? author;
  const name = config.users[author]?.name ?? author;
  const iid =
    Math.max(0, ...Array.from({ length: 1000 }, (_, i) => (gitlab.mergeRequest(1, i + 1) ? i + 1 : 0))) + 1;
  const mr = gitlab.seedMergeRequest({
    projectId: 1,
    iid,
    title: input.title ?? `Demo change #${iid}`,
    author: { id: 100 + iid, username, name },
  });
  const hook = buildMergeRequestHook(mr, { action: 'open', actor: { username, name }, baseUrl: gitlab.url });
  const body = JSON.stringify(hook);
  const id = crypto.randomUUID();
  const timestamp = Math.floor(Date.now() / 1000);
  // With a signing token configured, the route requires GitLab's signature (no downgrade).
  const signed: Record<string, string> = secrets.signingToken
    ? {
        'webhook-id': id,
        'webhook-timestamp': String(timestamp),
        'webhook-signature': signGitLabBody(body, secrets.signingToken, id, timestamp),
      }
    : {};
  const response = await fetch(`${appUrl}/webhooks/gitlab`, {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      'x-gitlab-event': 'Merge Request Hook',
      'x-gitlab-token': webhookToken,
      'idempotency-key': id,
      ...signed,
    },
    body,
  });
  return { status: response.status, body: await response.json() };
}

function port(env: Record<string, string | undefined>, name: string, fallback: number): number {
  const value = env[name];
  if (value === undefined || value === '') return fallback;
  const parsed = Number(value);
  if (!Number.isInteger(parsed) || parsed < 0 || parsed > 65535)
    throw new Error(`${name} must be a port number, got "${value}"`);
  return parsed;
}

/** The levels `SIGNOFF_LOG_LEVEL` takes (Powertools'), any case; unset is INFO. */
export const LOG_LEVELS = ['TRACE', 'DEBUG', 'INFO', 'WARN', 'ERROR', 'CRITICAL', 'SILENT'] as const;

export function parseLogLevel(value: string | undefined): (typeof LOG_LEVELS)[number] {
  if (value === undefined || value === '') return 'INFO';
  const level = LOG_LEVELS.find((name) => name === value.toUpperCase());
  if (!level)
    throw new Error(`SIGNOFF_LOG_LEVEL must be one of ${LOG_LEVELS.join(', ')}, got "${value.slice(0, 40)}"`);
  return level;
}

/** "merge-request, deploy; not set up (no policy): support-case" — the banner's workflows. */
export function workflowsLine(config: Config): string {
  const enabled = enabledWorkflows(config);
  const disabled = disabledWorkflows(config);
  return [
    enabled.length > 0 ? enabled.join(', ') : 'none (add policies.<kind> to the configuration)',
    ...(disabled.length > 0 ? [`not set up (no policy): ${disabled.join(', ')}`] : []),
  ].join('; ');
}

/** What `npm start` prints once everything listens: where each part is, how to reach it from another shell. */
export function startBanner(
  signoff: Pick<Signoff, 'urls' | 'gitlabDemo' | 'supportDemo' | 'lambdaDemo' | 'chatRoutes' | 'config'>,
  env: Record<string, string | undefined>,
): string {
  const { urls } = signoff;
  const dataDir = resolve(env.SIGNOFF_DATA_DIR ?? '.signoff');
  const chat =
    signoff.chatRoutes.length > 0
      ? signoff.chatRoutes.map((route) => `${urls.app}${route}`).join('\n                     ')
      : 'none configured (set LARK_*, LINE_*, SLACK_* or DINGTALK_*; the console works without)';
  return [
    '',
    'Signoff is running (embedded runtime)',
    `  console            ${urls.console}`,
    `  webhooks           ${urls.app}/webhooks/gitlab   (health: ${urls.app}/healthz, ready: ${urls.app}/readyz, metrics: ${urls.app}/metrics)`,
    `  chat routes        ${chat}`,
    `  workflows          ${workflowsLine(signoff.config)}`,
    `  Step Functions     ${urls.sfn}   (AWS_ENDPOINT_URL_SFN)`,
    env.SIGNOFF_DYNAMODB_URL
      ? `  DynamoDB           ${urls.dynamo}   (SIGNOFF_DYNAMODB_URL, not embedded)`
      : `  DynamoDB           ${urls.dynamo}   (AWS_ENDPOINT_URL_DYNAMODB)`,
    signoff.gitlabDemo
      ? `  GitLab             ${urls.gitlab}   (demo stand-in, not a real GitLab)`
      : `  GitLab             ${urls.gitlab}`,
    signoff.supportDemo
      ? `  AWS Support        ${signoff.supportDemo.url}   (demo stand-in, not the real AWS Support API)`
      : `  AWS Support        ${env.AWS_ENDPOINT_URL_SUPPORT}   (AWS_ENDPOINT_URL_SUPPORT)`,
    signoff.lambdaDemo
      ? `  AWS Lambda         ${signoff.lambdaDemo.url}   (demo stand-in with demo functions, not a real AWS account)`
      : `  AWS Lambda         ${env.AWS_ENDPOINT_URL_LAMBDA}   (AWS_ENDPOINT_URL_LAMBDA)`,
    `  data               ${dataDir}`,
    '',
    'The AWS CLI against this runtime, from another shell (any credentials work locally):',
    `  export AWS_ENDPOINT_URL_SFN=${urls.sfn}`,
    ...(env.SIGNOFF_DYNAMODB_URL ? [] : [`  export AWS_ENDPOINT_URL_DYNAMODB=${urls.dynamo}`]),
    `  export AWS_REGION=${LOCAL_REGION} AWS_DEFAULT_REGION=${LOCAL_REGION}`,
    '  export AWS_ACCESS_KEY_ID=local AWS_SECRET_ACCESS_KEY=local',
    '  aws stepfunctions list-state-machines',
    '',
    `The signoff CLI finds this runtime by itself (${join(dataDir, RUNTIME_FILE)}):`,
    `  ${env.SIGNOFF_DATA_DIR ? `SIGNOFF_DATA_DIR=${env.SIGNOFF_DATA_DIR} ` : ''}npx signoff executions`,
    '',
  ].join('\n');
}

/** `npm start`: run the embedded runtime until SIGINT/SIGTERM. */
async function main(): Promise<void> {
  const env = process.env;
  // Settings first: a wrong value is an error before anything starts.
  const logLevel = parseLogLevel(env.SIGNOFF_LOG_LEVEL);
  const ports = {
    app: port(env, 'SIGNOFF_PORT', 8787),
    sfn: port(env, 'SIGNOFF_SFN_PORT', 8083),
    dynamo: port(env, 'SIGNOFF_DYNAMODB_PORT', 8000),
    gitlabDemo: port(env, 'SIGNOFF_GITLAB_DEMO_PORT', 8790),
    supportDemo: port(env, 'SIGNOFF_SUPPORT_DEMO_PORT', 8792),
    lambdaDemo: port(env, 'SIGNOFF_LAMBDA_DEMO_PORT', 8791),
  };
  const { Logger } = await import('@aws-lambda-powertools/logger');
  const logger = new Logger({ serviceName: 'signoff', logLevel });
  const signoff = await startSignoff({
    dataDir: env.SIGNOFF_DATA_DIR ?? '.signoff',
    host: env.SIGNOFF_HOST ?? '127.0.0.1',
    ports,
    env,
    log: (level, message, fields) => logger[level](message, fields ?? {}),
  });
  process.stdout.write(startBanner(signoff, env));
  let stopping = false;
  const stop = () => {
    if (stopping) return;
    stopping = true;
    signoff.close().then(
      () => process.exit(0),
      () => process.exit(1),
    );
  };
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
}

if (process.argv[1] && resolve(process.argv[1]) === resolve(new URL(import.meta.url).pathname)) {
  const problem = nodeVersionProblem(process.versions.node);
  if (problem) {
    process.stderr.write(`signoff failed to start: ${problem}\n`);
    process.exit(1);
  }
  main().catch((error: unknown) => {
    process.stderr.write(
      `signoff failed to start: ${error instanceof Error ? error.message : String(error)}\n`,
    );
    process.exit(1);
  });
}
