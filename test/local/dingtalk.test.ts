import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Approval } from '../../core/approvals/types.ts';
import {
  cardCallback,
  type DingTalkFake,
  type DingTalkFakeCard,
  postDingTalk,
  robotMessage,
  startDingTalkFake,
} from '../fakes/dingtalk.ts';
import {
  configWithChatIds,
  eventually,
  finalOutcome,
  finalStatus,
  json,
  openedMergeRequest,
  postGitLab,
  startTestRuntime,
  type TestRuntime,
} from '../support/runtime.ts';

const STAFF = { alice: 'manager4711', bob: 'staff0815', carol: 'staff0816' };
const ROBOT = '/v1.0/im/bot/messages/get';
const CARD = '/v1.0/card/instances/callback';

let fake: DingTalkFake;
let rt: TestRuntime;

beforeAll(async () => {
  fake = await startDingTalkFake();
  rt = await startTestRuntime(configWithChatIds('dingtalk', STAFF), undefined, {
    DINGTALK_APP_KEY: fake.appKey,
    DINGTALK_APP_SECRET: fake.appSecret,
    DINGTALK_CARD_TEMPLATE_ID: fake.cardTemplateId,
    DINGTALK_API_URL: fake.url,
    DINGTALK_STREAM: 'true',
  });
  await fake.streamConnected();
});
afterAll(async () => {
  await rt?.stop();
  await fake?.close();
});

const webhook = () => `${rt.urls.app}/webhooks/dingtalk`;

/** Send `text` to the robot over HTTP as `user` (single chat); the answers that came back. */
async function say(user: keyof typeof STAFF, text: string, msgId?: string): Promise<string> {
  const before = fake.messages.length;
  const body = robotMessage(fake, text, { senderStaffId: STAFF[user], ...(msgId ? { msgId } : {}) });
  const response = await postDingTalk(webhook(), body, fake.appSecret);
  expect(response.status).toBe(200);
  expect(await response.json()).toEqual({});
  return JSON.stringify(fake.messages.slice(before));
}

/** Messages the robot sent to one person through the OpenAPI. */
function toUser(user: keyof typeof STAFF): string {
  return JSON.stringify(fake.messages.filter((m) => m.via === 'batchSend' && m.to === STAFF[user]));
}

function cardsOf(approvalId: string): DingTalkFakeCard[] {
  return [...fake.cards.values()].filter((c) => c.outTrackId.includes(approvalId));
}

function cardFor(approvalId: string, user: keyof typeof STAFF): DingTalkFakeCard {
  const card = cardsOf(approvalId).find((c) => c.openSpaceId === `dtv1.card//IM_ROBOT.${STAFF[user]}`);
  if (!card) throw new Error(`no card for ${user}`);
  return card;
}

async function pending(kind: string): Promise<Approval> {
  return eventually(async () => {
    const body = await json<{ approvals: Approval[] }>(
      await fetch(`${rt.urls.app}/console/api/approvals?status=pending`),
    );
    const found = body.approvals.find((a) => a.kind === kind);
    return found && cardsOf(found.approvalId).length === 2 && found;
  }, `the ${kind} cards in DingTalk`);
}

/** A click on a card, pushed over Stream; the answer DingTalk gets back (`response`). */
async function click(card: DingTalkFakeCard, user: keyof typeof STAFF, params: Record<string, unknown>) {
  const ack = await fake.push(CARD, cardCallback(fake, card.outTrackId, STAFF[user], params));
  expect(ack.code).toBe(200);
  return (JSON.parse(ack.data) as { response: Record<string, unknown> }).response;
}

describe('AWS Support cases from DingTalk (the seed flow)', () => {
  it('looks up a code, requests a multi-line case, is approved on the DingTalk card, creates it once, posts the id back and resolves it', async () => {
    const lookup = await say('alice', 'service code lambda');
    expect(lookup).toContain('aws-lambda');
    expect(lookup).toContain('"via":"session"');

    const request = [
      'support case',
      'subject: Lambda throttling in prod',
      'body: orders-api is throttled since 09:00 UTC.',
      'severity: high',
      'service: aws-lambda',
      'category: performance',
    ].join('\n');
    expect(await say('alice', request, 'msg-case-1')).toContain('sent for approval');
    const approval = await pending('support-case');
    const bobs = cardFor(approval.approvalId, 'bob');
    expect(bobs.callbackType).toBe('STREAM');
    expect(bobs.params).toMatchObject({ status: 'pending', pending: 'true' });
    expect(bobs.params.fields).toContain('Lambda throttling in prod');
    expect(JSON.stringify([...fake.cards.values()])).not.toMatch(/taskToken/i);

    // The same delivery again (same msgId): one execution, no second answer.
    const again = await say('alice', request, 'msg-case-1');
    expect(again).toBe('[]');

    // A click over HTTP is refused: DingTalk does not document how HTTP card callbacks are signed.
    const http = await postDingTalk(
      webhook(),
      cardCallback(fake, bobs.outTrackId, STAFF.bob, { action: 'approve' }),
      fake.appSecret,
    );
    expect(http.status).toBe(401);
    expect(JSON.stringify(await http.json())).toContain('card callbacks over HTTP are refused');

    const answer = await click(bobs, 'bob', { action: 'approve' });
    expect(JSON.stringify(answer)).toContain('Approved by Bob');
    expect(await finalStatus(rt, approval.executionArn)).toBe('SUCCEEDED');
    expect(rt.support.calls('CreateCase')).toHaveLength(1);
    expect(rt.support.calls('CreateCase')[0]?.body).toMatchObject({
      subject: 'Lambda throttling in prod',
      communicationBody: 'orders-api is throttled since 09:00 UTC.',
      severityCode: 'high',
      serviceCode: 'aws-lambda',
      categoryCode: 'performance',
    });
    // Every copy shows the outcome, buttons gone.
    await eventually(
      async () =>
        cardsOf(approval.approvalId).every(
          (c) => c.params.status === 'approved' && c.params.pending === 'false',
        ),
      'both cards updated in place',
    );

    const opened = [...rt.support.cases.values()][0];
    if (!opened) throw new Error('no case in the fake');
    await eventually(async () => toUser('alice').includes(opened.caseId), 'the case id posted to Alice');
    expect(await say('alice', 'my cases')).toContain(opened.displayId);
    expect(await say('alice', `resolve case ${opened.displayId}`)).toContain('Resolved');
    expect(opened.status).toBe('resolved');
  });
});

describe('merge requests approved in DingTalk', () => {
  it('approves on one card over Stream, updates the other copy, refuses the author on their own card only', async () => {
    const { hook } = openedMergeRequest(rt.gitlab, 41);
    const { executionArn } = await json<{ executionArn: string }>(await postGitLab(rt.urls.app, hook));
    const approval = await pending('merge-request');
    expect(approval.executionArn).toBe(executionArn);

    // Alice is the author and not an approver: refused, answered on her own view of the card.
    const refused = await click(cardFor(approval.approvalId, 'bob'), 'alice', { action: 'approve' });
    expect(refused).toMatchObject({ userPrivateData: { cardParamMap: { notice: expect.any(String) } } });
    const after = await json<{ approval: Approval }>(
      await fetch(`${rt.urls.app}/console/api/approvals/${approval.approvalId}`),
    );
    expect(after.approval.votes).toEqual([]);

    await click(cardFor(approval.approvalId, 'carol'), 'carol', { action: 'approve' });
    expect(await finalStatus(rt, executionArn)).toBe('SUCCEEDED');
    expect(rt.gitlab.mergeRequest(7, 41)?.state).toBe('merged');
    await eventually(async () => {
      const bobs = cardFor(approval.approvalId, 'bob');
      return bobs.params.status === 'approved' && (bobs.params.statusText ?? '').includes('Carol');
    }, "Bob's copy updated in place");

    // The same push again (DingTalk re-pushes an unacknowledged message): one effect.
    const merges = () =>
      rt.gitlab.requests.filter((r) => r.method === 'PUT' && r.path.endsWith('/merge_requests/41/merge'))
        .length;
    expect(merges()).toBe(1);
  });

  it('rejects with the reason typed on the card; the author is told why', async () => {
    const { hook } = openedMergeRequest(rt.gitlab, 42);
    const { executionArn } = await json<{ executionArn: string }>(await postGitLab(rt.urls.app, hook));
    const approval = await pending('merge-request');
    await click(cardFor(approval.approvalId, 'bob'), 'bob', {
      action: 'reject',
      reason: 'Not during the freeze',
    });
    // A rejected merge request is closed with the reason, and the run ends FAILED with it.
    expect(await finalOutcome(rt, executionArn)).toEqual({
      status: 'FAILED',
      error: 'Signoff.Rejected',
      cause: 'Not during the freeze',
    });
    expect(rt.gitlab.mergeRequest(7, 42)?.state).toBe('closed');
    await eventually(
      async () =>
        cardsOf(approval.approvalId).every(
          (c) =>
            c.params.status === 'rejected' && (c.params.statusText ?? '').includes('Not during the freeze'),
        ),
      'both cards show the reason',
    );
    await eventually(async () => toUser('alice').includes('Not during the freeze'), 'Alice told the reason');
  });

  it('never takes a typed "approve" as a decision', async () => {
    const { hook } = openedMergeRequest(rt.gitlab, 43);
    await postGitLab(rt.urls.app, hook);
    const approval = await pending('merge-request');
    await say('bob', `approve ${approval.approvalId}`);
    await say('bob', '同意');
    const now = await json<{ approval: Approval }>(
      await fetch(`${rt.urls.app}/console/api/approvals/${approval.approvalId}`),
    );
    expect(now.approval.status).toBe('pending');
    expect(now.approval.votes).toEqual([]);
  });
});

describe('robot deliveries over HTTP', () => {
  it('refuses a forged, stale or missing sign with a 401 and answers nothing', async () => {
    const before = fake.messages.length;
    const body = robotMessage(fake, 'help', { senderStaffId: STAFF.bob });
    const forged = await postDingTalk(webhook(), body, 'not-the-secret');
    expect(forged.status).toBe(401);
    expect(await forged.json()).toMatchObject({ error: { code: expect.any(String) } });
    const stale = await postDingTalk(webhook(), body, fake.appSecret, { timestamp: Date.now() - 3_700_000 });
    expect(stale.status).toBe(401);
    const unsigned = await postDingTalk(webhook(), body, fake.appSecret, { sign: null });
    expect(unsigned.status).toBe(401);
    expect(fake.messages.length).toBe(before);
  });

  it('refuses a message for another robot, and garbage, with a 4xx', async () => {
    const other = robotMessage(fake, 'help', { senderStaffId: STAFF.bob, robotCode: 'dingother' });
    expect((await postDingTalk(webhook(), other, fake.appSecret)).status).toBe(403);
    expect((await postDingTalk(webhook(), '{"msgId":', fake.appSecret)).status).toBe(400);
    expect((await postDingTalk(webhook(), { hello: 'world' }, fake.appSecret)).status).toBe(400);
  });

  it('answers in a group only when the robot is @-mentioned, in the group', async () => {
    const group = 'cidPlatformTeam00000000==';
    const before = fake.messages.length;
    const quiet = robotMessage(fake, 'help', { senderStaffId: STAFF.bob, group, mentioned: false });
    expect((await postDingTalk(webhook(), quiet, fake.appSecret)).status).toBe(200);
    expect(fake.messages.length).toBe(before);
    const asked = robotMessage(fake, 'help', { senderStaffId: STAFF.bob, group });
    expect((await postDingTalk(webhook(), asked, fake.appSecret)).status).toBe(200);
    expect(JSON.stringify(fake.messages.slice(before))).toContain('Signoff commands');
  });

  it('answers through the OpenAPI when the session webhook has expired', async () => {
    const before = fake.messages.length;
    const body = robotMessage(fake, 'help', {
      senderStaffId: STAFF.carol,
      sessionWebhookExpiredTime: Date.now() - 1000,
    });
    expect((await postDingTalk(webhook(), body, fake.appSecret)).status).toBe(200);
    const sent = fake.messages.slice(before);
    expect(sent).toHaveLength(1);
    expect(sent[0]).toMatchObject({ via: 'batchSend', to: STAFF.carol, msgKey: 'sampleMarkdown' });
  });

  it('acts once on a tap-to-send link tapped twice: two messages, one offer key, one deploy', async () => {
    const listed = await say('bob', 'deploy');
    const link = /dtmd:\/\/dingtalkclient\/sendMessage\?content=(deploy%20test%20%23[\w-]+)/.exec(
      listed,
    )?.[1];
    if (!link) throw new Error(`no "deploy test" link in ${listed.slice(0, 300)}`);
    const sent = decodeURIComponent(link);
    expect(sent).toMatch(/^deploy test #[\w-]{8,32}$/);
    const deploys = async () =>
      (
        await json<{ executions: Array<{ executionArn: string }> }>(
          await fetch(`${rt.urls.app}/console/api/executions?kind=deploy`),
        )
      ).executions.length;
    const before = await deploys();
    // Two taps: DingTalk sends the text twice, each a message of its own (and its own signed
    // timestamp: two deliveries in one millisecond would carry the same sign, refused as a replay).
    const answers = [await say('bob', sent, 'msgTapOnce'), await say('bob', sent, 'msgTapTwice')];
    await eventually(async () => (await deploys()) === before + 1 || undefined, 'the one deploy');
    expect(answers.join('\n')).toContain('Already requested with this button');
    // Typed by hand, the same command is a new request.
    await say('bob', 'deploy test');
    await eventually(async () => (await deploys()) === before + 2 || undefined, 'the typed deploy');
  });

  it('answers commands in every language', async () => {
    for (const [command, expected] of [
      ['help', 'Signoff commands'],
      ['帮助', 'Signoff 指令'],
      ['幫助', 'Signoff 指令'],
      ['ヘルプ', 'Signoff コマンド'],
    ] as const) {
      expect(await say('bob', command)).toContain(expected);
    }
  });

  it('answers a robot message pushed over Stream like one posted over HTTP', async () => {
    const before = fake.messages.length;
    const ack = await fake.push(ROBOT, robotMessage(fake, 'help', { senderStaffId: STAFF.bob }));
    expect(ack.code).toBe(200);
    expect(JSON.stringify(fake.messages.slice(before))).toContain('Signoff commands');
  });
});

describe('releases from DingTalk', () => {
  it('lists the releases as tap-to-send links in Japanese, asks on a typed release, runs the pipeline when approved on the card, and shows it passed on every copy', async () => {
    // 「リリース」 with no name: the configured releases, each a link that sends 「リリース web」
    // in the language it was asked in.
    const listed = await say('alice', 'リリース');
    expect(listed).toContain(encodeURIComponent('リリース web'));

    // The tap sends the command as Alice's own message; it asks for approval.
    rt.gitlab.pipelines.planNext('hold');
    await say('alice', 'リリース web');
    const approval = await pending('release');
    expect(approval.requester).toMatchObject({ platform: 'dingtalk', user: 'alice' });
    expect(cardFor(approval.approvalId, 'bob').params.fields ?? '').toContain('demo/web');

    // Carol approves on her card (Stream): the pipeline runs the approved commit.
    await click(cardFor(approval.approvalId, 'carol'), 'carol', { action: 'approve' });
    const pipelineId = await eventually(async () => {
      const creates = rt.gitlab.requests.filter((r) => r.method === 'POST' && r.path.endsWith('/pipeline'));
      return creates.length === 1 &&
        (cardFor(approval.approvalId, 'bob').params.fields ?? '').includes('running')
        ? [...rt.gitlab.pipelines.pipelines.keys()].at(-1)
        : undefined;
    }, 'the running pipeline on the card');
    await rt.gitlab.pipelines.finishPipeline(pipelineId as number, 'success');
    expect(await finalOutcome(rt, approval.executionArn)).toEqual({ status: 'SUCCEEDED' });
    for (const user of ['bob', 'carol'] as const) {
      await eventually(
        async () => (cardFor(approval.approvalId, user).params.fields ?? '').includes('passed'),
        `${user}'s copy showing the pipeline passed`,
      );
    }
    // Alice, who asked (in Japanese), is told how it ended, in Japanese.
    await eventually(
      async () => toUser('alice').includes(`パイプライン #${pipelineId} 成功`) || undefined,
      'the notice to Alice',
    );
  });
});
