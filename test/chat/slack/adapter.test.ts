/**
 * The Slack adapter with the real @slack/web-api client against test/fakes/slack.ts: cards to
 * DMs and channels, chat.update of a copy, rate limits honoured, Slack's errors surfaced, the
 * reason modal (and what happens when its trigger id expired), answers through response_url.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createSlackAdapter, createSlackClient, SlackApiError } from '../../../chat/slack/index.ts';
import type { Card, Handled } from '../../../core/chat.ts';
import {
  blockActions,
  interactionBody,
  type SlackFake,
  slackHeaders,
  slackId,
  startSlackFake,
} from '../../fakes/slack.ts';

let fake: SlackFake;
const BOB = slackId('U');
const card: Card = {
  approvalId: 'aK3xY_-0123456789abcdef',
  title: 'Merge !7',
  fields: [],
  links: [],
  state: { kind: 'pending', approvals: 0, required: 1, approvedBy: [] },
};

beforeAll(async () => {
  fake = await startSlackFake();
});
afterAll(() => fake.close());
beforeEach(() => {
  fake.requests.length = 0;
  fake.messages.length = 0;
  fake.responses.length = 0;
});

const adapter = () =>
  createSlackAdapter({ signingSecret: fake.signingSecret, botToken: fake.botToken, apiUrl: fake.apiUrl });

function rejectClick(triggerId: string, responseUrl: string) {
  const body = interactionBody(
    blockActions({
      user: BOB,
      actionId: 'signoff_reject',
      value: card.approvalId,
      channel: 'C0CHANNEL1',
      ts: '1.000001',
      triggerId,
      responseUrl,
    }),
  );
  const headers = slackHeaders(body, 'application/x-www-form-urlencoded', fake.signingSecret);
  return { body, now: new Date(), header: (name: string) => headers[name.toLowerCase()] };
}

describe('createSlackAdapter', () => {
  it('posts a card to a user’s DM (conversations.open) and updates that copy with chat.update', async () => {
    const slack = adapter();
    const ref = await slack.send({ kind: 'user', id: BOB }, card);
    expect(ref).toEqual({ platform: 'slack', id: expect.stringMatching(/^\d+\.\d{6}$/), to: fake.dmOf(BOB) });
    expect(fake.requests.map((r) => r.method)).toEqual(['conversations.open', 'chat.postMessage']);
    expect(
      fake.requests.every((r) => r.authorized && r.contentType === 'application/x-www-form-urlencoded'),
    ).toBe(true);
    await slack.update(ref, { ...card, state: { kind: 'approved', by: ['Bob'] } });
    expect(fake.messages[0]?.updates[0]?.text).toContain('Approved by Bob');
  });

  it('waits out a 429 with Retry-After and then posts, once', async () => {
    fake.rateLimitNext(1, 1);
    await adapter().send({ kind: 'chat', id: 'C0CHANNEL1' }, card);
    expect(fake.requests.map((r) => r.outcome)).toEqual(['429', 'ok']);
    expect(fake.messages).toHaveLength(1);
  });

  it('surfaces Slack’s ok:false errors by code, without the token', async () => {
    fake.failNext(1, 'channel_not_found');
    const error = await adapter()
      .send({ kind: 'chat', id: 'C0CHANNEL1' }, card)
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(SlackApiError);
    expect(error).toMatchObject({ code: 'channel_not_found', retryable: false });
    expect(String((error as Error).message)).not.toContain(fake.botToken);
    const wrong = createSlackAdapter({ signingSecret: 's', botToken: 'xoxb-wrong', apiUrl: fake.apiUrl });
    await expect(wrong.send({ kind: 'chat', id: 'C0CHANNEL1' }, card)).rejects.toMatchObject({
      code: 'invalid_auth',
    });
    await expect(
      adapter().update({ platform: 'slack', id: '9.999999', to: 'C0CHANNEL1' }, card),
    ).rejects.toMatchObject({
      code: 'message_not_found',
    });
  });

  it('opens the reason modal on a Reject click; an expired trigger id is told to the clicker alone', async () => {
    const slack = adapter();
    const views = fake.views.length;
    const items = await slack.receive(rejectClick(fake.triggerId(), fake.responseUrl()));
    expect(items).toEqual([{ kind: 'ignored', reason: expect.stringContaining('modal') }]);
    expect(fake.views).toHaveLength(views + 1);

    const expired = fake.triggerId();
    fake.expireTrigger(expired);
    await slack.receive(rejectClick(expired, fake.responseUrl()));
    expect(fake.views).toHaveLength(views + 1);
    expect(fake.responses.at(-1)?.body).toMatchObject({
      response_type: 'ephemeral',
      text: expect.stringMatching(/click Reject again/),
    });
  });

  it('sends a refusal to the clicker through response_url, and never to a URL outside Slack', async () => {
    const slack = adapter();
    const url = fake.responseUrl();
    const refused = (responseUrl: string): Handled => ({
      kind: 'decision',
      item: {
        kind: 'decision',
        approvalId: card.approvalId,
        decision: 'approve',
        actor: { platform: 'slack', id: BOB },
        responseUrl,
      },
      toast: { kind: 'error', text: 'You are not an approver for merge requests' },
    });
    expect(await slack.answer([refused(url)])).toEqual({ body: {}, failed: [] });
    expect(fake.responses.at(-1)?.body).toMatchObject({
      response_type: 'ephemeral',
      replace_original: false,
    });
    const evil = await slack.answer([refused('http://169.254.169.254/latest/meta-data')]);
    expect(evil.failed[0]).toMatch(/not on https:\/\/hooks\.slack\.com/);
  });

  it('looks a user up by email', async () => {
    fake.emails.set('bob@example.com', BOB);
    const slack = adapter();
    expect(await slack.lookupByEmail?.('bob@example.com')).toBe(BOB);
    expect(await slack.lookupByEmail?.('nobody@example.com')).toBeUndefined();
  });

  it('makes no request and loads no SDK until a call needs it', () => {
    createSlackClient({ botToken: fake.botToken, apiUrl: fake.apiUrl });
    expect(fake.requests).toHaveLength(0);
    expect(() => createSlackClient({ botToken: fake.botToken, apiUrl: 'ftp://x' })).toThrow(/SLACK_API_URL/);
  });
});
