import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import {
  createLineAdapter,
  createLineClient,
  LineApiError,
  resolveLineBaseUrl,
} from '../../../chat/line/index.ts';
import type { Card, ChatAdapter } from '../../../core/chat.ts';
import { ConfigError, IntegrationError, UnauthenticatedError } from '../../../core/errors.ts';
import { translate } from '../../../core/messages/index.ts';
import {
  type LineFake,
  lineEvent,
  lineId,
  linePostbackEvent,
  lineTextEvent,
  lineWebhook,
  replyToken,
  signedLineRequest,
  startLineFake,
} from '../../fakes/line.ts';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

function card(overrides: Partial<Card> = {}): Card {
  return {
    approvalId: 'k3Jq0vYpZ7mB2xR8sT4uWd',
    title: 'Deploy to test: orders-api 41 → 42',
    fields: [{ label: 'Requested by', value: 'Alice' }],
    links: [],
    state: { kind: 'pending', approvals: 0, required: 1, approvedBy: [] },
    ...overrides,
  };
}

let fake: LineFake;
let adapter: ChatAdapter;
let now = 1_900_000_000_000;
const clock = () => now;

beforeAll(async () => {
  fake = await startLineFake();
});
afterAll(async () => {
  await fake.close();
});
beforeEach(() => {
  fake.requests.length = 0;
  fake.messages.length = 0;
  fake.profiles.clear();
  now = 1_900_000_000_000;
  adapter = createLineAdapter(
    { channelSecret: fake.channelSecret, channelAccessToken: fake.channelAccessToken, apiBaseUrl: fake.url },
    { clock },
  );
});

function request(events: unknown[]) {
  return signedLineRequest(lineWebhook(events, fake.botUserId), fake.channelSecret);
}

describe('send', () => {
  it('pushes the Flex card through the real SDK and returns the sent message id', async () => {
    const to = lineId('C');
    const ref = await adapter.send({ kind: 'chat', id: to }, card());
    const [push] = fake.requests;
    expect(push).toMatchObject({
      method: 'POST',
      path: '/v2/bot/message/push',
      authorized: true,
      status: 200,
    });
    expect(push?.headers['x-line-retry-key']).toMatch(UUID);
    expect(push?.headers.authorization).toBe('[redacted]');
    expect(fake.messages).toHaveLength(1);
    expect(fake.messages[0]).toMatchObject({ via: 'push', to, message: { type: 'flex' } });
    expect(ref).toEqual({ platform: 'line', id: fake.messages[0]?.id, to });
  });

  it('a retried send of the same card posts once (retry key → 409 → the same message id)', async () => {
    const to = lineId('U');
    const first = await adapter.send({ kind: 'user', id: to }, card());
    const again = await adapter.send({ kind: 'user', id: to }, card());
    expect(fake.requests.map((r) => r.status)).toEqual([200, 409]);
    expect(fake.requests[0]?.headers['x-line-retry-key']).toBe(fake.requests[1]?.headers['x-line-retry-key']);
    expect(fake.messages).toHaveLength(1);
    expect(again).toEqual(first);
  });

  it('a 500 is a retryable LineApiError that never shows the token', async () => {
    fake.failNext(1, 500);
    const error = await adapter.send({ kind: 'user', id: lineId('U') }, card()).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(LineApiError);
    expect(error).toBeInstanceOf(IntegrationError);
    expect(error).toMatchObject({ name: 'LineApiError', status: 500, retryable: true });
    expect((error as LineApiError).requestId).toMatch(UUID);
    expect(String(error)).not.toContain(fake.channelAccessToken);
    expect(JSON.stringify(error)).not.toContain(fake.channelAccessToken);
    expect((error as Error).cause).toBeUndefined();
  });

  it('429 is retryable; a 400 from bad input is not, and says which property', async () => {
    fake.failNext(1, 429);
    await expect(adapter.send({ kind: 'user', id: lineId('U') }, card())).rejects.toMatchObject({
      status: 429,
      retryable: true,
    });
    const error = await adapter.send({ kind: 'user', id: 'not-a-line-id' }, card()).catch((e: unknown) => e);
    expect(error).toMatchObject({ status: 400, retryable: false, details: [expect.stringContaining('to')] });
  });

  it('a wrong channel access token is a 401, not retryable', async () => {
    const wrong = createLineAdapter(
      { channelSecret: fake.channelSecret, channelAccessToken: 'wrong-token', apiBaseUrl: fake.url },
      { clock },
    );
    await expect(wrong.send({ kind: 'user', id: lineId('U') }, card())).rejects.toMatchObject({
      status: 401,
      retryable: false,
    });
  });
});

describe('update', () => {
  it('pushes a NEW message with the new state to the card recipient, once per state', async () => {
    const to = lineId('U');
    const ref = await adapter.send({ kind: 'user', id: to }, card());
    const approved = card({ state: { kind: 'approved', by: ['Bob'] } });
    await adapter.update(ref, approved);
    await adapter.update(ref, approved); // a retried refresh: LINE answers 409, nothing new
    expect(fake.messages.map((m) => m.message.type)).toEqual(['flex', 'text']);
    expect(fake.messages[1]).toMatchObject({
      via: 'push',
      to,
      message: { type: 'text', text: '✅ Approved by Bob\nDeploy to test: orders-api 41 → 42' },
    });
    await adapter.update(ref, card({ state: { kind: 'expired' } }));
    expect(fake.messages).toHaveLength(3);
  });

  it('refuses a reference without a recipient', async () => {
    await expect(adapter.update({ platform: 'line', id: '1' }, card())).rejects.toThrow(/no recipient/);
  });
});

describe('receive', () => {
  it('verifies, parses and fills the display name from the profile API', async () => {
    const userId = lineId('U');
    fake.profiles.set(userId, { displayName: 'Bob 山田' });
    const [item] = await adapter.receive(request([linePostbackEvent('a=abc&d=approve', { userId })]));
    expect(item).toMatchObject({
      kind: 'decision',
      actor: { platform: 'line', id: userId, name: 'Bob 山田' },
    });
    expect(fake.requests.map((r) => `${r.method} ${r.path}`)).toEqual([`GET /v2/bot/profile/${userId}`]);
  });

  it('caches display names', async () => {
    const userId = lineId('U');
    fake.profiles.set(userId, { displayName: 'Bob' });
    await adapter.receive(request([lineTextEvent('help', { userId })]));
    await adapter.receive(request([lineTextEvent('pending', { userId })]));
    expect(fake.requests.filter((r) => r.path.startsWith('/v2/bot/profile'))).toHaveLength(1);
  });

  it('answers without a name when the profile is unknown (404) or the API fails', async () => {
    const [unknown] = await adapter.receive(request([lineTextEvent('help')]));
    expect(unknown).toMatchObject({ kind: 'command', actor: { platform: 'line' } });
    expect(unknown && 'actor' in unknown ? unknown.actor.name : 'x').toBeUndefined();
    fake.failNext(1, 500);
    const [failed] = await adapter.receive(request([lineTextEvent('help')]));
    expect(failed?.kind).toBe('command');
  });

  it('a bad signature is refused before any API call', async () => {
    const req = signedLineRequest(lineWebhook([lineTextEvent('help')]), 'wrong-secret');
    await expect(adapter.receive(req)).rejects.toBeInstanceOf(UnauthenticatedError);
    expect(fake.requests).toEqual([]);
  });

  it('the connectivity check makes no API call', async () => {
    expect(await adapter.receive(request([]))).toEqual([]);
    expect(fake.requests).toEqual([]);
  });

  it('unknown postback data: answered with the reply token, nothing acted on', async () => {
    const token = replyToken();
    const items = await adapter.receive(
      request([linePostbackEvent('action=buy&itemid=111', { replyToken: token })]),
    );
    expect(items).toEqual([{ kind: 'ignored', reason: expect.stringContaining('not ours') }]);
    expect(fake.messages).toEqual([
      expect.objectContaining({
        via: 'reply',
        replyToken: token,
        message: { type: 'text', text: translate('en', 'lineUnknownButton') },
      }),
    ]);
  });

  it('a join is answered with the group id', async () => {
    const groupId = lineId('C');
    await adapter.receive(request([lineEvent('join', { groupId, withoutUserId: true })]));
    expect(fake.messages[0]?.message.text).toContain(groupId);
  });

  it('a redelivered unknown postback is not answered twice (its token is used)', async () => {
    const event = linePostbackEvent('nope', { replyToken: replyToken() });
    await adapter.receive(request([event]));
    await adapter.receive(request([{ ...event, deliveryContext: { isRedelivery: true } }]));
    expect(fake.messages).toHaveLength(1);
  });
});

describe('notify', () => {
  it('replies with a fresh reply token (no retry key on reply), then pushes once it is used', async () => {
    const userId = lineId('U');
    const token = replyToken();
    const [item] = await adapter.receive(request([lineTextEvent('help', { userId, replyToken: token })]));
    if (item?.kind !== 'command') throw new Error('expected a command');
    await adapter.notify(item.where, { title: 'Signoff commands', text: 'help' }, item.replyToken);
    await adapter.notify(item.where, { text: 'second answer' }, item.replyToken);
    const sends = fake.requests.filter((r) => r.path.startsWith('/v2/bot/message'));
    expect(sends.map((r) => r.path)).toEqual(['/v2/bot/message/reply', '/v2/bot/message/push']);
    expect(sends[0]?.headers['x-line-retry-key']).toBeUndefined();
    expect(sends[1]?.headers['x-line-retry-key']).toMatch(UUID);
    expect(fake.messages.map((m) => [m.via, m.message.text])).toEqual([
      ['reply', 'Signoff commands\n\nhelp'],
      ['push', 'second answer'],
    ]);
    expect(fake.messages[1]?.to).toBe(userId);
  });

  it('pushes when the reply token is older than LINE allows', async () => {
    const token = replyToken();
    const [item] = await adapter.receive(request([lineTextEvent('help', { replyToken: token })]));
    if (item?.kind !== 'command') throw new Error('expected a command');
    now += 55_000;
    await adapter.notify(item.where, { text: 'late' }, token);
    expect(fake.messages.map((m) => m.via)).toEqual(['push']);
  });

  it('falls back to push when LINE refuses the reply token (400)', async () => {
    const token = replyToken();
    fake.expireReplyToken(token);
    const to = lineId('U');
    await adapter.notify({ kind: 'user', id: to }, { text: 'hello' }, token);
    expect(fake.requests.map((r) => `${r.path} ${r.status}`)).toEqual([
      '/v2/bot/message/reply 400',
      '/v2/bot/message/push 200',
    ]);
    expect(fake.messages).toEqual([expect.objectContaining({ via: 'push', to })]);
  });

  it('does not push after a reply that failed with 5xx (it may have been delivered)', async () => {
    fake.failNext(1, 502);
    await expect(
      adapter.notify({ kind: 'user', id: lineId('U') }, { text: 'x' }, replyToken()),
    ).rejects.toMatchObject({
      status: 502,
      retryable: true,
    });
    expect(fake.requests).toHaveLength(1);
  });

  it('pushes a notice with choices as a Flex bubble when there is no reply token', async () => {
    const groupId = lineId('C');
    await adapter.notify(
      { kind: 'chat', id: groupId },
      {
        title: 'Choose an environment',
        text: 'Deploy where?',
        choices: [{ label: 'test', command: 'deploy test' }],
      },
    );
    expect(fake.messages[0]).toMatchObject({ via: 'push', to: groupId, message: { type: 'flex' } });
    expect(JSON.stringify(fake.messages[0]?.message)).toContain('"data":"c=deploy test"');
  });
});

describe('client', () => {
  it('a network failure is a retryable LineApiError', async () => {
    const closed = await startLineFake();
    const url = closed.url;
    await closed.close();
    const client = createLineClient({ channelAccessToken: 'token-xyz', baseUrl: url, timeoutMs: 2000 });
    const error = await client.push(lineId('U'), [{ type: 'text', text: 'x' }]).catch((e: unknown) => e);
    expect(error).toMatchObject({ name: 'LineApiError', retryable: true });
    expect(String(error)).toMatch(/network error/);
  });

  it('a call that does not answer in time is a retryable LineApiError', async () => {
    fake.hangNext(1);
    const client = createLineClient({
      channelAccessToken: fake.channelAccessToken,
      baseUrl: fake.url,
      timeoutMs: 150,
    });
    await expect(client.getProfile(lineId('U'))).rejects.toMatchObject({
      name: 'LineApiError',
      retryable: true,
      message: expect.stringMatching(/timed out/),
    });
  });

  it('receive does not wait for a slow profile API beyond its budget', async () => {
    fake.hangNext(1);
    const quick = createLineAdapter(
      {
        channelSecret: fake.channelSecret,
        channelAccessToken: fake.channelAccessToken,
        apiBaseUrl: fake.url,
        profileBudgetMs: 100,
      },
      { clock },
    );
    const started = Date.now();
    const [item] = await quick.receive(request([lineTextEvent('help')]));
    expect(item?.kind).toBe('command');
    expect(Date.now() - started).toBeLessThan(1000);
  });

  it('checks LINE_API_BASE_URL and needs a token', () => {
    expect(resolveLineBaseUrl(undefined)).toBe('https://api.line.me');
    expect(resolveLineBaseUrl('http://127.0.0.1:4010/')).toBe('http://127.0.0.1:4010');
    expect(() => resolveLineBaseUrl('ftp://x')).toThrow(ConfigError);
    expect(() => resolveLineBaseUrl('nope')).toThrow(ConfigError);
    expect(() => createLineClient({ channelAccessToken: '' })).toThrow(ConfigError);
  });
});

describe('the fake keeps LINE rules', () => {
  async function call(path: string, body: unknown, headers: Record<string, string> = {}) {
    const response = await fetch(`${fake.url}${path}`, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        authorization: `Bearer ${fake.channelAccessToken}`,
        ...headers,
      },
      body: JSON.stringify(body),
    });
    return { status: response.status, body: (await response.json()) as Record<string, unknown> };
  }

  it('refuses a retry key on reply, a reused reply token, and a label over 20 graphemes', async () => {
    const text = [{ type: 'text', text: 'x' }];
    const token = replyToken();
    expect(
      (
        await call(
          '/v2/bot/message/reply',
          { replyToken: token, messages: text },
          { 'x-line-retry-key': crypto.randomUUID() },
        )
      ).status,
    ).toBe(400);
    expect((await call('/v2/bot/message/reply', { replyToken: token, messages: text })).status).toBe(200);
    expect((await call('/v2/bot/message/reply', { replyToken: token, messages: text })).status).toBe(400);
    const flex = {
      type: 'flex',
      altText: 'x',
      contents: {
        type: 'bubble',
        body: {
          type: 'box',
          layout: 'vertical',
          contents: [
            { type: 'button', action: { type: 'postback', label: 'x'.repeat(21), data: 'a=b&d=approve' } },
          ],
        },
      },
    };
    const refused = await call('/v2/bot/message/push', { to: lineId('U'), messages: [flex] });
    expect(refused.status).toBe(400);
    expect(JSON.stringify(refused.body)).toContain('label');
  });

  it('answers a repeated retry key with 409 and x-line-accepted-request-id', async () => {
    const key = crypto.randomUUID();
    const to = lineId('U');
    const first = await fetch(`${fake.url}/v2/bot/message/push`, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        authorization: `Bearer ${fake.channelAccessToken}`,
        'x-line-retry-key': key,
      },
      body: JSON.stringify({ to, messages: [{ type: 'text', text: 'x' }] }),
    });
    const again = await fetch(`${fake.url}/v2/bot/message/push`, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        authorization: `Bearer ${fake.channelAccessToken}`,
        'x-line-retry-key': key,
      },
      body: JSON.stringify({ to, messages: [{ type: 'text', text: 'x' }] }),
    });
    expect([first.status, again.status]).toEqual([200, 409]);
    expect(again.headers.get('x-line-accepted-request-id')).toBe(first.headers.get('x-line-request-id'));
  });
});
