import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DescribeExecutionCommand, SFNClient } from '@aws-sdk/client-sfn';
import { runSimulation } from '@cloud-copilot/iam-simulate';
import { Template } from 'aws-cdk-lib/assertions';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildApp } from '../../cdk/app.ts';
import { decisionData } from '../../chat/line/postback.ts';
import type { Approval } from '../../core/approvals/types.ts';
import type { Notice } from '../../core/chat.ts';
import { type Config, DEFAULT_CONFIG_INPUT, parseConfig } from '../../core/config.ts';
import { buildMergeRequestHook } from '../../local/demo/gitlab.ts';
import { LOCAL_ACCOUNT, LOCAL_REGION, type Signoff, startSignoff } from '../../local/start.ts';
import { cardActionEvent, type LarkFake, signedLarkRequest, startLarkFake } from '../fakes/lark.ts';
import {
  type LineFake,
  lineId,
  linePostbackEvent,
  lineTextEvent,
  lineWebhook,
  signLineBody,
  startLineFake,
} from '../fakes/line.ts';
import { eventually, json, openedMergeRequest, postGitLab, WEBHOOK_TOKEN } from '../support/runtime.ts';
import {
  type AwsCall,
  type IamRequest,
  iamRequestsOf,
  type Placement,
  recordAwsCalls,
} from './support/aws-calls.ts';
import {
  type CfnTemplate,
  type ResolvedTemplate,
  resolveTemplate,
  TEST_ACCOUNT,
  TEST_REGION,
} from './support/template.ts';

/**
 * IAM from the calls the code really makes: every workflow runs down every path on the local
 * runtime (the same core, tasks and webhook app as the Lambda functions), each AWS SDK call is
 * recorded with the function that made it, and each is evaluated against that function's role
 * in the synthesized template by an IAM policy evaluator (@cloud-copilot/iam-simulate).
 */

const STACK = 'signoff-test';
const PREFIX = `${STACK}-`;
const LOCAL_TABLE = 'signoff';
const ENCRYPT_KEY = 'iam-test-encrypt-key';
const VERIFICATION_TOKEN = 'iam-test-verification-token';
const LARK = {
  alice: 'ou_alice_iam_000000000000000000000',
  bob: 'ou_bob_iam_00000000000000000000000',
  carol: 'ou_carol_iam_000000000000000000000',
};
const LINE = { alice: lineId('U'), bob: lineId('U'), carol: lineId('U') };

/**
 * The merge-request policy with timers, second-long so they fire within the test: a reminder at
 * 1 s, the escalation to dave (sre-oncall) at 2 s, one more reminder an hour later that the
 * decision stops. With them the stack deploys the reminders machine and its grants.
 */
const TIMERS = {
  users: { ...DEFAULT_CONFIG_INPUT.users, dave: { name: 'Dave', gitlab: 'dave' } },
  groups: { 'sre-oncall': ['dave'] },
  policies: {
    ...DEFAULT_CONFIG_INPUT.policies,
    'merge-request': {
      ...DEFAULT_CONFIG_INPUT.policies['merge-request'],
      remind: ['1s', '1h'],
      escalate: { after: '2s', to: ['sre-oncall'] },
    },
  },
};

// These stacks skip esbuild (bundling-stacks: []): IAM is in the template, not in the code.
const NO_BUNDLING = { 'aws:cdk:bundling-stacks': [] } as unknown as Record<string, string>;

const recorder = recordAwsCalls();
let dir: string;
/** The default template, and one with `console.oidc` (the console routes' calls are checked against it). */
let templates: { webhooks: ResolvedTemplate; console: ResolvedTemplate };

function synth(name: string, extra: Record<string, unknown>): ResolvedTemplate {
  const path = join(dir, `${name}.json`);
  writeFileSync(path, JSON.stringify({ ...DEFAULT_CONFIG_INPUT, ...extra }));
  const { stack } = buildApp({
    env: { SIGNOFF_CONFIG: path },
    context: { ...NO_BUNDLING, stage: 'test' },
    outdir: join(dir, `out-${name}`),
    nag: false,
  });
  return resolveTemplate(Template.fromStack(stack).toJSON() as CfnTemplate, STACK);
}

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'signoff-iam-'));
  templates = {
    webhooks: synth('default', TIMERS),
    console: synth('console', {
      ...TIMERS,
      console: {
        allowRemote: true,
        publicUrl: 'https://abc123.execute-api.eu-west-1.amazonaws.com',
        oidc: { issuer: 'https://gitlab.example.com', clientId: 'signoff' },
      },
    }),
  };
}, 120_000);

afterAll(() => {
  recorder.restore();
  rmSync(dir, { recursive: true, force: true });
});

interface Runtime extends Signoff {
  sfn: SFNClient;
  stop(): Promise<void>;
}

async function start(config: Config, env: Record<string, string> = {}): Promise<Runtime> {
  const dataDir = mkdtempSync(join(dir, 'data-'));
  // Starting creates the table and reads the outbox: the runtime's own setup, not a function's call.
  const setup = recorder.calls.length;
  const signoff = await startSignoff({
    dataDir,
    host: '127.0.0.1',
    ports: { app: 0, sfn: 0, dynamo: 0, gitlabDemo: 0, lambdaDemo: 0 },
    env: { GITLAB_WEBHOOK_TOKEN: WEBHOOK_TOKEN, ...env },
    config,
    // Acts as several people through the console API, as on the built-in demo configuration.
    demo: true,
    tableName: LOCAL_TABLE,
    redeliverEveryMs: 0,
    // The release paths run the pipeline reconciler themselves (its scheduled rule on AWS).
    reconcileEveryMs: 0,
    around: recorder.around,
  });
  recorder.calls.splice(setup);
  const sfn = new SFNClient({
    region: LOCAL_REGION,
    endpoint: signoff.urls.sfn,
    credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
  });
  return {
    ...signoff,
    sfn,
    async stop() {
      sfn.destroy();
      await signoff.close();
    },
  };
}

function users(): Config {
  const input = structuredClone(DEFAULT_CONFIG_INPUT) as { users: Record<string, Record<string, string>> };
  for (const user of ['alice', 'bob', 'carol'] as const) {
    const entry = input.users[user];
    if (entry) Object.assign(entry, { lark: LARK[user], line: LINE[user] });
  }
  return parseConfig(input);
}

async function finished(rt: Runtime, executionArn: string): Promise<string> {
  return recorder.harness(() =>
    eventually(
      async () => {
        const out = await rt.sfn.send(new DescribeExecutionCommand({ executionArn }));
        return out.status !== 'RUNNING' && out.status;
      },
      `execution ${executionArn} to end`,
      60_000,
    ),
  );
}

async function pending(rt: Runtime, find: (a: Approval) => boolean): Promise<Approval> {
  return eventually(async () => {
    const body = await json<{ approvals: Approval[] }>(
      await fetch(`${rt.urls.app}/console/api/approvals?status=pending`),
    );
    return body.approvals.find(find);
  }, 'a pending approval');
}

let events = 0;

async function command(rt: Runtime, actor: string, text: string): Promise<Notice> {
  const response = await fetch(`${rt.urls.app}/console/api/commands`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ actor, text, eventId: `evt-iam-${++events}` }),
  });
  expect(response.status, text).toBe(200);
  return (await json<{ notice: Notice }>(response)).notice;
}

function executionOf(notice: Notice): string {
  const url = notice.links?.find((l) => l.label === 'Execution')?.url ?? '';
  const arn = decodeURIComponent(url.split('/console/executions/')[1] ?? '');
  if (!arn.startsWith('arn:aws:states:')) throw new Error(`no execution in ${JSON.stringify(notice)}`);
  return arn;
}

async function decide(rt: Runtime, approvalId: string, actor: string, decision: 'approve' | 'reject') {
  const response = await fetch(`${rt.urls.app}/console/api/approvals/${approvalId}/decision`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ decision, actor, ...(decision === 'reject' ? { comment: 'not now' } : {}) }),
  });
  expect(response.status, `${actor} ${decision}s`).toBe(200);
}

/** Every workflow down every path, on the chat platforms: Lark, LINE and the console. */
async function runEveryPath(lark: LarkFake, line: LineFake): Promise<void> {
  const rt = await start(users(), {
    LARK_APP_ID: lark.appId,
    LARK_APP_SECRET: lark.appSecret,
    LARK_VERIFICATION_TOKEN: VERIFICATION_TOKEN,
    LARK_ENCRYPT_KEY: ENCRYPT_KEY,
    LARK_DOMAIN: lark.url,
    LINE_CHANNEL_SECRET: line.channelSecret,
    LINE_CHANNEL_ACCESS_TOKEN: line.channelAccessToken,
    LINE_API_BASE_URL: line.url,
  });
  const gitlab = rt.gitlabDemo;
  const lambda = rt.lambdaDemo;
  const support = rt.supportDemo;
  if (!gitlab || !lambda || !support) throw new Error('expected the demo stand-ins');
  const postLark = (body: object) => {
    const request = signedLarkRequest(body, { encryptKey: ENCRYPT_KEY });
    return fetch(`${rt.urls.app}/webhooks/lark`, {
      method: 'POST',
      headers: request.headers,
      body: request.body,
    });
  };
  const postLine = (events: Array<Record<string, unknown>>) => {
    const text = JSON.stringify(lineWebhook(events));
    return fetch(`${rt.urls.app}/webhooks/line`, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        'x-line-signature': signLineBody(text, line.channelSecret),
      },
      body: text,
    });
  };
  const lineSaid = (_userId: string, expected: string, from: number) =>
    eventually(
      async () => line.messages.slice(from).some((m) => JSON.stringify(m.message).includes(expected)),
      `LINE to say "${expected}"`,
    );
  const openMergeRequest = async (iid: number) => {
    const { hook } = openedMergeRequest(gitlab, iid);
    const response = await postGitLab(rt.urls.app, hook);
    expect(response.status).toBe(202);
    const { executionArn } = await json<{ executionArn: string }>(response);
    return { executionArn, approval: await pending(rt, (a) => a.executionArn === executionArn) };
  };

  try {
    // Merge request approved from a Lark card.
    const approvedInLark = await openMergeRequest(1);
    const larkCard = await eventually(
      async () =>
        [...lark.messages.values()].find(
          (m) =>
            m.receiveId === LARK.bob &&
            JSON.stringify(m.content).includes(approvedInLark.approval.approvalId),
        ),
      'the Lark card',
    );
    const click = cardActionEvent({
      token: VERIFICATION_TOKEN,
      openId: LARK.bob,
      value: { approvalId: approvedInLark.approval.approvalId, decision: 'approve' },
      messageId: larkCard.messageId,
    });
    expect((await postLark(click)).status).toBe(200);
    expect(await finished(rt, approvedInLark.executionArn)).toBe('SUCCEEDED');

    // Merge request rejected from Lark with a reason: closed with a note.
    const rejectedInLark = await openMergeRequest(2);
    const reject = cardActionEvent({
      token: VERIFICATION_TOKEN,
      openId: LARK.carol,
      value: { approvalId: rejectedInLark.approval.approvalId, decision: 'reject' },
      reason: 'split it',
    });
    expect((await postLark(reject)).status).toBe(200);
    expect(await finished(rt, rejectedInLark.executionArn)).toBe('FAILED'); // Signoff.Rejected
    expect(gitlab.mergeRequest(7, 2)?.state).toBe('closed');

    // Merge request approved from a LINE postback.
    const approvedInLine = await openMergeRequest(3);
    await postLine([
      linePostbackEvent(decisionData(approvedInLine.approval.approvalId, 'approve'), { userId: LINE.bob }),
    ]);
    expect(await finished(rt, approvedInLine.executionArn)).toBe('SUCCEEDED');
    expect(gitlab.mergeRequest(7, 3)?.state).toBe('merged');

    // Merge request cancelled by a push: the pending approval is cancelled, a new one asked.
    const cancelled = await openMergeRequest(4);
    const oldSha = gitlab.mergeRequest(7, 4)?.sha;
    gitlab.pushCommit(7, 4, 'c'.repeat(40));
    const pushed = gitlab.mergeRequest(7, 4);
    if (!pushed) throw new Error('MR vanished');
    const update = buildMergeRequestHook(pushed, {
      action: 'update',
      actor: { username: 'alice' },
      ...(oldSha ? { oldrev: oldSha } : {}),
      baseUrl: gitlab.url,
    });
    const restarted = await json<{ executionArn: string; cancelled: string[] }>(
      await postGitLab(rt.urls.app, update),
    );
    expect(restarted.cancelled).toEqual([cancelled.approval.approvalId]);
    expect(await finished(rt, cancelled.executionArn)).toBe('FAILED'); // Signoff.Cancelled
    const fresh = await pending(rt, (a) => a.executionArn === restarted.executionArn);
    await decide(rt, fresh.approvalId, 'carol', 'approve');
    expect(await finished(rt, restarted.executionArn)).toBe('SUCCEEDED');

    // Deploy to test, approved; then rolled back.
    const deployed = executionOf(await command(rt, 'alice', 'deploy test'));
    await decide(rt, (await pending(rt, (a) => a.executionArn === deployed)).approvalId, 'bob', 'approve');
    expect(await finished(rt, deployed)).toBe('SUCCEEDED');
    const deployId = deployed.split(':').pop() as string;
    const rollback = executionOf(await command(rt, 'alice', `rollback ${deployId}`));
    await decide(rt, (await pending(rt, (a) => a.executionArn === rollback)).approvalId, 'carol', 'approve');
    expect(await finished(rt, rollback)).toBe('SUCCEEDED');

    // Deploy to prod: a quorum of two.
    const prod = executionOf(await command(rt, 'alice', 'deploy prod'));
    const prodApproval = await pending(rt, (a) => a.executionArn === prod);
    await decide(rt, prodApproval.approvalId, 'bob', 'approve');
    await decide(rt, prodApproval.approvalId, 'carol', 'approve');
    expect(await finished(rt, prod)).toBe('SUCCEEDED');

    // Deploy that fails half-way (an alias changed by hand) and restores what it moved.
    const failing = executionOf(await command(rt, 'alice', 'deploy test'));
    const failingApproval = await pending(rt, (a) => a.executionArn === failing);
    lambda.setAlias('demo-payments', 'test', '1');
    await decide(rt, failingApproval.approvalId, 'bob', 'approve');
    expect(await finished(rt, failing)).toBe('FAILED');

    // Deploy rejected.
    const rejected = executionOf(await command(rt, 'alice', 'deploy test'));
    await decide(rt, (await pending(rt, (a) => a.executionArn === rejected)).approvalId, 'carol', 'reject');
    expect(await finished(rt, rejected)).toBe('FAILED'); // Signoff.Rejected, no reason given

    // Chat commands from LINE (the webhook's reads): last deployers, rollback list, a service code.
    let from = line.messages.length;
    await postLine([lineTextEvent('last deployers', { userId: LINE.alice })]);
    await lineSaid(LINE.alice, 'test', from);
    from = line.messages.length;
    await postLine([lineTextEvent('rollback', { userId: LINE.alice })]);
    await lineSaid(LINE.alice, '', from);
    from = line.messages.length;
    await postLine([lineTextEvent('service code lambda', { userId: LINE.alice })]);
    await lineSaid(LINE.alice, 'aws-lambda', from);

    // Support case approved while AWS Support throttles CreateCase once: retried, opened once.
    const requested = await command(
      rt,
      'alice',
      [
        'support case',
        'subject: Lambda throttling in prod',
        'body: orders-api is throttled.',
        'severity: high',
        'service: aws-lambda',
        'category: performance',
      ].join('\n'),
    );
    expect(requested.text).toContain('sent for approval');
    const supportApproval = await pending(rt, (a) => a.kind === 'support-case');
    support.failNext(1, 'ThrottlingException', 'CreateCase');
    await decide(rt, supportApproval.approvalId, 'bob', 'approve');
    expect(await finished(rt, supportApproval.executionArn)).toBe('SUCCEEDED');
    expect(support.calls('CreateCase')).toHaveLength(2);
    const opened = [...support.cases.values()][0];
    if (!opened) throw new Error('no case opened');
    from = line.messages.length;
    await postLine([lineTextEvent('my cases', { userId: LINE.alice })]);
    await lineSaid(LINE.alice, opened.displayId, from);
    from = line.messages.length;
    await postLine([lineTextEvent(`resolve case ${opened.displayId}`, { userId: LINE.alice })]);
    await lineSaid(LINE.alice, 'Resolved', from);
    expect(opened.status).toBe('resolved');

    // Release approved: the pipeline succeeds and its Pipeline Hook resumes the execution.
    const releaseAsked = async () => {
      const executionArn = executionOf(await command(rt, 'bob', 'release web'));
      const ask = await pending(rt, (a) => a.executionArn === executionArn);
      const before = gitlab.pipelines.pipelines.size;
      await decide(rt, ask.approvalId, 'carol', 'approve');
      const pipelineId = await eventually(
        async () => gitlab.pipelines.pipelines.size > before && [...gitlab.pipelines.pipelines.keys()].at(-1),
        'the release pipeline',
      );
      // The card says running once the trigger task stored pipeline id → token.
      await eventually(async () => {
        const body = await json<{ approval: Approval }>(
          await fetch(`${rt.urls.app}/console/api/approvals/${ask.approvalId}`),
        );
        return body.approval.card.fields.some((f) => f.label === 'Pipeline');
      }, 'the pipeline on the card');
      return { executionArn, pipelineId: pipelineId as number };
    };
    // After the stand-in's running hook (10 ms): a success before it would be overwritten.
    gitlab.pipelines.planNext({ outcome: 'success', runMs: 200 });
    const released = await releaseAsked();
    expect(await finished(rt, released.executionArn)).toBe('SUCCEEDED');

    // Two releases whose hooks never come: the reconciler resumes the one that ended and
    // heartbeats the one still running; the running one then fails at a job.
    gitlab.pipelines.planNext('hold', 'hold');
    const lost = await releaseAsked();
    const running = await releaseAsked();
    await gitlab.pipelines.finishPipeline(lost.pipelineId, 'success', 'drop');
    expect(await rt.reconcilePipelines()).toMatchObject({ checked: 2, resumed: 1, running: 1, failed: 0 });
    expect(await finished(rt, lost.executionArn)).toBe('SUCCEEDED');
    await gitlab.pipelines.finishPipeline(running.pipelineId, 'failed');
    expect(await finished(rt, running.executionArn)).toBe('FAILED');
  } finally {
    await rt.stop();
  }

  // Reminded, escalated to dave, who approves: the reminder machine is started, runs its task
  // twice, and is stopped by the decision.
  const timers = await start(parseConfig({ ...DEFAULT_CONFIG_INPUT, ...TIMERS }));
  try {
    const gitlab = timers.gitlabDemo;
    if (!gitlab) throw new Error('expected the GitLab stand-in');
    const { hook } = openedMergeRequest(gitlab, 10);
    const { executionArn } = await json<{ executionArn: string }>(await postGitLab(timers.urls.app, hook));
    const { approvalId } = await pending(timers, (a) => a.executionArn === executionArn);
    await eventually(async () => {
      const body = await json<{ approval: Approval }>(
        await fetch(`${timers.urls.app}/console/api/approvals/${approvalId}`),
      );
      return body.approval.policy.approvers.includes('dave');
    }, 'the escalation to dave');
    await decide(timers, approvalId, 'dave', 'approve');
    expect(await finished(timers, executionArn)).toBe('SUCCEEDED');
    expect(await finished(timers, remindersExecution(approvalId))).toBe('ABORTED');
  } finally {
    await timers.stop();
  }

  // An approval nobody decides expires (its reminder machine stopped by expire-approval).
  const input = structuredClone(DEFAULT_CONFIG_INPUT) as {
    policies: Record<string, Record<string, unknown>>;
  };
  input.policies['merge-request'] = {
    ...input.policies['merge-request'],
    timeoutSeconds: 1,
    remind: ['1h'],
  };
  const expiring = await start(parseConfig(input));
  try {
    const gitlab = expiring.gitlabDemo;
    if (!gitlab) throw new Error('expected the GitLab stand-in');
    const { hook } = openedMergeRequest(gitlab, 9);
    const { executionArn } = await json<{ executionArn: string }>(await postGitLab(expiring.urls.app, hook));
    expect(await finished(expiring, executionArn)).toBe('FAILED');
  } finally {
    await expiring.stop();
  }
}

/** The reminder machine's execution of an approval on the local runtime (named by the approval id). */
function remindersExecution(approvalId: string): string {
  return `arn:aws:states:${LOCAL_REGION}:${LOCAL_ACCOUNT}:execution:signoff-reminders:${approvalId}`;
}

interface Verdict extends IamRequest {
  result: string;
}

/** Evaluate each distinct request against the role of its function in the template. */
async function evaluate(requests: IamRequest[], template: ResolvedTemplate): Promise<Verdict[]> {
  const verdicts: Verdict[] = [];
  for (const request of requests) {
    const fnId = template.functionNamed(`${PREFIX}${request.fn}`);
    const { roleArn, policies } = template.roleOf(fnId);
    const result = await runSimulation(
      {
        request: {
          principal: roleArn,
          action: request.action,
          resource: { resource: request.resource, accountId: TEST_ACCOUNT },
          contextVariables: {},
        },
        identityPolicies: policies.map((p) => ({ name: p.name, policy: p.document })),
        serviceControlPolicies: [],
        resourceControlPolicies: [],
      },
      {},
    );
    verdicts.push({
      ...request,
      result: result.resultType === 'error' ? `error: ${result.errors.message}` : result.overallResult,
    });
  }
  return verdicts;
}

function placementOf(template: ResolvedTemplate, fn: string): Placement {
  const env = template.environmentOf(template.functionNamed(`${PREFIX}${fn}`));
  const need = (name: string) => {
    const value = env[name];
    if (!value) throw new Error(`${PREFIX}${fn} has no ${name} in its environment`);
    return value;
  };
  return {
    account: need('SIGNOFF_ACCOUNT_ID'),
    region: TEST_REGION,
    tableName: need('SIGNOFF_TABLE_NAME'),
    stateMachinePrefix: need('SIGNOFF_STATE_MACHINE_PREFIX'),
  };
}

describe('IAM from the calls the code makes', () => {
  let calls: AwsCall[];
  const local: Placement = {
    account: LOCAL_ACCOUNT,
    region: LOCAL_REGION,
    tableName: LOCAL_TABLE,
    stateMachinePrefix: 'signoff-',
  };

  beforeAll(async () => {
    const lark = await startLarkFake();
    const line = await startLineFake();
    try {
      await runEveryPath(lark, line);
    } finally {
      await lark.close();
      await line.close();
    }
    calls = [...recorder.calls];
  }, 240_000);

  function requestsFor(template: ResolvedTemplate, consoleCalls: boolean): IamRequest[] {
    const seen = new Map<string, IamRequest>();
    for (const call of calls.filter((c) => c.console === consoleCalls)) {
      for (const request of iamRequestsOf(call, local, placementOf(template, call.fn))) {
        seen.set(`${request.fn} ${request.action} ${request.resource}`, request);
      }
    }
    return [...seen.values()].sort((a, b) => `${a.fn}${a.action}`.localeCompare(`${b.fn}${b.action}`));
  }

  it('attributes every AWS call to a function of the stack, on every path', () => {
    const strays = calls
      .filter((c) => c.fn === '(unattributed)' || c.service.startsWith('('))
      .map((c) => `${c.fn}: ${c.service}:${c.operation}`);
    expect(strays).toEqual([]);
    const functions = new Set(calls.map((c) => c.fn));
    // Every task of every workflow ran (each deployed function made at least one call), and the webhook.
    for (const fn of [
      'webhooks',
      'request-approval',
      'expire-approval',
      'merge-request',
      'notify',
      'diff-aliases',
      'promote-aliases',
      'restore-aliases',
      'record-deployment',
      'load-deployment',
      'notify-deployment',
      'support-case',
      'prepare-release',
      'trigger-pipeline',
      'report-release',
      'reconcile-pipelines',
      'remind-approvers',
    ]) {
      expect(functions, fn).toContain(fn);
    }
    // The reminder machine was started by request-approval and stopped by a decision and an expiry.
    const reminders = (c: AwsCall) =>
      `${c.fn} ${c.service}:${c.operation}${String(c.input.stateMachineArn ?? c.input.executionArn).includes(':signoff-reminders') ? ' reminders' : ''}`;
    for (const call of [
      'request-approval states:StartExecution reminders',
      'webhooks states:StopExecution reminders',
      'expire-approval states:StopExecution reminders',
    ]) {
      expect(calls.map(reminders), call).toContain(call);
    }
  });

  it("allows every call by the function's own role, resources included", async () => {
    const verdicts = [
      ...(await evaluate(requestsFor(templates.webhooks, false), templates.webhooks)),
      ...(await evaluate(requestsFor(templates.console, true), templates.console)),
    ];
    const denied = verdicts
      .filter((v) => v.result !== 'Allowed')
      .map(
        (v) =>
          `${PREFIX}${v.fn}${v.console ? ' (console route)' : ''}: ${v.action} on ${v.resource} — ${v.result}`,
      );
    expect(denied, `calls the template does not allow:\n  ${denied.join('\n  ')}`).toEqual([]);

    // Granted but never used: listed for a reviewer (the Lambda runtime itself writes the logs,
    // and the AWS entries read the secret, which the local runtime takes from its environment).
    const used = new Map<string, Set<string>>();
    for (const v of verdicts) used.set(v.fn, (used.get(v.fn) ?? new Set()).add(v.action));
    const unused: string[] = [];
    for (const fn of used.keys()) {
      const { policies } = templates.console.roleOf(templates.console.functionNamed(`${PREFIX}${fn}`));
      const granted = new Set(
        policies.flatMap((p) =>
          p.document.Statement.flatMap((s) => (Array.isArray(s.Action) ? s.Action : [s.Action])),
        ),
      );
      const idle = [...granted].filter((a) => !used.get(fn)?.has(a)).sort();
      if (idle.length > 0) unused.push(`${PREFIX}${fn}: ${idle.join(', ')}`);
    }
    process.stdout.write(`granted but not used on any path:\n  ${unused.join('\n  ')}\n`);
  });
});
