import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { commandData, decisionData } from '../../chat/line/postback.ts';
import type { Approval } from '../../core/approvals/types.ts';
import {
  type LineFake,
  type LineSentMessage,
  lineId,
  linePostbackEvent,
  lineTextEvent,
  lineWebhook,
  signLineBody,
  startLineFake,
} from '../fakes/line.ts';
import {
  configWithChatIds,
  eventually,
  finalStatus,
  json,
  openedMergeRequest,
  postGitLab,
  startTestRuntime,
  type TestRuntime,
} from '../support/runtime.ts';

const LINE_ID = { alice: lineId('U'), bob: lineId('U'), carol: lineId('U') };

let line: LineFake;
let rt: TestRuntime;

beforeAll(async () => {
  line = await startLineFake();
  rt = await startTestRuntime(configWithChatIds('line', LINE_ID), undefined, {
    LINE_CHANNEL_SECRET: line.channelSecret,
    LINE_CHANNEL_ACCESS_TOKEN: line.channelAccessToken,
    LINE_API_BASE_URL: line.url,
  });
});
afterAll(async () => {
  await rt?.stop();
  await line?.close();
});

function postLine(body: object, signature?: string): Promise<Response> {
  const text = JSON.stringify(body);
  return fetch(`${rt.urls.app}/webhooks/line`, {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      'x-line-signature': signature ?? signLineBody(text, line.channelSecret),
    },
    body: text,
  });
}

function to(userId: string): LineSentMessage[] {
  return line.messages.filter((m) => m.to === userId);
}

function text(messages: LineSentMessage[]): string {
  return JSON.stringify(messages.map((m) => m.message));
}

async function pending(executionArn: string): Promise<Approval> {
  return eventually(async () => {
    const body = await json<{ approvals: Approval[] }>(
      await fetch(`${rt.urls.app}/console/api/approvals?status=pending`),
    );
    const approval = body.approvals.find((a) => a.executionArn === executionArn);
    return (
      approval &&
      text(to(LINE_ID.bob)).includes(approval.approvalId) &&
      text(to(LINE_ID.carol)).includes(approval.approvalId) &&
      approval
    );
  }, 'LINE cards for both approvers');
}

describe('merge requests approved from LINE', () => {
  it('pushes Flex cards, approves from a postback, shows the outcome in new messages, once', async () => {
    const { hook } = openedMergeRequest(rt.gitlab, 31);
    const { executionArn } = await json<{ executionArn: string }>(await postGitLab(rt.urls.app, hook));
    const approval = await pending(executionArn);
    expect(text(to(LINE_ID.bob))).not.toMatch(/taskToken/i);

    const click = linePostbackEvent(decisionData(approval.approvalId, 'approve'), {
      userId: LINE_ID.bob,
      webhookEventId: '01JLINECLICK0000000000000A',
    });
    expect((await postLine(lineWebhook([click]))).status).toBe(200);
    expect(await finished(executionArn)).toBe('SUCCEEDED');
    expect(rt.gitlab.mergeRequest(7, 31)?.state).toBe('merged');
    // The clicker is answered by reply; the other approver sees the outcome in a new message.
    expect(text(line.messages.filter((m) => m.via === 'reply'))).toContain('Approved by Bob');
    await eventually(async () => text(to(LINE_ID.carol)).includes('Approved by Bob'), "Carol's update");
    await eventually(async () => text(to(LINE_ID.alice)).includes('merged'), 'the author to be told');
    // Bob hears the new state once, in the reply, not also in a pushed state message.
    expect(to(LINE_ID.bob).filter((m) => text([m]).includes('Approved by Bob'))).toHaveLength(0);

    // A redelivery of the same event has no further effect.
    const count = line.messages.length;
    await postLine(lineWebhook([{ ...click, deliveryContext: { isRedelivery: true } }]));
    expect(line.messages.length).toBe(count);

    // A click on the now outdated card is answered, and changes nothing.
    const late = linePostbackEvent(decisionData(approval.approvalId, 'approve'), { userId: LINE_ID.carol });
    await postLine(lineWebhook([late]));
    await eventually(
      async () => text(line.messages.slice(count)).includes('already approved by Bob'),
      'the late click answer',
    );
    const merges = rt.gitlab.requests.filter(
      (r) => r.method === 'PUT' && r.path.endsWith('/merge_requests/31/merge'),
    );
    expect(merges).toHaveLength(1);
  });

  it('refuses a bad signature and unknown postback data without changing anything', async () => {
    const { hook } = openedMergeRequest(rt.gitlab, 32);
    const { executionArn } = await json<{ executionArn: string }>(await postGitLab(rt.urls.app, hook));
    const approval = await pending(executionArn);
    const forged = await postLine(
      lineWebhook([linePostbackEvent(decisionData(approval.approvalId, 'approve'), { userId: LINE_ID.bob })]),
      'AAAA',
    );
    expect(forged.status).toBe(401);
    expect(await forged.json()).toMatchObject({ error: { message: expect.any(String) } });
    expect(
      (await postLine(lineWebhook([linePostbackEvent('x=1&y=2', { userId: LINE_ID.bob })]))).status,
    ).toBe(200);
    const after = await json<{ approval: Approval }>(
      await fetch(`${rt.urls.app}/console/api/approvals/${approval.approvalId}`),
    );
    expect(after.approval.votes).toEqual([]);
  });

  it('answers commands in a direct chat in every language', async () => {
    for (const [command, expected] of [
      ['help', 'Signoff commands'],
      ['帮助', 'Signoff 指令'],
      ['幫助', 'Signoff 指令'],
      ['ヘルプ', 'Signoff コマンド'],
    ] as const) {
      const before = line.messages.length;
      await postLine(lineWebhook([lineTextEvent(command, { userId: LINE_ID.bob })]));
      expect(text(line.messages.slice(before))).toContain(expected);
    }
  });

  it('deploys from LINE: the environment list is buttons, the card goes to the approver, aliases move', async () => {
    const before = line.messages.length;
    await postLine(lineWebhook([lineTextEvent('環境佈署清單', { userId: LINE_ID.bob })]));
    const list = text(line.messages.slice(before));
    expect(list).toContain(commandData('佈署 test') ?? 'missing');

    await postLine(lineWebhook([linePostbackEvent(commandData('佈署 test') ?? '', { userId: LINE_ID.bob })]));
    const approval = await eventually(async () => {
      const body = await json<{ approvals: Approval[] }>(
        await fetch(`${rt.urls.app}/console/api/approvals?status=pending`),
      );
      const found = body.approvals.find((a) => a.kind === 'deploy');
      return found && text(to(LINE_ID.carol)).includes(found.approvalId) && found;
    }, 'the deploy card in LINE');
    expect(approval.requester.user).toBe('bob');

    await postLine(
      lineWebhook([
        linePostbackEvent(decisionData(approval.approvalId, 'approve'), { userId: LINE_ID.carol }),
      ]),
    );
    expect(await finished(approval.executionArn)).toBe('SUCCEEDED');
    expect(rt.lambda.aliasVersion('demo-orders', 'test')).toBe('4');
    await eventually(
      // In the language of Bob's last command (Traditional Chinese).
      async () => text(to(LINE_ID.bob)).includes('已由 Carol 核准並完成'),
      'the requester to be told in LINE',
    );
  });

  it('looks up an AWS Support service code from LINE', async () => {
    const before = line.messages.length;
    await postLine(lineWebhook([lineTextEvent('service code lambda', { userId: LINE_ID.bob })]));
    expect(text(line.messages.slice(before))).toMatch(/lambda/i);
  });

  it('requests an AWS Support case from LINE with a multi-line message; approved in LINE, the case is created as typed', async () => {
    const request = [
      'support case',
      'subject: Lambda throttling in prod',
      'body: orders-api is throttled since 09:00 UTC.',
      'severity: high',
      'service: aws-lambda',
      'category: performance',
    ].join('\n');
    await postLine(lineWebhook([lineTextEvent(request, { userId: LINE_ID.alice })]));
    const approval = await eventually(async () => {
      const body = await json<{ approvals: Approval[] }>(
        await fetch(`${rt.urls.app}/console/api/approvals?status=pending`),
      );
      const found = body.approvals.find((a) => a.kind === 'support-case');
      return found && text(to(LINE_ID.bob)).includes(found.approvalId) && found;
    }, 'the support-case card in LINE');
    await postLine(
      lineWebhook([linePostbackEvent(decisionData(approval.approvalId, 'approve'), { userId: LINE_ID.bob })]),
    );
    expect(await finished(approval.executionArn)).toBe('SUCCEEDED');
    const creates = rt.support.calls('CreateCase');
    expect(creates).toHaveLength(1);
    expect(creates[0]?.body).toMatchObject({
      subject: 'Lambda throttling in prod',
      communicationBody: 'orders-api is throttled since 09:00 UTC.',
      severityCode: 'high',
      serviceCode: 'aws-lambda',
      categoryCode: 'performance',
    });
    await eventually(
      async () => /case/i.test(text(to(LINE_ID.alice).slice(-2))),
      'the requester to get the case id',
    );
  });
});

function finished(executionArn: string): Promise<string> {
  return finalStatus(rt, executionArn);
}
