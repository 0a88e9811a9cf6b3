/**
 * Slack end to end over HTTP: the embedded runtime with the real @slack/web-api client against
 * test/fakes/slack.ts, requests signed as Slack signs them. A merge request approved and merged
 * from a Slack card; a reject with its reason through the modal; a prod deploy with two Slack
 * approvers in a channel; commands in four languages (slash command, mention, DM); a retried
 * event; stale and forged signatures.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Approval } from '../../core/approvals/types.ts';
import { DEFAULT_CONFIG_INPUT, parseConfig } from '../../core/config.ts';
import {
  blockActions,
  eventCallback,
  interactionBody,
  type SlackFake,
  type SlackPostedMessage,
  slackHeaders,
  slackId,
  slashCommandBody,
  startSlackFake,
  viewSubmission,
} from '../fakes/slack.ts';
import {
  eventually,
  finalOutcome,
  finalStatus,
  json,
  openedMergeRequest,
  postGitLab,
  startTestRuntime,
  type TestRuntime,
} from '../support/runtime.ts';

const SLACK_ID = { alice: slackId('U'), bob: slackId('U'), carol: slackId('U') };
const DEPLOY_CHANNEL = slackId('C');

let slack: SlackFake;
let rt: TestRuntime;

beforeAll(async () => {
  slack = await startSlackFake();
  const config = structuredClone(DEFAULT_CONFIG_INPUT) as {
    users: Record<string, Record<string, string>>;
    policies: Record<string, Record<string, unknown>>;
  };
  for (const [user, id] of Object.entries(SLACK_ID)) {
    const entry = config.users[user];
    if (entry) entry.slack = id;
  }
  config.policies.deploy = { ...config.policies.deploy, chats: { slack: [DEPLOY_CHANNEL] } };
  rt = await startTestRuntime(parseConfig(config), undefined, {
    SLACK_SIGNING_SECRET: slack.signingSecret,
    SLACK_BOT_TOKEN: slack.botToken,
    SLACK_API_URL: slack.apiUrl,
  });
});
afterAll(async () => {
  await rt?.stop();
  await slack?.close();
});

function post(
  body: string,
  type: 'application/json' | 'application/x-www-form-urlencoded',
  extra: Record<string, string> = {},
  timestamp?: number,
) {
  return fetch(`${rt.urls.app}/webhooks/slack`, {
    method: 'POST',
    headers: slackHeaders(body, type, slack.signingSecret, timestamp, extra),
    body,
  });
}

const postInteraction = (payload: object) =>
  post(interactionBody(payload), 'application/x-www-form-urlencoded');
const postEvent = (body: object, extra: Record<string, string> = {}) =>
  post(JSON.stringify(body), 'application/json', extra);

function cardsOf(approvalId: string): SlackPostedMessage[] {
  return slack.messages.filter((m) => JSON.stringify(m.blocks).includes(approvalId));
}

/** A message as it shows now (its last update, else as posted). */
function shown(m: SlackPostedMessage): string {
  return JSON.stringify(m.updates.at(-1) ?? { text: m.text, blocks: m.blocks });
}

function click(
  user: string,
  card: SlackPostedMessage,
  action: 'signoff_approve' | 'signoff_reject',
  approvalId: string,
) {
  return postInteraction(
    blockActions({
      user,
      actionId: action,
      value: approvalId,
      channel: card.channel,
      ts: card.ts,
      triggerId: slack.triggerId(),
      responseUrl: slack.responseUrl(),
      blocks: card.blocks,
    }),
  );
}

async function pendingWithCards(executionArn: string, copies: number): Promise<Approval> {
  return eventually(async () => {
    const body = await json<{ approvals: Approval[] }>(
      await fetch(`${rt.urls.app}/console/api/approvals?status=pending`),
    );
    const approval = body.approvals.find((a) => a.executionArn === executionArn);
    return approval && cardsOf(approval.approvalId).length === copies && approval;
  }, 'Slack cards');
}

describe('merge requests decided from Slack', () => {
  it('posts a card to each approver’s DM, approves from a click, merges once and updates every copy', async () => {
    const { hook } = openedMergeRequest(rt.gitlab, 41);
    const { executionArn } = await json<{ executionArn: string }>(await postGitLab(rt.urls.app, hook));
    const approval = await pendingWithCards(executionArn, 2);
    const cards = cardsOf(approval.approvalId);
    expect(cards.map((c) => c.channel).sort()).toEqual(
      [slack.dmOf(SLACK_ID.bob), slack.dmOf(SLACK_ID.carol)].sort(),
    );
    expect(JSON.stringify(slack.messages)).not.toMatch(/taskToken|AAAA[A-Za-z0-9+/]{200}/);
    expect(shown(cards[0] as SlackPostedMessage)).toContain('0 of 1 approved');

    const bobsCard = cards.find((c) => c.channel === slack.dmOf(SLACK_ID.bob)) as SlackPostedMessage;
    const response = await click(SLACK_ID.bob, bobsCard, 'signoff_approve', approval.approvalId);
    expect(response.status).toBe(200);
    expect(await finalStatus(rt, executionArn)).toBe('SUCCEEDED');
    expect(rt.gitlab.mergeRequest(7, 41)?.state).toBe('merged');
    // Both copies, the clicked one included, show the outcome and lose their buttons.
    for (const card of cardsOf(approval.approvalId)) {
      expect(shown(card)).toContain('Approved by Bob');
      expect(shown(card)).not.toContain('signoff_approve');
    }
    await eventually(
      async () =>
        slack.messages.some((m) => m.channel === slack.dmOf(SLACK_ID.alice) && m.text.includes('merged')),
      'the author told in Slack',
    );

    // A late click by Carol is refused to her alone (ephemeral), and changes nothing.
    const carolsCard = cardsOf(approval.approvalId).find(
      (c) => c.channel === slack.dmOf(SLACK_ID.carol),
    ) as SlackPostedMessage;
    const updates = carolsCard.updates.length;
    expect((await click(SLACK_ID.carol, carolsCard, 'signoff_approve', approval.approvalId)).status).toBe(
      200,
    );
    expect(slack.responses.at(-1)?.body).toMatchObject({
      response_type: 'ephemeral',
      text: expect.stringMatching(/already approved by Bob/i),
    });
    const merges = rt.gitlab.requests.filter(
      (r) => r.method === 'PUT' && r.path.endsWith('/merge_requests/41/merge'),
    );
    expect(merges).toHaveLength(1);
    expect(carolsCard.updates.length).toBeGreaterThanOrEqual(updates);
  });

  it('rejects with a reason typed in the modal; the MR is closed with it and every copy shows it', async () => {
    const { hook } = openedMergeRequest(rt.gitlab, 42);
    const { executionArn } = await json<{ executionArn: string }>(await postGitLab(rt.urls.app, hook));
    const approval = await pendingWithCards(executionArn, 2);
    const carolsCard = cardsOf(approval.approvalId).find(
      (c) => c.channel === slack.dmOf(SLACK_ID.carol),
    ) as SlackPostedMessage;

    const views = slack.views.length;
    expect((await click(SLACK_ID.carol, carolsCard, 'signoff_reject', approval.approvalId)).status).toBe(200);
    // The click decides nothing: it opens the reason modal (views.open with its trigger id).
    expect(slack.views).toHaveLength(views + 1);
    const modal = slack.views.at(-1)?.view as Record<string, unknown>;
    expect(JSON.parse(String(modal.private_metadata))).toMatchObject({ approvalId: approval.approvalId });
    expect(JSON.stringify(modal)).toContain('Change 42');
    expect(
      (
        await json<{ approval: Approval }>(
          await fetch(`${rt.urls.app}/console/api/approvals/${approval.approvalId}`),
        )
      ).approval.status,
    ).toBe('pending');

    const submitted = await postInteraction(viewSubmission(SLACK_ID.carol, modal, 'Breaks the login page'));
    expect(submitted.status).toBe(200);
    expect(await submitted.json()).toEqual({ response_action: 'clear' });
    // The merge-request workflow closes the MR, then ends FAILED with Signoff.Rejected (docs/merge-request.md).
    expect(await finalOutcome(rt, executionArn)).toEqual({
      status: 'FAILED',
      error: 'Signoff.Rejected',
      cause: 'Breaks the login page',
    });
    expect(rt.gitlab.mergeRequest(7, 42)?.state).toBe('closed');
    const notes = rt.gitlab.requests.filter(
      (r) => r.method === 'POST' && r.path.endsWith('/merge_requests/42/notes'),
    );
    expect(JSON.stringify(notes)).toContain('Breaks the login page');
    for (const card of cardsOf(approval.approvalId))
      expect(shown(card)).toContain('Rejected by Carol: Breaks the login page');
  });

  it('keeps the modal open with the refusal when the submitter may not decide', async () => {
    const { hook } = openedMergeRequest(rt.gitlab, 43);
    const { executionArn } = await json<{ executionArn: string }>(await postGitLab(rt.urls.app, hook));
    const approval = await pendingWithCards(executionArn, 2);
    const bobsCard = cardsOf(approval.approvalId).find(
      (c) => c.channel === slack.dmOf(SLACK_ID.bob),
    ) as SlackPostedMessage;
    await click(SLACK_ID.bob, bobsCard, 'signoff_reject', approval.approvalId);
    const modal = slack.views.at(-1)?.view as Record<string, unknown>;
    // Alice wrote the change: four-eyes refuses her, in the modal, under the reason.
    const answer = await postInteraction(viewSubmission(SLACK_ID.alice, modal, 'not needed'));
    expect(answer.status).toBe(200);
    expect(await answer.json()).toMatchObject({
      response_action: 'errors',
      errors: { reason: expect.any(String) },
    });
    const after = await json<{ approval: Approval }>(
      await fetch(`${rt.urls.app}/console/api/approvals/${approval.approvalId}`),
    );
    expect(after.approval).toMatchObject({ status: 'pending', votes: [] });
  });

  it('refuses stale and forged signatures with a 4xx JSON error and changes nothing', async () => {
    const { hook } = openedMergeRequest(rt.gitlab, 44);
    const { executionArn } = await json<{ executionArn: string }>(await postGitLab(rt.urls.app, hook));
    const approval = await pendingWithCards(executionArn, 2);
    const card = cardsOf(approval.approvalId)[0] as SlackPostedMessage;
    const body = interactionBody(
      blockActions({
        user: SLACK_ID.bob,
        actionId: 'signoff_approve',
        value: approval.approvalId,
        channel: card.channel,
        ts: card.ts,
        triggerId: slack.triggerId(),
        responseUrl: slack.responseUrl(),
      }),
    );
    const stale = await post(
      body,
      'application/x-www-form-urlencoded',
      {},
      Math.floor(Date.now() / 1000) - 301,
    );
    expect(stale.status).toBe(401);
    expect(await stale.json()).toMatchObject({ error: { message: expect.stringMatching(/stale|replayed/) } });
    const future = await post(
      body,
      'application/x-www-form-urlencoded',
      {},
      Math.floor(Date.now() / 1000) + 301,
    );
    expect(future.status).toBe(401);
    const forged = await fetch(`${rt.urls.app}/webhooks/slack`, {
      method: 'POST',
      headers: { ...slackHeaders(body, 'application/x-www-form-urlencoded', 'not-the-secret') },
      body,
    });
    expect(forged.status).toBe(401);
    const ssl = await fetch(`${rt.urls.app}/webhooks/slack`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: 'ssl_check=1&token=whatever',
    });
    expect(ssl.status).toBe(200);
    const after = await json<{ approval: Approval }>(
      await fetch(`${rt.urls.app}/console/api/approvals/${approval.approvalId}`),
    );
    expect(after.approval).toMatchObject({ status: 'pending', votes: [] });
  });
});

describe('deploys and commands from Slack', () => {
  it('deploys to prod with two Slack approvers in the policy’s channel, the progress on the card', async () => {
    const before = slack.messages.length;
    const dm = slack.dmOf(SLACK_ID.alice);
    expect(
      (
        await postEvent(
          eventCallback(
            { type: 'message', channel_type: 'im', channel: dm, user: SLACK_ID.alice, text: 'deploy prod' },
            slack.botUserId,
          ),
        )
      ).status,
    ).toBe(200);
    const approval = await eventually(async () => {
      const body = await json<{ approvals: Approval[] }>(
        await fetch(`${rt.urls.app}/console/api/approvals?status=pending`),
      );
      const found = body.approvals.find((a) => a.kind === 'deploy');
      return found && cardsOf(found.approvalId).length === 1 && found;
    }, 'the deploy card in the channel');
    const card = cardsOf(approval.approvalId)[0] as SlackPostedMessage;
    expect(card.channel).toBe(DEPLOY_CHANNEL);
    expect(slack.messages.slice(before).some((m) => m.channel === dm)).toBe(true); // Alice is answered in her DM

    await click(SLACK_ID.bob, card, 'signoff_approve', approval.approvalId);
    expect(shown(card)).toContain('1 of 2 approved: Bob');
    expect(shown(card)).toContain('signoff_approve');
    await click(SLACK_ID.carol, card, 'signoff_approve', approval.approvalId);
    expect(await finalStatus(rt, approval.executionArn)).toBe('SUCCEEDED');
    expect(shown(card)).toContain('Approved by Bob, Carol');
    expect(rt.lambda.aliasVersion('demo-orders', 'prod')).toBe('3');
  });

  it('answers help in four languages: slash command (ephemeral, in the response), mention, DM', async () => {
    const channel = slackId('C');
    for (const [command, expected] of [
      ['help', 'Signoff commands'],
      ['帮助', 'Signoff 指令'],
      ['幫助', 'Signoff 指令'],
      ['ヘルプ', 'Signoff コマンド'],
    ] as const) {
      const slash = await post(
        slashCommandBody({
          user: SLACK_ID.bob,
          channel,
          text: command,
          triggerId: slack.triggerId(),
          responseUrl: slack.responseUrl(),
        }),
        'application/x-www-form-urlencoded',
      );
      const body = await json<{ response_type: string; text: string }>(slash);
      expect(body.response_type).toBe('ephemeral');
      expect(body.text).toContain(expected);

      const before = slack.messages.length;
      await postEvent(
        eventCallback(
          { type: 'app_mention', channel, user: SLACK_ID.bob, text: `<@${slack.botUserId}> ${command}` },
          slack.botUserId,
        ),
      );
      await postEvent(
        eventCallback(
          {
            type: 'message',
            channel_type: 'im',
            channel: slack.dmOf(SLACK_ID.bob),
            user: SLACK_ID.bob,
            text: command,
          },
          slack.botUserId,
        ),
      );
      const answers = slack.messages.slice(before);
      expect(answers.map((m) => m.channel)).toEqual([channel, slack.dmOf(SLACK_ID.bob)]);
      for (const m of answers) expect(m.text).toContain(expected);
    }
  });

  it('answers a retried event (X-Slack-Retry-Num) once, and never answers its own messages', async () => {
    const event = eventCallback(
      {
        type: 'message',
        channel_type: 'im',
        channel: slack.dmOf(SLACK_ID.carol),
        user: SLACK_ID.carol,
        text: 'help',
      },
      slack.botUserId,
    );
    const before = slack.messages.length;
    expect((await postEvent(event)).status).toBe(200);
    expect(
      (await postEvent(event, { 'x-slack-retry-num': '1', 'x-slack-retry-reason': 'http_timeout' })).status,
    ).toBe(200);
    expect(
      (await postEvent(event, { 'x-slack-retry-num': '2', 'x-slack-retry-reason': 'http_error' })).status,
    ).toBe(200);
    expect(slack.messages.length).toBe(before + 1);
    const own = eventCallback(
      {
        type: 'message',
        channel_type: 'im',
        channel: slack.dmOf(SLACK_ID.carol),
        user: slack.botUserId,
        bot_id: 'BFAKE',
        text: 'help',
      },
      slack.botUserId,
    );
    await postEvent(own);
    expect(slack.messages.length).toBe(before + 1);
  });

  it('echoes the url_verification challenge only when signed', async () => {
    const body = { token: 'x', challenge: 'c-123', type: 'url_verification' };
    expect(await json(await postEvent(body))).toEqual({ challenge: 'c-123' });
    const unsigned = await fetch(`${rt.urls.app}/webhooks/slack`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });
    expect(unsigned.status).toBe(401);
  });
});

describe('Socket Mode (local runtime, SLACK_APP_TOKEN)', () => {
  it('connects with the app token and serves events, clicks and slash commands through the same route', async () => {
    const socketSlack = await startSlackFake();
    const bob = slackId('U');
    const input = structuredClone(DEFAULT_CONFIG_INPUT) as { users: Record<string, Record<string, string>> };
    if (input.users.bob) input.users.bob.slack = bob;
    const runtime = await startTestRuntime(parseConfig(input), undefined, {
      SLACK_SIGNING_SECRET: socketSlack.signingSecret,
      SLACK_BOT_TOKEN: socketSlack.botToken,
      SLACK_API_URL: socketSlack.apiUrl,
      SLACK_APP_TOKEN: socketSlack.appToken,
    });
    try {
      expect(socketSlack.requests.find((r) => r.method === 'apps.connections.open')?.authorized).toBe(true);
      await eventually(async () => socketSlack.sockets() === 1, 'the Socket Mode connection');
      // A slash command: its ack carries the answer.
      const ack = (await socketSlack.sendEnvelope('slash_commands', {
        command: '/signoff',
        text: 'ヘルプ',
        user_id: bob,
        user_name: 'bob',
        channel_id: socketSlack.dmOf(bob),
        trigger_id: socketSlack.triggerId(),
        response_url: socketSlack.responseUrl(),
      })) as { text?: string };
      expect(ack.text).toContain('Signoff コマンド');
      // An event: answered with a message, its ack empty; the same event again has no second effect.
      const event = eventCallback(
        { type: 'message', channel_type: 'im', channel: socketSlack.dmOf(bob), user: bob, text: 'help' },
        socketSlack.botUserId,
      );
      expect(JSON.stringify((await socketSlack.sendEnvelope('events_api', event)) ?? {})).toBe('{}');
      expect(JSON.stringify((await socketSlack.sendEnvelope('events_api', event)) ?? {})).toBe('{}');
      expect(socketSlack.messages.filter((m) => m.text.includes('Signoff commands'))).toHaveLength(1);
    } finally {
      await runtime.stop();
      await socketSlack.close();
    }
  });
});

describe('releases from Slack', () => {
  it('lists the releases as buttons, a double click asks once, an approve click runs the pipeline, and a failed pipeline fails the execution and shows on the card', async () => {
    const dm = slack.dmOf(SLACK_ID.alice);
    const before = slack.messages.length;
    await postEvent(
      eventCallback(
        { type: 'message', channel_type: 'im', channel: dm, user: SLACK_ID.alice, text: 'release' },
        slack.botUserId,
      ),
    );
    // The answer in Alice's DM carries one button per configured release.
    const { list, button } = await eventually(async () => {
      for (const m of slack.messages.slice(before)) {
        const found = JSON.stringify(m.blocks).match(
          /"action_id":"(signoff_command:\d+)","value":"((?:[^"\\]|\\.)*)"/,
        );
        if (m.channel === dm && found?.[1] && found[2]) {
          return { list: m, button: { actionId: found[1], value: JSON.parse(`"${found[2]}"`) as string } };
        }
      }
      return undefined;
    }, 'the release buttons in Alice’s DM');
    expect(JSON.parse(button.value)).toMatchObject({ c: 'release web' });

    rt.gitlab.pipelines.planNext('hold');
    const tap = () =>
      postInteraction(
        blockActions({
          user: SLACK_ID.alice,
          actionId: button.actionId,
          value: button.value,
          channel: list.channel,
          ts: list.ts,
          triggerId: slack.triggerId(),
          responseUrl: slack.responseUrl(),
          blocks: list.blocks,
        }),
      );
    expect((await tap()).status).toBe(200);
    expect((await tap()).status).toBe(200); // a double click asks once
    const approval = await eventually(async () => {
      const body = await json<{ approvals: Approval[] }>(
        await fetch(`${rt.urls.app}/console/api/approvals?status=pending`),
      );
      const found = body.approvals.find((a) => a.kind === 'release');
      return found && cardsOf(found.approvalId).length === 1 && found;
    }, 'the release card');
    expect(approval.requester).toMatchObject({ platform: 'slack', user: 'alice' });
    const body = await json<{ approvals: Approval[] }>(await fetch(`${rt.urls.app}/console/api/approvals`));
    expect(body.approvals.filter((a) => a.kind === 'release')).toHaveLength(1);

    // Releases follow deploy's policy here (no policies.release), so the card is in its channel.
    const card = cardsOf(approval.approvalId)[0] as SlackPostedMessage;
    expect(card.channel).toBe(DEPLOY_CHANNEL);
    await click(SLACK_ID.bob, card, 'signoff_approve', approval.approvalId);
    const pipelineId = await eventually(async () => {
      return shown(card).includes('running') ? [...rt.gitlab.pipelines.pipelines.keys()].at(-1) : undefined;
    }, 'the running pipeline on the card');
    const created = rt.gitlab.requests.filter((r) => r.method === 'POST' && r.path.endsWith('/pipeline'));
    expect(created).toHaveLength(1);

    await rt.gitlab.pipelines.finishPipeline(pipelineId as number, 'failed');
    expect(await finalOutcome(rt, approval.executionArn)).toMatchObject({
      status: 'FAILED',
      error: 'Signoff.PipelineFailed',
    });
    // The card names the job that failed (the stand-in fails its `deploy` job).
    await eventually(
      async () => /#\d+ failed in \S+ at job \\"deploy\\"/.test(shown(card)) || undefined,
      'the failed pipeline and its job on the card',
    );
    // Alice, who asked, is told in her DM.
    await eventually(
      async () => slack.messages.some((m) => m.channel === dm && /failed/i.test(m.text ?? '')) || undefined,
      'the notice to Alice',
    );
  });
});
