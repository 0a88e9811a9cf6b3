import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import {
  DescribeExecutionCommand,
  type DescribeExecutionCommandOutput,
  ListExecutionsCommand,
  SFNClient,
} from '@aws-sdk/client-sfn';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildApp } from '../../cdk/app.ts';
import { PROJECT_ROOT } from '../../cdk/bundling.ts';
import { DEFAULT_CONFIG_INPUT, WORKFLOW_KINDS } from '../../core/config.ts';
import { ensureTable } from '../../core/table.ts';
import { buildMergeRequestHook, type GitLabFake, startGitLabFake } from '../../local/demo/gitlab.ts';
import { DEMO_FUNCTIONS, type LambdaFake, startLambdaFake } from '../../local/demo/lambda.ts';
import { type SupportFake, startSupportFake } from '../../local/demo/support.ts';
import { type EmbeddedDynamo, startDynamo } from '../../local/dynamo.ts';
import { createLocalEngine, type LocalEngine } from '../../local/engine/index.ts';
import { cardActionEvent, type LarkFake, signedLarkRequest, startLarkFake } from '../fakes/lark.ts';
import {
  type LineFake,
  linePostbackEvent,
  lineTextEvent,
  lineWebhook,
  signLineBody,
  startLineFake,
} from '../fakes/line.ts';
import { eventually, openedMergeRequest } from '../support/runtime.ts';
import { type DeployedFunction, type DeployedStack, readDeployedStack } from './support/cloud-assembly.ts';
import { type HttpApiAnswer, type HttpApiRequest, httpApiAnswer, httpApiEvent } from './support/http-api.ts';
import { createLambdaHost, type LambdaHost } from './support/lambda-host.ts';
import { type SecretsManagerFake, startSecretsManagerFake } from './support/secrets-manager.ts';
import { TEST_ACCOUNT, TEST_REGION } from './support/template.ts';

/**
 * The deployed artifacts run: the cloud assembly as `cdk synth` writes it (each function's
 * bundled index.mjs from its asset folder, each state machine's definition with its
 * DefinitionSubstitutions resolved) runs the merge-request and deploy workflows end to end on
 * the local engine. Each function runs in its own worker thread with the environment its
 * template gives it (Refs resolved for a test account and region) plus what Lambda sets, and
 * reaches AWS through the standard endpoint variables: the embedded DynamoDB, the local
 * engine, a Secrets Manager stand-in holding the credentials secret, and the Lambda, Support,
 * GitLab, Lark and LINE stand-ins. Webhooks arrive as API Gateway HTTP API events on the
 * template's routes.
 */

const WEBHOOK_TOKEN = 'deployed-test-webhook-token';
const ENCRYPT_KEY = 'deployed-test-encrypt-key';
const VERIFICATION_TOKEN = 'deployed-test-verification-token';
const LARK = {
  alice: 'ou_alice_deployed_0000000000000000',
  bob: 'ou_bob_deployed_00000000000000000000',
  carol: 'ou_carol_deployed_000000000000000000',
  dave: 'ou_dave_deployed_0000000000000000000',
};
const LINE = {
  alice: `U${'a1'.repeat(16)}`,
  bob: `U${'b2'.repeat(16)}`,
  carol: `U${'c3'.repeat(16)}`,
  dave: `U${'d4'.repeat(16)}`,
};
/** The GitLab project whose merge requests have timers (an override): remind at 1 s, escalate to dave at 2 s. */
const ON_CALL = { projectId: 8, projectPath: 'platform/oncall' };

let outdir: string;
let dataDir: string;
let stack: DeployedStack;
let dynamo: EmbeddedDynamo;
let engine: LocalEngine;
let host: LambdaHost;
let sfn: SFNClient;
let secrets: SecretsManagerFake;
let gitlab: GitLabFake;
let lambda: LambdaFake;
let support: SupportFake;
let lark: LarkFake;
let line: LineFake;

/** Synthesize once, as `npm run synth` does, into a folder under node_modules (the bundles resolve the AWS SDK there, as on Lambda). */
function synth(): string {
  const cache = join(PROJECT_ROOT, 'node_modules', '.cache');
  mkdirSync(cache, { recursive: true });
  const dir = mkdtempSync(join(cache, 'signoff-deployed-'));
  const users = structuredClone(DEFAULT_CONFIG_INPUT.users) as Record<string, Record<string, string>>;
  users.dave = { name: 'Dave', gitlab: 'dave' };
  for (const user of ['alice', 'bob', 'carol', 'dave'] as const) {
    Object.assign(users[user] ?? {}, { lark: LARK[user], line: LINE[user] });
  }
  const policies = DEFAULT_CONFIG_INPUT.policies;
  const config = join(dataDir, 'signoff.config.json');
  writeFileSync(
    config,
    JSON.stringify({
      ...DEFAULT_CONFIG_INPUT,
      users,
      groups: { 'sre-oncall': ['dave'] },
      policies: {
        ...policies,
        'merge-request': {
          ...policies['merge-request'],
          // The second reminder is never reached: the decision stops the machine while it waits.
          overrides: {
            [ON_CALL.projectPath]: { remind: ['1s', '1h'], escalate: { after: '2s', to: ['sre-oncall'] } },
          },
        },
      },
    }),
  );
  // cdk-nag is left out: it changes nothing in the assembly (stack.test.ts runs it).
  buildApp({
    outdir: dir,
    env: { SIGNOFF_CONFIG: config },
    context: { stage: 'test' },
    nag: false,
  }).app.synth();
  return dir;
}

function need(fn: DeployedFunction, name: string): string {
  const value = fn.environment[name];
  if (!value) throw new Error(`${fn.name} has no ${name} in its template environment`);
  return value;
}

/** What process.env holds in the function: its template's variables, then what Lambda sets, then the endpoints. */
function lambdaEnvironment(fn: DeployedFunction, endpoints: Record<string, string>): Record<string, string> {
  return {
    ...fn.environment,
    AWS_REGION: TEST_REGION,
    AWS_DEFAULT_REGION: TEST_REGION,
    AWS_EXECUTION_ENV: `AWS_Lambda_${fn.runtime}`,
    AWS_LAMBDA_FUNCTION_NAME: fn.name,
    AWS_LAMBDA_FUNCTION_VERSION: '$LATEST',
    AWS_LAMBDA_FUNCTION_MEMORY_SIZE: String(fn.memoryMb),
    AWS_LAMBDA_LOG_GROUP_NAME: `/aws/lambda/${fn.name}`,
    AWS_LAMBDA_LOG_FORMAT: 'JSON',
    AWS_ACCESS_KEY_ID: 'ASIADEPLOYEDTEST0001',
    AWS_SECRET_ACCESS_KEY: 'deployed-test-secret-access-key',
    AWS_SESSION_TOKEN: 'deployed-test-session-token',
    LAMBDA_TASK_ROOT: fn.codeDir,
    _HANDLER: fn.handler,
    TZ: ':UTC',
    LANG: 'en_US.UTF-8',
    PATH: process.env.PATH ?? '/usr/bin:/bin',
    ...endpoints,
  };
}

beforeAll(async () => {
  dataDir = mkdtempSync(join(tmpdir(), 'signoff-deployed-'));
  outdir = synth();
  stack = readDeployedStack(outdir);

  [secrets, gitlab, lambda, support, lark, line, dynamo] = await Promise.all([
    startSecretsManagerFake(),
    startGitLabFake(),
    startLambdaFake({ region: TEST_REGION, accountId: TEST_ACCOUNT, functions: DEMO_FUNCTIONS }),
    startSupportFake(),
    startLarkFake(),
    startLineFake(),
    startDynamo({ port: 0, host: '127.0.0.1' }),
  ]);

  // The table and the secret exist once the stack is deployed (and the secret filled in, docs/deploy-aws.md).
  const webhook = webhookFunction();
  const tableName = need(webhook, 'SIGNOFF_TABLE_NAME');
  const admin = new DynamoDBClient({
    region: TEST_REGION,
    endpoint: dynamo.endpoint,
    credentials: { accessKeyId: 'admin', secretAccessKey: 'admin' },
  });
  await ensureTable(admin, tableName);
  admin.destroy();
  secrets.putSecret({
    arn: need(webhook, 'SIGNOFF_SECRET_ID'),
    value: JSON.stringify({
      GITLAB_WEBHOOK_TOKEN: WEBHOOK_TOKEN,
      GITLAB_URL: gitlab.url,
      GITLAB_TOKEN: gitlab.token,
      LARK_APP_ID: lark.appId,
      LARK_APP_SECRET: lark.appSecret,
      LARK_VERIFICATION_TOKEN: VERIFICATION_TOKEN,
      LARK_ENCRYPT_KEY: ENCRYPT_KEY,
      LARK_DOMAIN: lark.url,
      LINE_CHANNEL_SECRET: line.channelSecret,
      LINE_CHANNEL_ACCESS_TOKEN: line.channelAccessToken,
      LINE_API_BASE_URL: line.url,
    }),
  });

  engine = await createLocalEngine({
    dataDir: join(dataDir, 'engine'),
    accountId: TEST_ACCOUNT,
    region: TEST_REGION,
    stateMachines: stack.stateMachines.map(({ name, definition }) => ({ name, definition })),
    // Step Functions' lambda:invoke: the Payload goes to the function, its errorType comes back as the error.
    invokeFunction: (functionName, payload) => host.invoke(functionName, payload),
  });
  const sfnUrl = await engine.listen(0);
  const endpoints = {
    AWS_ENDPOINT_URL_DYNAMODB: dynamo.endpoint,
    AWS_ENDPOINT_URL_SFN: sfnUrl,
    AWS_ENDPOINT_URL_SECRETS_MANAGER: secrets.url,
    AWS_ENDPOINT_URL_LAMBDA: lambda.url,
    AWS_ENDPOINT_URL_SUPPORT: support.url,
  };
  host = createLambdaHost(
    stack.functions.map((fn) => ({ ...fn, environment: lambdaEnvironment(fn, endpoints) })),
  );
  sfn = new SFNClient({
    region: TEST_REGION,
    endpoint: sfnUrl,
    credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
  });
}, 240_000);

afterAll(async () => {
  sfn?.destroy();
  await host?.close();
  await engine?.close();
  await Promise.all(
    [secrets, gitlab, lambda, support, lark, line, dynamo].filter(Boolean).map((server) => server.close()),
  );
  if (outdir) rmSync(outdir, { recursive: true, force: true });
  if (dataDir) rmSync(dataDir, { recursive: true, force: true });
});

function webhookFunction(): DeployedFunction {
  const found = stack.functions.find((fn) => fn.name === `${stack.stackName}-webhooks`);
  if (!found) throw new Error('no webhook function in the assembly');
  return found;
}

/** The function behind a route of the HTTP API, as its integration names it. */
function functionOfRoute(routeKey: string): DeployedFunction {
  const resources = stack.template.resources;
  const route = Object.values(resources).find(
    (r) => r.Type === 'AWS::ApiGatewayV2::Route' && r.Properties?.RouteKey === routeKey,
  );
  if (!route) throw new Error(`the HTTP API has no route ${routeKey}`);
  const integrationId = /"Ref":"([^"]+)"/.exec(JSON.stringify(route.Properties?.Target))?.[1] ?? '';
  const integration = resources[integrationId]?.Properties ?? {};
  expect(integration.PayloadFormatVersion, routeKey).toBe('2.0');
  const arn = stack.template.resolve(integration.IntegrationUri);
  const fn = stack.functions.find((f) => f.arn === arn);
  if (!fn) throw new Error(`route ${routeKey} integrates ${String(arn)}, not a function of the stack`);
  return fn;
}

/** A request through API Gateway: the route's function invoked with the HTTP API event. */
async function request(req: HttpApiRequest): Promise<HttpApiAnswer> {
  const routeKey = `${req.method} ${req.path}`;
  const fn = functionOfRoute(routeKey);
  const apiId = String(
    stack.template.resolve({
      Ref: Object.entries(stack.template.resources).find(([, r]) => r.Type === 'AWS::ApiGatewayV2::Api')?.[0],
    }),
  );
  const event = httpApiEvent(req, routeKey, { apiId, accountId: TEST_ACCOUNT, region: TEST_REGION });
  return httpApiAnswer(await host.invoke(fn.arn, event));
}

function postLine(events: Array<Record<string, unknown>>): Promise<HttpApiAnswer> {
  const body = JSON.stringify(lineWebhook(events));
  return request({
    method: 'POST',
    path: '/webhooks/line',
    headers: {
      'content-type': 'application/json',
      'x-line-signature': signLineBody(body, line.channelSecret),
    },
    body,
  });
}

/** A GitLab merge request hook through API Gateway: the execution the webhook function started. */
async function openedInGitLab(hook: object): Promise<string> {
  const started = await request({
    method: 'POST',
    path: '/webhooks/gitlab',
    headers: {
      'content-type': 'application/json',
      'x-gitlab-event': 'Merge Request Hook',
      'x-gitlab-token': WEBHOOK_TOKEN,
    },
    body: JSON.stringify(hook),
  });
  expect(started.status, started.body).toBe(202);
  return (JSON.parse(started.body) as { executionArn: string }).executionArn;
}

/** The Approve buttons' values (approvalId, decision) in Lark cards. */
function approveButtons(cards: unknown): Array<Record<string, unknown>> {
  return found(cards, (value) => {
    const v = value as { approvalId?: unknown; decision?: unknown } | null;
    return typeof v?.approvalId === 'string' && v.decision === 'approve'
      ? (v as Record<string, unknown>)
      : undefined;
  });
}

/** Every value in `messages` that `pick` accepts, depth first. */
function found<T>(messages: unknown, pick: (value: unknown) => T | undefined): T[] {
  const out: T[] = [];
  JSON.stringify(messages, (_key, value: unknown) => {
    const picked = pick(value);
    if (picked !== undefined) out.push(picked);
    return value;
  });
  return out;
}

/** How an execution went wrong: its error and cause, and each failed invocation with the last lines its function logged. */
function diagnosis(out: DescribeExecutionCommandOutput): string {
  const failed = host.invocations.filter((i) => i.errorType);
  return [
    `${out.status}: ${out.error ?? ''} ${out.cause ?? ''}`,
    ...failed.map(
      (i) =>
        `${i.functionName} failed with ${i.errorType}: ${i.errorMessage}\n  ${host.logs(i.functionName).slice(-5).join('\n  ')}`,
    ),
  ].join('\n');
}

/** Wait for `check` while the execution runs; if it ends first, fail with why. */
function whileRunning<T>(executionArn: string, what: string, check: () => T | undefined): Promise<T> {
  return eventually(async () => {
    const value = check();
    if (value !== undefined) return value;
    const out = await sfn.send(new DescribeExecutionCommand({ executionArn }));
    if (out.status !== 'RUNNING') throw new Error(`the execution ended before ${what}\n${diagnosis(out)}`);
    return undefined;
  }, what);
}

/** The execution once it has ended, and why when it did not succeed. */
async function ended(executionArn: string): Promise<{ status: string; diagnosis: string }> {
  const out = await eventually<DescribeExecutionCommandOutput>(
    async () => {
      const described = await sfn.send(new DescribeExecutionCommand({ executionArn }));
      return described.status !== 'RUNNING' && described;
    },
    `execution ${executionArn} to end`,
    90_000,
  );
  return { status: String(out.status), diagnosis: diagnosis(out) };
}

function gitlabCalls(method: string, suffix: string) {
  return gitlab.requests.filter((r) => r.method === method && r.path.split('?')[0]?.endsWith(suffix));
}

describe('the synthesized cloud assembly, run as deployed', () => {
  it('names the Node.js runtime this test runs the bundles on, and a resolved definition for every workflow', () => {
    for (const fn of stack.functions) {
      expect(fn.runtime, fn.name).toBe(`nodejs${process.versions.node.split('.')[0]}.x`);
      expect(fn.handler, fn.name).toBe('index.handler');
    }
    // The configuration has timers, so the reminders machine is deployed beside the workflows.
    expect(stack.stateMachines.map((sm) => sm.name).sort()).toEqual(
      [...WORKFLOW_KINDS, 'reminders'].sort().map((kind) => `${stack.stackName}-${kind}`),
    );
    for (const sm of stack.stateMachines) expect(sm.definition, sm.name).not.toMatch(/\$\{[A-Za-z]+\}/);
  });

  it('merges an approved merge request: GitLab webhook in, Lark card click, approve and merge at the approved sha', async () => {
    const { mr, hook } = openedMergeRequest(gitlab, 1);
    // GitLab answers the first read 503: the task's GitLabUnavailableError must reach the
    // engine by that name, or the definition's Retry on it never matches.
    gitlab.failNext(1, { status: 503 }, '/merge_requests/1');
    const executionArn = await openedInGitLab(hook);
    expect(executionArn).toMatch(
      new RegExp(
        `^arn:aws:states:${TEST_REGION}:${TEST_ACCOUNT}:execution:${stack.stackName}-merge-request:`,
      ),
    );

    // request-approval (its bundle, with the Lark SDK loaded lazily from its chunk) sent Bob a card.
    const button = await whileRunning(executionArn, "Bob's Lark card", () => {
      const cards = [...lark.messages.values()].filter((m) => m.receiveId === LARK.bob).map((m) => m.content);
      return approveButtons(cards)[0];
    });
    const card = [...lark.messages.values()].find((m) =>
      JSON.stringify(m.content).includes(String(button.approvalId)),
    );
    const click = signedLarkRequest(
      cardActionEvent({
        token: VERIFICATION_TOKEN,
        openId: LARK.bob,
        value: button,
        ...(card ? { messageId: card.messageId } : {}),
      }),
      { encryptKey: ENCRYPT_KEY },
    );
    const clicked = await request({
      method: 'POST',
      path: '/webhooks/lark',
      headers: click.headers,
      body: click.body,
    });
    expect(clicked.status, clicked.body).toBe(200);

    const { status, diagnosis } = await ended(executionArn);
    expect(status, diagnosis).toBe('SUCCEEDED');
    const approves = gitlabCalls('POST', '/merge_requests/1/approve');
    const merges = gitlabCalls('PUT', '/merge_requests/1/merge');
    expect(approves.map((r) => r.body)).toEqual([expect.objectContaining({ sha: mr.sha })]);
    expect(merges.map((r) => r.body)).toEqual([expect.objectContaining({ sha: mr.sha })]);
    expect(gitlab.mergeRequest(7, 1)?.state).toBe('merged');
    // Every task ran from its bundle; only the first GitLab read failed, and was retried.
    expect(host.invocations.filter((i) => i.errorType)).toEqual([
      expect.objectContaining({
        functionName: `${stack.stackName}-prepare-merge-request`,
        errorType: 'GitLabUnavailableError',
      }),
    ]);
    const ran = new Set(host.invocations.map((i) => i.functionName.slice(stack.stackName.length + 1)));
    for (const fn of ['webhooks', 'prepare-merge-request', 'request-approval', 'merge-request', 'notify']) {
      expect(ran, fn).toContain(fn);
    }
  });

  it('promotes aliases of an approved deploy: LINE command in, LINE postback, aliases moved', async () => {
    const before = {
      orders: lambda.aliasVersion('demo-orders', 'test'),
      payments: lambda.aliasVersion('demo-payments', 'test'),
    };
    expect(before).toEqual({ orders: '3', payments: '2' });
    const sent = line.messages.length;
    const invoked = host.invocations.length;
    const asked = await postLine([lineTextEvent('deploy test', { userId: LINE.alice })]);
    expect(asked.status, asked.body).toBe(200);

    const deploy = stack.stateMachines.find((sm) => sm.name === `${stack.stackName}-deploy`);
    const { executions } = await sfn.send(new ListExecutionsCommand({ stateMachineArn: deploy?.arn }));
    expect(executions).toHaveLength(1);
    const executionArn = String(executions?.[0]?.executionArn);
    const data = await whileRunning(
      executionArn,
      "Bob's LINE card",
      () =>
        found(
          line.messages
            .slice(sent)
            .filter((m) => m.to === LINE.bob)
            .map((m) => m.message),
          (value) => {
            const v = value as { type?: unknown; data?: unknown } | null;
            return v?.type === 'postback' && typeof v.data === 'string' && v.data.endsWith('&d=approve')
              ? v.data
              : undefined;
          },
        )[0],
    );
    const approved = await postLine([linePostbackEvent(data, { userId: LINE.bob })]);
    expect(approved.status, approved.body).toBe(200);

    const { status, diagnosis } = await ended(executionArn);
    expect(status, diagnosis).toBe('SUCCEEDED');
    expect(lambda.aliasVersion('demo-orders', 'test')).toBe('4');
    expect(lambda.aliasVersion('demo-payments', 'test')).toBe('3');
    expect(lambda.aliasVersion('demo-orders', 'prod')).toBe('2');
    const invocations = host.invocations.slice(invoked);
    expect(invocations.filter((i) => i.errorType)).toEqual([]);
    const ran = new Set(invocations.map((i) => i.functionName.slice(stack.stackName.length + 1)));
    for (const fn of [
      'webhooks',
      'diff-aliases',
      'request-approval',
      'promote-aliases',
      'record-deployment',
      'notify-deployment',
    ]) {
      expect(ran, fn).toContain(fn);
    }
  });

  it('reminds, then escalates to the on-call group from the bundled remind-approvers, and stops the reminders when decided', async () => {
    const mr = gitlab.seedMergeRequest({
      ...ON_CALL,
      iid: 1,
      title: 'Change on call',
      author: { id: 11, username: 'alice', name: 'Alice' },
    });
    const hook = buildMergeRequestHook(mr, {
      action: 'open',
      actor: { username: 'alice' },
      baseUrl: gitlab.url,
    });
    const invoked = host.invocations.length;
    const earlier = new Set(lark.messages.keys());
    const executionArn = await openedInGitLab(hook);

    // The messages sent to someone since this merge request was opened.
    const larkTo = (openId: string) =>
      [...lark.messages.values()]
        .filter((m) => m.receiveId === openId && !earlier.has(m.messageId))
        .map((m) => m.content);
    const [button] = await whileRunning(executionArn, "Bob's Lark card", () => {
      const buttons = larkTo(LARK.bob).flatMap(approveButtons);
      return buttons.length > 0 ? buttons : undefined;
    });
    const approvalId = String(button?.approvalId);
    const reminders = stack.stateMachines.find((sm) => sm.name === `${stack.stackName}-reminders`);
    if (!reminders) throw new Error('no reminders state machine in the assembly');
    // request-approval started it, named by the approval (ARN as the engine client builds it).
    const remindersArn = `${reminders.arn.replace(':stateMachine:', ':execution:')}:${approvalId}`;

    // The reminder: a message beside the card (no buttons) naming the approval, to Bob and Carol.
    for (const [who, openId] of [
      ['Bob', LARK.bob],
      ['Carol', LARK.carol],
    ] as const) {
      await whileRunning(executionArn, `the reminder to ${who}`, () =>
        larkTo(openId).some((c) => JSON.stringify(c).includes(approvalId) && approveButtons(c).length === 0)
          ? true
          : undefined,
      );
    }
    // The escalation: Dave's card, and Alice (the requester) told that it went to Dave.
    const daveButton = await whileRunning(executionArn, "Dave's Lark card", () =>
      larkTo(LARK.dave)
        .flatMap(approveButtons)
        .find((b) => b.approvalId === approvalId),
    );
    await whileRunning(executionArn, 'Alice told of the escalation', () =>
      larkTo(LARK.alice).some((c) => JSON.stringify(c).includes('Dave')) ? true : undefined,
    );
    // Escalated, the machine waits for the hour-long reminder.
    expect((await sfn.send(new DescribeExecutionCommand({ executionArn: remindersArn }))).status).toBe(
      'RUNNING',
    );

    const click = signedLarkRequest(
      cardActionEvent({ token: VERIFICATION_TOKEN, openId: LARK.dave, value: daveButton }),
      { encryptKey: ENCRYPT_KEY },
    );
    const clicked = await request({
      method: 'POST',
      path: '/webhooks/lark',
      headers: click.headers,
      body: click.body,
    });
    expect(clicked.status, clicked.body).toBe(200);

    const { status, diagnosis } = await ended(executionArn);
    expect(status, diagnosis).toBe('SUCCEEDED');
    expect(gitlab.mergeRequest(ON_CALL.projectId, 1)?.state).toBe('merged');
    // The webhook function stopped the reminders with the decision.
    const stopped = await ended(remindersArn);
    expect(stopped.status, stopped.diagnosis).toBe('ABORTED');
    const described = await sfn.send(new DescribeExecutionCommand({ executionArn: remindersArn }));
    expect(described.error).toBe('Signoff.ApprovalEnded');
    // The bundled remind-approvers ran twice (remind, escalate), without an error.
    const steps = host.invocations
      .slice(invoked)
      .filter((i) => i.functionName === `${stack.stackName}-remind-approvers`);
    expect(steps.map((i) => i.errorType ?? 'ok')).toEqual(['ok', 'ok']);
  });

  it('reads the credentials from the secret the template names, signed for its region, at most once per instance', () => {
    const reads = secrets.requests.filter((r) => r.operation === 'GetSecretValue');
    expect(reads.length).toBeGreaterThan(0);
    const secretId = need(webhookFunction(), 'SIGNOFF_SECRET_ID');
    for (const read of reads) {
      expect(read).toMatchObject({
        secretId,
        status: 200,
        credentialScope: {
          region: TEST_REGION,
          service: 'secretsmanager',
          accessKeyId: 'ASIADEPLOYEDTEST0001',
        },
      });
    }
    // Powertools caches the secret for SIGNOFF_SECRET_MAX_AGE_SECONDS: at most one read per instance.
    expect(reads.length).toBeLessThanOrEqual(host.invocations.filter((i) => i.coldStart).length);
  });
});
