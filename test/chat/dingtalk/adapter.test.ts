import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDingTalkAdapter, type DingTalkAdapter } from '../../../chat/dingtalk/index.ts';
import type { RawRequest } from '../../../core/chat.ts';
import { UnauthenticatedError } from '../../../core/errors.ts';
import {
  cardCallback,
  type DingTalkFake,
  robotMessage,
  signDingTalk,
  startDingTalkFake,
} from '../../fakes/dingtalk.ts';

let fake: DingTalkFake;
let adapter: DingTalkAdapter;
const logged: string[] = [];
const CARD = {
  approvalId: 'aK3v9Qx2LmN8pR4sT6uW0y',
  title: 'Merge !7',
  fields: [],
  links: [],
  state: { kind: 'pending' as const, approvals: 0, required: 1, approvedBy: [] },
};

beforeAll(async () => {
  fake = await startDingTalkFake();
  adapter = createDingTalkAdapter(
    { appKey: fake.appKey, appSecret: fake.appSecret, cardTemplateId: fake.cardTemplateId, apiUrl: fake.url },
    { log: (message) => logged.push(message) },
  );
});
afterAll(() => fake.close());

function signed(body: object, timestamp = Date.now(), sign?: string): RawRequest {
  const headers: Record<string, string> = {
    timestamp: String(timestamp),
    sign: sign ?? signDingTalk(String(timestamp), fake.appSecret),
  };
  return { body: JSON.stringify(body), header: (name) => headers[name], now: new Date() };
}

describe('createDingTalkAdapter', () => {
  it('creates a card per recipient with its own outTrackId and updates it in place', async () => {
    const ref = await adapter.send({ kind: 'user', id: 'staff0815' }, CARD);
    expect(ref.id).toMatch(/^signoff\.aK3v9Qx2LmN8pR4sT6uW0y\.[0-9a-f]{8}$/);
    const group = await adapter.send({ kind: 'chat', id: 'cidGroup==' }, CARD);
    expect(group.id).not.toBe(ref.id);
    expect(fake.cards.get(group.id)?.openSpaceId).toBe('dtv1.card//IM_GROUP.cidGroup==');
    await adapter.update(ref, { ...CARD, state: { kind: 'approved', by: ['Bob'] } });
    expect(fake.cards.get(ref.id)?.params).toMatchObject({ status: 'approved', pending: 'false' });
    // Three calls, one access token, each call with the token header.
    expect(fake.tokensIssued()).toBe(1);
    expect(fake.requests.filter((r) => r.path.startsWith('/v1.0/card')).every((r) => r.authorized)).toBe(
      true,
    );
  });

  it('fetches a new token once when DingTalk answers 401, then succeeds', async () => {
    fake.revokeTokens();
    const issued = fake.tokensIssued();
    await adapter.notify({ kind: 'user', id: 'staff0815' }, { text: 'hello' });
    expect(fake.tokensIssued()).toBe(issued + 1);
    expect(fake.messages.at(-1)).toMatchObject({
      via: 'batchSend',
      to: 'staff0815',
      msgKey: 'sampleMarkdown',
    });
  });

  it('reports a 5xx as retryable and a 4xx as not', async () => {
    fake.failNext(1, 503);
    await expect(adapter.notify({ kind: 'chat', id: 'cidGroup==' }, { text: 'x' })).rejects.toMatchObject({
      retryable: true,
    });
    await expect(
      adapter.update({ platform: 'dingtalk', id: 'signoff.unknown0.00000000' }, CARD),
    ).rejects.toMatchObject({ retryable: false, status: 400 });
  });

  it('refuses a card callback posted over HTTP with a 401 and a log line saying why', async () => {
    const body = cardCallback(fake, 'signoff.aK3v9Qx2LmN8pR4sT6uW0y.00000000', 'staff0815', {
      action: 'approve',
    });
    await expect(adapter.receive(signed(body))).rejects.toThrow(UnauthenticatedError);
    expect(logged.at(-1)).toBe('dingtalk card callback refused');
  });

  it('refuses a signature replayed with another message inside the window', async () => {
    const timestamp = Date.now();
    const first = robotMessage(fake, 'help', { senderStaffId: 'staff0815', msgId: 'replay-1' });
    await adapter.receive(signed(first, timestamp));
    // The same delivery again is fine (the route de-duplicates it on msgId) …
    await expect(adapter.receive(signed(first, timestamp))).resolves.toHaveLength(1);
    // … but the same sign with another body is a replay.
    const altered = robotMessage(fake, 'deploy prod', { senderStaffId: 'staff0816', msgId: 'replay-2' });
    await expect(adapter.receive(signed(altered, timestamp))).rejects.toThrow(/replay/);
  });

  it('never answers through a session webhook on a host that is not DingTalk', async () => {
    const body = robotMessage(fake, 'help', {
      senderStaffId: 'staff0815',
      sessionWebhook: 'https://attacker.example/collect',
    });
    const [item] = await adapter.receive(signed(body));
    if (item?.kind !== 'command') throw new Error('expected a command');
    const before = fake.messages.length;
    await adapter.notify(item.where, { text: 'answer' }, item.replyToken);
    expect(fake.messages.slice(before)).toMatchObject([{ via: 'batchSend', to: 'staff0815' }]);
  });

  it('parses a Stream card click into a decision keyed by the push id', () => {
    const data = cardCallback(fake, 'signoff.aK3v9Qx2LmN8pR4sT6uW0y.00000000', 'staff0815', {
      action: 'approve',
    });
    const [item] = adapter.receiveStream(
      '/v1.0/card/instances/callback',
      JSON.stringify(data),
      'push-1',
      new Date(),
    );
    expect(item).toMatchObject({ kind: 'decision', decision: 'approve', eventId: 'card-push-1' });
  });
});
