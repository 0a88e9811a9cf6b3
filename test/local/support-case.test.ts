import {
  DescribeExecutionCommand,
  GetExecutionHistoryCommand,
  ListExecutionsCommand,
} from '@aws-sdk/client-sfn';
import { afterEach, describe, expect, it } from 'vitest';
import type { Approval } from '../../core/approvals/types.ts';
import { type Config, DEFAULT_CONFIG_INPUT, parseConfig } from '../../core/config.ts';
import {
  cardActionEvent,
  type LarkFake,
  type LarkFakeMessage,
  messageEvent,
  signedLarkRequest,
  startLarkFake,
} from '../fakes/lark.ts';
import {
  consoleCommand as command,
  configWithChatIds,
  decideAs as decide,
  eventually,
  finalOutcome,
  finalStatus,
  json,
  startTestRuntime,
  type TestRuntime,
} from '../support/runtime.ts';

const MACHINE = 'arn:aws:states:us-east-1:123456789012:stateMachine:signoff-support-case';

let runtime: TestRuntime | undefined;
afterEach(async () => {
  await runtime?.stop();
  runtime = undefined;
});

async function pendingSupportApproval(rt: TestRuntime): Promise<Approval> {
  return eventually(async () => {
    const body = await json<{ approvals: Approval[] }>(
      await fetch(`${rt.urls.app}/console/api/approvals?status=pending`),
    );
    return body.approvals.find((a) => a.kind === 'support-case');
  }, 'the support-case approval card');
}

async function notificationsOf(rt: TestRuntime, user: string): Promise<string[]> {
  const body = await json<{ notifications: Array<{ text: string }> }>(
    await fetch(`${rt.urls.app}/console/api/notifications?user=${user}`),
  );
  return body.notifications.map((n) => n.text);
}

async function executions(rt: TestRuntime) {
  return (await rt.sfn.send(new ListExecutionsCommand({ stateMachineArn: MACHINE }))).executions ?? [];
}

const CASE = [
  'support case',
  'subject: Lambda throttling in prod',
  'body: Since 09:00 UTC our function orders-api gets throttled.',
  'Concurrency limit is 1000; we see 429s at ~200 concurrent.',
  'severity: high',
  'service: aws-lambda',
  'category: performance',
  'cc: ops@example.com, lead@example.com',
].join('\n');

// Each test starts a whole runtime, and the throttling test waits out a real 2 s retry interval.
describe('support-case workflow on the embedded runtime', { timeout: 30_000 }, () => {
  it('looks up a service code, opens an approved case with exactly the fields given, lists and resolves it', async () => {
    runtime = await startTestRuntime();
    const rt = runtime;

    const lookup = await command(rt, 'alice', 'service code lambda');
    expect(lookup.text).toContain('aws-lambda');
    expect(lookup.text).toContain('performance');
    const zh = await command(rt, 'alice', '查找ServiceCode: lambda');
    expect(zh.text).toContain('aws-lambda');
    // DescribeServices is cached: two lookups, one call.
    expect(rt.support.calls('DescribeServices')).toHaveLength(1);

    const sent = await command(rt, 'alice', CASE, 'evt-case-1');
    expect(sent.text).toContain('sent for approval');
    // The same event again (a chat redelivery or a retried POST) starts nothing new.
    const again = await command(rt, 'alice', CASE, 'evt-case-1');
    expect(again.text).toBe(sent.text);
    expect(await executions(rt)).toHaveLength(1);

    const approval = await pendingSupportApproval(rt);
    const fields = Object.fromEntries(approval.card.fields.map((f) => [f.label, f.value]));
    expect(fields).toMatchObject({
      Subject: 'Lambda throttling in prod',
      Body: 'Since 09:00 UTC our function orders-api gets throttled.\nConcurrency limit is 1000; we see 429s at ~200 concurrent.',
      Severity: 'high',
      Service: 'Lambda (aws-lambda)',
      Category: 'Performance (performance)',
      CC: 'ops@example.com, lead@example.com',
      Requester: 'Alice (alice)',
    });
    expect(rt.support.calls('CreateCase')).toHaveLength(0);

    expect((await decide(rt, approval.approvalId, 'bob', 'approve')).status).toBe(200);
    expect(await finalStatus(rt, approval.executionArn)).toBe('SUCCEEDED');

    const creates = rt.support.calls('CreateCase');
    expect(creates).toHaveLength(1);
    expect(creates[0]?.body).toEqual({
      subject: 'Lambda throttling in prod',
      communicationBody:
        'Since 09:00 UTC our function orders-api gets throttled.\nConcurrency limit is 1000; we see 429s at ~200 concurrent.',
      serviceCode: 'aws-lambda',
      categoryCode: 'performance',
      severityCode: 'high',
      issueType: 'technical',
      language: 'en',
      ccEmailAddresses: ['ops@example.com', 'lead@example.com'],
    });
    const opened = [...rt.support.cases.values()][0];
    if (!opened) throw new Error('no case in the fake');

    const notes = await notificationsOf(rt, 'alice');
    const told = notes.find((text) => text.includes(opened.caseId));
    expect(told).toContain(`case ${opened.displayId}`);
    expect(told).toContain(
      `https://support.console.aws.amazon.com/support/home#/case/?displayId=${opened.displayId}&language=en`,
    );

    const mine = await command(rt, 'alice', 'my cases');
    expect(mine.text).toContain(opened.displayId);
    expect(mine.text).toContain('Lambda throttling in prod');
    expect((await command(rt, 'carol', 'my cases')).text).toContain('no open AWS Support cases');

    const resolved = await command(rt, 'alice', `resolve case ${opened.displayId}`);
    expect(resolved.text).toContain('Resolved');
    expect(rt.support.calls('ResolveCase')[0]?.body).toEqual({ caseId: opened.caseId });
    expect(opened.status).toBe('resolved');
    expect((await command(rt, 'alice', '我的工单')).text).toContain('你没有');

    const audit = await json<{ records: Array<{ action: string; outcome: string }> }>(
      await fetch(`${rt.urls.app}/console/api/audit?execution=${encodeURIComponent(approval.executionArn)}`),
    );
    expect(audit.records.map((r) => `${r.action}:${r.outcome}`)).toEqual(
      expect.arrayContaining([
        'execution.requested:started',
        'approval.requested:pending',
        'approval.decided:approved',
        'support-case.created:created',
        'workflow.created:created',
        'support-case.resolved:resolved',
      ]),
    );
  });

  it('never starts a workflow for a malformed request, and says what is wrong', async () => {
    runtime = await startTestRuntime();
    const rt = runtime;

    const missing = await command(
      rt,
      'alice',
      'support case\nsubject: Hello\nseverity: high\nservice: aws-lambda',
    );
    expect(missing.text).toContain('body: missing');
    expect(missing.text).toContain('category: missing');

    const typo = await command(
      rt,
      'alice',
      '提工单\nsubject: S3 slow\nbody: uploads are slow\nseverity: hgh\nservice: amazon-simple-storage-servce\ncategory: perf',
    );
    // Asked in Chinese (提工单): the problems come back in Chinese, the codes as written.
    expect(typo.text).toContain(
      '不认识服务代码「amazon-simple-storage-servce」；最接近的：amazon-simple-storage-service',
    );
    expect(typo.text).toContain('severity：不认识「hgh」');
    expect(typo.text).toContain('最接近的：high');

    const badCategory = await command(
      rt,
      'alice',
      'support case\nsubject: x\nbody: y\nseverity: low\nservice: aws-lambda\ncategory: perfomance',
    );
    expect(badCategory.text).toContain(
      'unknown category code "perfomance" for aws-lambda; closest: performance',
    );

    const empty = await command(rt, 'alice', 'support case');
    expect(empty.text).toContain('subject: <one line>');

    expect(await executions(rt)).toHaveLength(0);
    expect(rt.support.calls('CreateCase')).toHaveLength(0);
  });

  it('tells the requester the reason when an approver rejects', async () => {
    runtime = await startTestRuntime();
    const rt = runtime;
    await command(rt, 'alice', CASE, 'evt-reject');
    const approval = await pendingSupportApproval(rt);
    expect(
      (await decide(rt, approval.approvalId, 'carol', 'reject', 'ask the Lambda team first')).status,
    ).toBe(200);
    expect(await finalOutcome(rt, approval.executionArn)).toEqual({
      status: 'FAILED',
      error: 'Signoff.Rejected',
      cause: 'ask the Lambda team first',
    });
    expect(rt.support.calls('CreateCase')).toHaveLength(0);
    const notes = await notificationsOf(rt, 'alice');
    expect(notes.some((text) => text.includes('rejected by Carol: ask the Lambda team first'))).toBe(true);
  });

  it('sends urgent and critical cases to the urgent approver set', async () => {
    const input = structuredClone(DEFAULT_CONFIG_INPUT) as unknown as {
      policies: Record<string, Record<string, unknown>>;
    };
    input.policies['support-case'] = { approvers: ['bob'], overrides: { urgent: { approvers: ['carol'] } } };
    runtime = await startTestRuntime(parseConfig(input) as Config);
    const rt = runtime;
    const urgent = CASE.replace('severity: high', 'severity: critical');
    const sent = await command(rt, 'alice', urgent, 'evt-urgent');
    expect(sent.text).toContain('Carol');
    const approval = await pendingSupportApproval(rt);
    expect(approval.policy.approvers).toEqual(['carol']);
    expect((await decide(rt, approval.approvalId, 'bob', 'approve')).status).toBe(403);
    expect((await decide(rt, approval.approvalId, 'carol', 'approve')).status).toBe(200);
    expect(await finalStatus(rt, approval.executionArn)).toBe('SUCCEEDED');
    expect(rt.support.calls('CreateCase')[0]?.body).toMatchObject({ severityCode: 'critical' });

    // A case AWS Support no longer knows (the demo stand-in restarted) is listed as such, not an error.
    rt.support.cases.clear();
    expect((await command(rt, 'alice', 'my cases')).text).toContain('not found in AWS Support');
  });

  it('says clearly that the account has no Support plan, in the reply and in the failed execution', async () => {
    runtime = await startTestRuntime();
    const rt = runtime;

    rt.support.setPlan('none');
    const refused = await command(rt, 'alice', 'service code s3');
    expect(refused.text).toContain('this account has no Business/Enterprise Support plan');
    expect(await executions(rt)).toHaveLength(0);

    // The plan lapses between the request and the approval.
    rt.support.setPlan('enterprise');
    await command(rt, 'alice', CASE, 'evt-noplan');
    const approval = await pendingSupportApproval(rt);
    rt.support.setPlan('none');
    await decide(rt, approval.approvalId, 'bob', 'approve');
    expect(await finalStatus(rt, approval.executionArn)).toBe('FAILED');

    const described = await rt.sfn.send(
      new DescribeExecutionCommand({ executionArn: approval.executionArn }),
    );
    expect(described.error).toBe('SupportPlanRequiredError');
    expect(described.cause).toContain('this account has no Business/Enterprise Support plan');
    expect(described.cause).not.toMatch(/\n\s+at /);
    const notes = await notificationsOf(rt, 'alice');
    const told = notes.find((text) => text.includes('could not be opened'));
    expect(told).toContain('this account has no Business/Enterprise Support plan');
    expect(told).not.toMatch(/\n\s+at /);
  });

  it('retries a throttled CreateCase with backoff, and opens one case', async () => {
    runtime = await startTestRuntime();
    const rt = runtime;
    await command(rt, 'alice', CASE, 'evt-throttle');
    const approval = await pendingSupportApproval(rt);
    rt.support.failNext(1, 'ThrottlingException', 'CreateCase');
    await decide(rt, approval.approvalId, 'bob', 'approve');
    expect(await finalStatus(rt, approval.executionArn)).toBe('SUCCEEDED');

    expect(rt.support.calls('CreateCase')).toHaveLength(2);
    expect(rt.support.cases.size).toBe(1);
    const history = await rt.sfn.send(
      new GetExecutionHistoryCommand({ executionArn: approval.executionArn }),
    );
    const failed = history.events?.filter((e) => e.type === 'TaskFailed') ?? [];
    expect(failed.map((e) => e.taskFailedEventDetails?.error)).toEqual(['SupportThrottlingError']);
  });
});

describe('support cases from Lark', { timeout: 30_000 }, () => {
  const ENCRYPT_KEY = 'test-encrypt-key';
  const TOKEN = 'test-verification-token';
  const OPEN_ID = {
    alice: 'ou_alice_support_0000000000000000000',
    bob: 'ou_bob_support_00000000000000000000',
  };
  let lark: LarkFake | undefined;
  afterEach(async () => {
    await lark?.close();
    lark = undefined;
  });

  it('looks up a code, requests a case, is approved from the card, and lists and resolves it, in Chinese', async () => {
    const fake = await startLarkFake();
    lark = fake;
    runtime = await startTestRuntime(configWithChatIds('lark', OPEN_ID), undefined, {
      LARK_APP_ID: fake.appId,
      LARK_APP_SECRET: fake.appSecret,
      LARK_VERIFICATION_TOKEN: TOKEN,
      LARK_ENCRYPT_KEY: ENCRYPT_KEY,
      LARK_DOMAIN: fake.url,
    });
    const rt = runtime;
    const to = (openId: string): LarkFakeMessage[] =>
      [...fake.messages.values()].filter((m) => m.receiveId === openId);
    const post = (body: object) => {
      const request = signedLarkRequest(body, { encryptKey: ENCRYPT_KEY });
      return fetch(`${rt.urls.app}/webhooks/lark`, {
        method: 'POST',
        headers: request.headers,
        body: request.body,
      });
    };
    /** Send `text` as Alice in a direct chat; the reply she gets. */
    const say = async (text: string, eventId?: string): Promise<string> => {
      const before = to(OPEN_ID.alice).length;
      const event = messageEvent({
        token: TOKEN,
        text,
        openId: OPEN_ID.alice,
        chatType: 'p2p',
        ...(eventId ? { eventId } : {}),
      });
      expect((await post(event)).status).toBe(200);
      return JSON.stringify(to(OPEN_ID.alice).slice(before));
    };

    expect(await say('查找ServiceCode: lambda')).toContain('aws-lambda');
    const request = CASE.replace('support case', '提工单');
    expect(await say(request, 'evt-lark-case')).toContain('已提交审批');

    const approval = await pendingSupportApproval(rt);
    const card = await eventually(
      async () => to(OPEN_ID.bob).find((m) => JSON.stringify(m.content).includes(approval.approvalId)),
      "Bob's Lark card",
    );
    expect(JSON.stringify(card.content)).toContain('Lambda throttling in prod');
    const click = cardActionEvent({
      token: TOKEN,
      eventId: 'evt-lark-approve',
      openId: OPEN_ID.bob,
      value: { approvalId: approval.approvalId, decision: 'approve' },
      messageId: card.messageId,
    });
    expect((await post(click)).status).toBe(200);
    expect(await finalStatus(rt, approval.executionArn)).toBe('SUCCEEDED');

    const opened = [...rt.support.cases.values()][0];
    if (!opened) throw new Error('no case in the fake');
    await eventually(
      async () => to(OPEN_ID.alice).some((m) => JSON.stringify(m.content).includes(opened.caseId)),
      'Alice to be told the case id in Lark',
    );
    expect(await say('我的工单')).toContain(opened.displayId);
    expect(await say(`释放工单: ${opened.displayId}`)).toContain('已释放工单');
    expect(opened.status).toBe('resolved');
  });
});
