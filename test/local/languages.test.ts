import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Approval } from '../../core/approvals/types.ts';
import { DEFAULT_CONFIG_INPUT, parseConfig } from '../../core/config.ts';
import {
  cardActionEvent,
  type LarkFake,
  type LarkFakeMessage,
  messageEvent,
  signedLarkRequest,
  startLarkFake,
} from '../fakes/lark.ts';
import {
  type LineFake,
  type LineSentMessage,
  lineId,
  linePostbackEvent,
  lineWebhook,
  signLineBody,
  startLineFake,
} from '../fakes/line.ts';
import {
  blockActions,
  interactionBody,
  type SlackFake,
  slackHeaders,
  slackId,
  startSlackFake,
  viewSubmission,
} from '../fakes/slack.ts';
import {
  consoleCommand,
  decideAs,
  eventually,
  finalStatus,
  json,
  openedMergeRequest,
  pendingFor,
  postGitLab,
  startTestRuntime,
  type TestRuntime,
} from '../support/runtime.ts';

const ENCRYPT_KEY = 'test-encrypt-key';
const VERIFICATION_TOKEN = 'test-verification-token';
const OPEN_ID = {
  alice: 'ou_alice000000000000000000000000000',
  bob: 'ou_bob00000000000000000000000000000',
  carol: 'ou_carol0000000000000000000000000000',
  dave: 'ou_dave00000000000000000000000000000',
  erin: 'ou_erin00000000000000000000000000000',
};
const LINE_ID = {
  alice: lineId('U'),
  bob: lineId('U'),
  carol: lineId('U'),
  dave: lineId('U'),
  erin: lineId('U'),
};

const SLACK_ID = { bob: slackId('U'), carol: slackId('U') };

let lark: LarkFake;
let line: LineFake;
let slack: SlackFake;
let rt: TestRuntime;

beforeAll(async () => {
  [lark, line, slack] = await Promise.all([startLarkFake(), startLineFake(), startSlackFake()]);
  const config = structuredClone(DEFAULT_CONFIG_INPUT) as {
    users: Record<string, Record<string, string>>;
  };
  // Bob reads Japanese (configured); Dave too, and is no approver; Erin reads Traditional Chinese
  // and is no approver; Alice and Carol have no language.
  config.users.dave = { name: 'Dave' };
  config.users.erin = { name: 'Erin', language: 'zh-Hant' };
  (config.users.bob as Record<string, string>).language = 'ja';
  (config.users.dave as Record<string, string>).language = 'ja';
  for (const user of Object.keys(OPEN_ID) as Array<keyof typeof OPEN_ID>) {
    Object.assign(config.users[user] as object, { lark: OPEN_ID[user], line: LINE_ID[user] });
  }
  for (const [user, id] of Object.entries(SLACK_ID))
    Object.assign(config.users[user] as object, { slack: id });
  rt = await startTestRuntime(parseConfig(config), undefined, {
    LARK_APP_ID: lark.appId,
    LARK_APP_SECRET: lark.appSecret,
    LARK_VERIFICATION_TOKEN: VERIFICATION_TOKEN,
    LARK_ENCRYPT_KEY: ENCRYPT_KEY,
    LARK_DOMAIN: lark.url,
    LINE_CHANNEL_SECRET: line.channelSecret,
    LINE_CHANNEL_ACCESS_TOKEN: line.channelAccessToken,
    LINE_API_BASE_URL: line.url,
    SLACK_SIGNING_SECRET: slack.signingSecret,
    SLACK_BOT_TOKEN: slack.botToken,
    SLACK_API_URL: slack.apiUrl,
  });
});
afterAll(async () => {
  await rt?.stop();
  await Promise.all([lark?.close(), line?.close(), slack?.close()]);
});

async function postLark(body: object): Promise<Response> {
  const request = signedLarkRequest(body, { encryptKey: ENCRYPT_KEY });
  return fetch(`${rt.urls.app}/webhooks/lark`, {
    method: 'POST',
    headers: request.headers,
    body: request.body,
  });
}

function larkTo(openId: string): LarkFakeMessage[] {
  return [...lark.messages.values()].filter((m) => m.receiveId === openId);
}

function larkText(messages: LarkFakeMessage[]): string {
  return JSON.stringify(messages.map((m) => m.patches.at(-1) ?? m.content));
}

function lineTo(userId: string): LineSentMessage[] {
  return line.messages.filter((m) => m.to === userId);
}

function lineText(messages: LineSentMessage[]): string {
  return JSON.stringify(messages.map((m) => m.message));
}

/** The pending approval of an execution, once both approvers have its card on both platforms. */
async function cards(executionArn: string): Promise<{ approval: Approval; bob: LarkFakeMessage }> {
  return eventually(async () => {
    const body = await json<{ approvals: Approval[] }>(
      await fetch(`${rt.urls.app}/console/api/approvals?status=pending`),
    );
    const approval = body.approvals.find((a) => a.executionArn === executionArn);
    if (!approval) return undefined;
    const has = (text: string) => text.includes(approval.approvalId);
    const bob = larkTo(OPEN_ID.bob).find((m) => has(JSON.stringify(m.content)));
    const sent =
      has(larkText(larkTo(OPEN_ID.carol))) &&
      has(lineText(lineTo(LINE_ID.bob))) &&
      has(lineText(lineTo(LINE_ID.carol)));
    return bob && sent ? { approval, bob } : undefined;
  }, 'cards for both approvers on Lark and LINE');
}

describe('every word in the reader’s language', () => {
  it('sends each approver a card in their language, refuses in the clicker’s, and tells the requester in the language of their last command', async () => {
    // Alice writes a command in Simplified Chinese: her notices follow it from now on.
    const help = messageEvent({
      token: VERIFICATION_TOKEN,
      eventId: 'evt-lang-help',
      text: '帮助',
      openId: OPEN_ID.alice,
      chatType: 'p2p',
    });
    expect((await postLark(help)).status).toBe(200);
    await eventually(async () => larkText(larkTo(OPEN_ID.alice)).includes('Signoff 指令'), 'the help reply');

    const { hook } = openedMergeRequest(rt.gitlab, 61);
    const { executionArn } = await json<{ executionArn: string }>(await postGitLab(rt.urls.app, hook));
    const { approval, bob } = await cards(executionArn);

    // Bob (users.bob.language = ja): title, labels, state and buttons in Japanese, on Lark and LINE.
    const bobsLark = JSON.stringify(bob.content);
    for (const word of [
      'マージ !61',
      'プロジェクト',
      '申請者',
      '承認待ち: 0 / 1',
      '"承認"',
      '"却下"',
      '理由（任意）',
    ])
      expect(bobsLark).toContain(word);
    expect(bobsLark).not.toContain('Approve');
    const bobsLine = lineText(lineTo(LINE_ID.bob));
    expect(bobsLine).toContain('"label":"承認"');
    expect(bobsLine).toContain('"label":"却下"');
    expect(bobsLine).toContain('承認が必要です: マージ !61');
    // Carol has no language of her own and wrote no command: the configured default, English.
    const carols = larkText(larkTo(OPEN_ID.carol)) + lineText(lineTo(LINE_ID.carol));
    for (const word of ['Merge !61', 'Project', 'Requested by', '"Approve"', '"Reject"'])
      expect(carols).toContain(word);
    expect(carols).not.toContain('承認');

    // The console follows the browser, not the configuration: a whole page in Japanese, the card too.
    const page = await (
      await fetch(`${rt.urls.app}/console/approvals/${approval.approvalId}?lang=ja`)
    ).text();
    for (const word of ['マージ !61', 'プロジェクト', '申請者', '承認待ち']) expect(page).toContain(word);
    for (const word of ['Project', 'Requested by', '>pending<', 'Approve']) expect(page).not.toContain(word);

    // The requester hears the request went out in the language of her last command.
    await eventually(
      async () => larkText(larkTo(OPEN_ID.alice)).includes('已发送给 Bob, Carol 审批'),
      'Alice told in Simplified Chinese',
    );

    // Dave (Japanese, not an approver) is refused in Japanese; nothing changes.
    const refused = await postLark(
      cardActionEvent({
        token: VERIFICATION_TOKEN,
        eventId: 'evt-lang-dave',
        openId: OPEN_ID.dave,
        value: { approvalId: approval.approvalId, decision: 'approve' },
      }),
    );
    expect(JSON.stringify(await refused.json())).toContain(
      'あなたはplatform/app マージリクエストの承認者ではありません',
    );

    // Bob approves: his answered card is Japanese; Carol's copies are updated in English.
    const approved = await postLark(
      cardActionEvent({
        token: VERIFICATION_TOKEN,
        eventId: 'evt-lang-bob',
        openId: OPEN_ID.bob,
        value: { approvalId: approval.approvalId, decision: 'approve' },
        messageId: bob.messageId,
      }),
    );
    const answer = JSON.stringify(await approved.json());
    expect(answer).toContain('Bob が承認しました');
    expect(answer).not.toContain('Approved by');
    expect(await finalStatus(rt, executionArn)).toBe('SUCCEEDED');
    await eventually(
      async () => larkText(larkTo(OPEN_ID.carol)).includes('Approved by Bob'),
      "Carol's Lark card patched in English",
    );
    await eventually(
      async () => lineText(lineTo(LINE_ID.carol)).includes('Approved by Bob'),
      "Carol's LINE update in English",
    );
    await eventually(
      async () => lineText(lineTo(LINE_ID.bob)).includes('Bob が承認しました'),
      "Bob's LINE update in Japanese",
    );
    expect(lineText(lineTo(LINE_ID.bob))).not.toContain('Approved by');

    // How it ended, to the requester: Simplified Chinese again, on both platforms.
    await eventually(
      async () =>
        larkText(larkTo(OPEN_ID.alice)).includes('已由 Bob 批准并合并') &&
        lineText(lineTo(LINE_ID.alice)).includes('已由 Bob 批准并合并'),
      'Alice told of the merge in Simplified Chinese',
    );
  });

  it('tells requesters how their deploy, release and support case ended in their language, buttons and pipeline status included', async () => {
    const told = (user: 'dave' | 'erin') => larkText(larkTo(OPEN_ID[user])) + lineText(lineTo(LINE_ID[user]));
    const executionOf = (reply: { links?: Array<{ url: string }> }) =>
      decodeURIComponent(
        reply.links
          ?.find((l) => l.url.includes('/console/executions/'))
          ?.url.split('/console/executions/')[1] ?? '',
      );

    // Dave (ja) deploys to test; Carol approves in English. The reply, the result and its Roll
    // back button are Japanese, on Lark and on LINE.
    const deploy = await consoleCommand(rt, 'dave', 'デプロイ test', 'evt-lang-deploy');
    expect(deploy.title).toContain('デプロイを依頼しました');
    expect(deploy.text).toContain('（1 人の承認が必要）');
    const deployArn = executionOf(deploy);
    const deployId = deployArn.split(':').pop() as string;
    const asked = await pendingFor(rt, deployArn);
    expect((await decideAs(rt, asked.approvalId, 'carol', 'approve')).status).toBe(200);
    expect(await finalStatus(rt, deployArn)).toBe('SUCCEEDED');
    const deployed = `デプロイ ${deployId}（dev → test）は Carol が承認し、完了しました: demo-orders`;
    await eventually(
      async () =>
        larkText(larkTo(OPEN_ID.dave)).includes(deployed) &&
        lineText(lineTo(LINE_ID.dave)).includes(deployed),
      'Dave told of the deploy in Japanese on Lark and LINE',
    );
    expect(larkText(larkTo(OPEN_ID.dave))).toContain('"content":"ロールバック"');
    expect(lineText(lineTo(LINE_ID.dave))).toContain('"label":"ロールバック"');
    expect(told('dave')).not.toMatch(/Roll back|was approved by|Deploy requested/);

    // Dave releases web: the pipeline's status on Bob's Japanese card, and the outcome to Dave.
    rt.gitlab.pipelines.planNext('hold');
    const release = await consoleCommand(rt, 'dave', 'リリース web', 'evt-lang-release');
    expect(release.title).toBe('リリースを依頼しました：web（demo/web@main）');
    const releaseArn = executionOf(release);
    const approval = await pendingFor(rt, releaseArn);
    expect((await decideAs(rt, approval.approvalId, 'carol', 'approve')).status).toBe(200);
    const fieldsOf = async () => {
      const body = await json<{ approval: Approval }>(
        await fetch(`${rt.urls.app}/console/api/approvals/${approval.approvalId}`),
      );
      return { en: body.approval.card.fields, ja: body.approval.translations?.ja?.fields ?? [] };
    };
    const pipelineId = await eventually(async () => {
      const { ja } = await fieldsOf();
      return (
        ja.find((f) => f.label === 'パイプライン')?.value.endsWith('実行中') &&
        [...rt.gitlab.pipelines.pipelines.keys()].at(-1)
      );
    }, 'the Japanese card showing the pipeline running');
    await rt.gitlab.pipelines.finishPipeline(pipelineId as number, 'success');
    expect(await finalStatus(rt, releaseArn)).toBe('SUCCEEDED');
    const { en, ja } = await fieldsOf();
    expect(ja.find((f) => f.label === 'パイプライン')?.value).toMatch(new RegExp(`^#${pipelineId} 成功`));
    expect(en.find((f) => f.label === 'Pipeline')?.value).toMatch(new RegExp(`^#${pipelineId} passed`));
    await eventually(
      async () => larkText(larkTo(OPEN_ID.bob)).includes(`パイプライン**: &#35;${pipelineId} 成功`),
      "Bob's Lark card updated in Japanese",
    );
    const passed = new RegExp(`リリース web（demo/web@main [0-9a-f]+）: パイプライン #${pipelineId} 成功`);
    await eventually(
      async () => passed.test(larkText(larkTo(OPEN_ID.dave))) && passed.test(lineText(lineTo(LINE_ID.dave))),
      'Dave told of the release in Japanese',
    );
    expect(told('dave')).not.toMatch(/passed|Release web|"Pipeline"/);

    // Erin (zh-Hant) asks for an AWS Support case; Carol approves: the reply, the notice and its
    // case link in Traditional Chinese.
    const asking = [
      '提工單',
      'subject: Lambda 節流',
      'body: orders-api 被節流了。',
      'severity: high',
      'service: aws-lambda',
      'category: performance',
    ].join('\n');
    // A draft with problems is answered with each of them in her language.
    const draft = await consoleCommand(rt, 'erin', '提工單\nsubject: Lambda 節流\nservice: aws-lamda');
    expect(draft.title).toBe('工單請求沒有送出。請修正以下問題後重新傳送：');
    expect(draft.text).toContain('body：缺少（請加一行「body: …」）');
    expect(draft.text).toContain('service：不認識服務代碼「aws-lamda」；最接近的：aws-lambda');
    expect(draft.text).toContain('格式：');
    const sent = await consoleCommand(rt, 'erin', asking, 'evt-lang-case');
    expect(sent.text).toContain('你的 AWS Support 工單請求已送交審批，審批人：Bob, Carol。');
    const caseArn = executionOf(sent);
    const supportApproval = await pendingFor(rt, caseArn);
    expect((await decideAs(rt, supportApproval.approvalId, 'carol', 'approve')).status).toBe(200);
    expect(await finalStatus(rt, caseArn)).toBe('SUCCEEDED');
    const opened = [...rt.support.cases.values()].at(-1);
    if (!opened) throw new Error('no case in the AWS Support stand-in');
    await eventually(
      async () =>
        larkText(larkTo(OPEN_ID.erin)).includes(
          'AWS Support 工單「Lambda 節流」已由 Carol 核准並開立：工單',
        ) && lineText(lineTo(LINE_ID.erin)).includes('已由 Carol 核准並開立'),
      'Erin told of the case in Traditional Chinese',
    );
    expect(larkText(larkTo(OPEN_ID.erin))).toContain(`工單 ${opened.displayId}`);
    expect(told('erin')).not.toMatch(/was approved|opened:|"Case /);
  });

  it('asks a Slack clicker for the reject reason in their language, and answers the form in it', async () => {
    const postSlack = (payload: object) => {
      const body = interactionBody(payload);
      return fetch(`${rt.urls.app}/webhooks/slack`, {
        method: 'POST',
        headers: slackHeaders(body, 'application/x-www-form-urlencoded', slack.signingSecret),
        body,
      });
    };
    const { hook } = openedMergeRequest(rt.gitlab, 62);
    const { executionArn } = await json<{ executionArn: string }>(await postGitLab(rt.urls.app, hook));
    const approval = await pendingFor(rt, executionArn);
    const cardOf = (user: keyof typeof SLACK_ID) =>
      eventually(
        async () =>
          slack.messages.find(
            (m) =>
              m.channel === slack.dmOf(SLACK_ID[user]) &&
              JSON.stringify(m.blocks).includes(approval.approvalId),
          ),
        `${user}'s Slack card`,
      );
    const rejectClick = async (user: keyof typeof SLACK_ID) => {
      const card = await cardOf(user);
      const views = slack.views.length;
      const clicked = await postSlack(
        blockActions({
          user: SLACK_ID[user],
          actionId: 'signoff_reject',
          value: approval.approvalId,
          channel: card.channel,
          ts: card.ts,
          triggerId: slack.triggerId(),
          responseUrl: slack.responseUrl(),
          blocks: card.blocks,
        }),
      );
      expect(clicked.status).toBe(200);
      expect(slack.views).toHaveLength(views + 1);
      return slack.views.at(-1)?.view as Record<string, unknown>;
    };

    // Bob reads Japanese: the form asks in Japanese, and a blank reason is refused in Japanese.
    const bobs = await rejectClick('bob');
    const shown = JSON.stringify(bobs);
    for (const words of ['リクエストを却下', '却下する理由は？', '"キャンセル"', '理由は申請者に伝えられ'])
      expect(shown).toContain(words);
    expect(shown).not.toMatch(/Reject request|Why do you reject/);
    const blank = await postSlack(viewSubmission(SLACK_ID.bob, bobs, '  '));
    expect(await blank.json()).toEqual({
      response_action: 'errors',
      errors: { reason: 'このリクエストを却下する理由を書いてください。' },
    });
    // Carol has no language: hers is English.
    expect(JSON.stringify(await rejectClick('carol'))).toContain('Why do you reject it?');

    const rejected = await postSlack(viewSubmission(SLACK_ID.bob, bobs, '対象が違う'));
    expect(await rejected.json()).toEqual({ response_action: 'clear' });
    expect(await finalStatus(rt, executionArn)).toBe('FAILED');
  });

  it('names a delegate "for" their approver in the reader’s language, and words a delegate’s refusals in each clicker’s', async () => {
    const postLarkClick = async (user: keyof typeof OPEN_ID, approvalId: string, eventId: string) =>
      JSON.stringify(
        await (
          await postLark(
            cardActionEvent({
              token: VERIFICATION_TOKEN,
              eventId,
              openId: OPEN_ID[user],
              value: { approvalId, decision: 'approve' },
            }),
          )
        ).json(),
      );
    // Carol, away, hands her seat to Erin, writing in Simplified Chinese.
    const until = new Date(Date.now() + 7 * 86_400_000).toISOString().slice(0, 10);
    const set = await consoleCommand(rt, 'carol', `委托 erin 至 ${until}`);
    expect(set.text).toContain('Erin');
    try {
      // Dave (ja) asks for a prod deploy (two approvals): he is told it went to Erin for Carol, in Japanese.
      const asked = await consoleCommand(rt, 'dave', 'デプロイ prod', 'evt-lang-delegated');
      const deployArn = decodeURIComponent(
        asked.links
          ?.find((l) => l.url.includes('/console/executions/'))
          ?.url.split('/console/executions/')[1] ?? '',
      );
      const approval = await pendingFor(rt, deployArn);
      await eventually(
        async () =>
          larkText(larkTo(OPEN_ID.dave)).includes('を Bob, Erin（Carol の代理） に承認依頼しました'),
        'Dave told of the delegate in Japanese',
      );

      // Erin (zh-Hant) decides in Carol's place; her second click and Carol's own are refused,
      // each in the clicker's language.
      expect(await postLarkClick('erin', approval.approvalId, 'evt-lang-erin-1')).toContain(
        'Erin（代 Carol）',
      );
      expect(await postLarkClick('erin', approval.approvalId, 'evt-lang-erin-2')).toContain(
        '你已經代 Carol 對這個請求投過票了',
      );
      expect(await postLarkClick('carol', approval.approvalId, 'evt-lang-carol')).toContain(
        'Erin 已经代你投过票了',
      );
    } finally {
      await consoleCommand(rt, 'carol', '取消委托');
    }
  });

  it('answers a LINE tap it cannot act on in the tapper’s language', async () => {
    const replyToken = 'a0b1c2d3e4f5a6b7c8d9e0f1a2b3c4d5';
    const body = JSON.stringify(
      lineWebhook(
        [linePostbackEvent('action=buy&itemid=111', { userId: LINE_ID.bob, replyToken })],
        line.botUserId,
      ),
    );
    const posted = await fetch(`${rt.urls.app}/webhooks/line`, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        'x-line-signature': signLineBody(body, line.channelSecret),
      },
      body,
    });
    expect(posted.status).toBe(200);
    const answer = await eventually(
      async () => line.messages.find((m) => m.replyToken === replyToken),
      'the answer to Bob’s tap',
    );
    expect(JSON.stringify(answer.message)).toContain('このボタンは認識できません');
  });
});
