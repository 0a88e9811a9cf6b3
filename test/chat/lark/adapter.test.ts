import { inspect } from 'node:util';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createLarkClient, LarkApiError, resolveLarkDomain } from '../../../chat/lark/client.ts';
import { createLarkAdapter } from '../../../chat/lark/index.ts';
import type { LarkCardJson } from '../../../chat/lark/render.ts';
import type { Card, ChatAdapter } from '../../../core/chat.ts';
import { ConfigError, IntegrationError, UnauthenticatedError } from '../../../core/errors.ts';
import {
  cardActionEvent,
  type LarkFake,
  messageEvent,
  rawLarkRequest,
  signedLarkRequest,
  startLarkFake,
  urlVerification,
} from '../../fakes/lark.ts';

const APP_SECRET = 'lark-app-secret-s3cret-value-0001';
const TOKEN = 'vt-0123456789abcdef0123456789abcd';
const KEY = 'ek-fedcba9876543210fedcba98765432';

const CARD: Card = {
  approvalId: 'k3VqQ8cG2x1mZp0aB7wD9e',
  title: 'Merge !7: Fix login',
  fields: [{ label: 'Author', value: 'alice' }],
  links: [],
  state: { kind: 'pending', approvals: 0, required: 1, approvedBy: [] },
};

async function caught(promise: Promise<unknown>): Promise<unknown> {
  try {
    await promise;
  } catch (error) {
    return error;
  }
  throw new Error('expected a rejection');
}

describe('createLarkAdapter against the Lark fake, through the real SDK', () => {
  let fake: LarkFake;
  let adapter: ChatAdapter;

  const apiCalls = () => fake.requests.filter((r) => !r.path.includes('tenant_access_token'));

  beforeEach(async () => {
    fake = await startLarkFake({ appSecret: APP_SECRET });
    adapter = createLarkAdapter({
      appId: fake.appId,
      appSecret: APP_SECRET,
      verificationToken: TOKEN,
      encryptKey: KEY,
      domain: fake.url,
      timeoutMs: 2_000,
    });
  });

  afterEach(async () => {
    await fake.close();
  });

  it('fetches the tenant token once, then sends a card to an open_id with it', async () => {
    const ref = await adapter.send({ kind: 'user', id: 'ou_bob' }, CARD);
    await adapter.send({ kind: 'user', id: 'ou_carol' }, CARD);

    const tokenCalls = fake.requests.filter(
      (r) => r.path === '/open-apis/auth/v3/tenant_access_token/internal',
    );
    expect(tokenCalls).toEqual([
      expect.objectContaining({ method: 'POST', body: { app_id: fake.appId, app_secret: APP_SECRET } }),
    ]);
    const sends = apiCalls();
    expect(sends).toHaveLength(2);
    expect(sends.every((r) => r.authorized)).toBe(true);
    expect(sends[0]).toMatchObject({
      method: 'POST',
      path: '/open-apis/im/v1/messages',
      query: { receive_id_type: 'open_id' },
      body: { receive_id: 'ou_bob', msg_type: 'interactive' },
    });
    expect(ref).toEqual({ platform: 'lark', id: expect.stringMatching(/^om_/), to: 'user:ou_bob' });
    const sent = fake.messages.get(ref.id);
    expect((sent?.content as LarkCardJson | undefined)?.header?.title.content).toBe('Merge !7: Fix login');
  });

  it('sends a card to a group chat by chat_id', async () => {
    const ref = await adapter.send({ kind: 'chat', id: 'oc_release' }, CARD);
    expect(apiCalls()[0]).toMatchObject({
      query: { receive_id_type: 'chat_id' },
      body: { receive_id: 'oc_release' },
    });
    expect(ref.to).toBe('chat:oc_release');
  });

  it('sends the same approval to the same person with the same uuid, so a retried send posts one card', async () => {
    const first = await adapter.send({ kind: 'user', id: 'ou_bob' }, CARD);
    const again = await adapter.send({ kind: 'user', id: 'ou_bob' }, CARD);
    const other = await adapter.send({ kind: 'user', id: 'ou_carol' }, CARD);
    expect(again.id).toBe(first.id);
    expect(other.id).not.toBe(first.id);
    expect(fake.messages.size).toBe(2);
  });

  it('patches the card in place', async () => {
    const ref = await adapter.send({ kind: 'user', id: 'ou_bob' }, CARD);
    await adapter.update(ref, { ...CARD, state: { kind: 'approved', by: ['Bob'] } });
    const patch = apiCalls().find((r) => r.method === 'PATCH');
    expect(patch?.path).toBe(`/open-apis/im/v1/messages/${ref.id}`);
    const card = fake.messages.get(ref.id)?.patches.at(-1) as LarkCardJson;
    expect(card.header?.template).toBe('green');
    expect(JSON.stringify(card)).toContain('Approved by Bob');
  });

  it('sends a notice as a card', async () => {
    await adapter.notify(
      { kind: 'user', id: 'ou_alice' },
      { title: 'Sent for approval', text: 'Bob will decide.' },
    );
    const [message] = [...fake.messages.values()];
    expect(message).toMatchObject({ receiveId: 'ou_alice', msgType: 'interactive' });
    expect(JSON.stringify(message?.content)).toContain('Bob will decide.');
  });

  it('throws LarkApiError when Lark answers HTTP 200 with code ≠ 0', async () => {
    await adapter.send({ kind: 'user', id: 'ou_bob' }, CARD);
    fake.failNext(1, { code: 230002, msg: 'bot is not in the chat' });
    const error = await caught(adapter.send({ kind: 'chat', id: 'oc_elsewhere' }, CARD));
    expect(error).toBeInstanceOf(LarkApiError);
    expect(error).toBeInstanceOf(IntegrationError);
    expect(error).toMatchObject({ larkCode: 230002, retryable: false });
    expect((error as Error).message).toMatch(/code 230002 bot is not in the chat/);
  });

  it('marks rate limits and server errors retryable', async () => {
    fake.failNext(1, { status: 429 });
    expect(await caught(adapter.send({ kind: 'user', id: 'ou_bob' }, CARD))).toMatchObject({
      status: 429,
      larkCode: 99991400,
      retryable: true,
    });
    fake.failNext(1, { status: 503 });
    expect(await caught(adapter.send({ kind: 'user', id: 'ou_bob' }, CARD))).toMatchObject({
      status: 503,
      retryable: true,
    });
    fake.failNext(1, { code: 99991400 });
    expect(await caught(adapter.send({ kind: 'user', id: 'ou_bob' }, CARD))).toMatchObject({
      retryable: true,
    });
    fake.failNext(1, { status: 400 });
    expect(await caught(adapter.send({ kind: 'user', id: 'ou_bob' }, CARD))).toMatchObject({
      retryable: false,
    });
  });

  it('never carries the app secret or tenant token in an error, its cause or its inspection', async () => {
    const wrong = createLarkAdapter({
      appId: fake.appId,
      appSecret: 'wrong-secret-value-xyz',
      encryptKey: KEY,
      domain: fake.url,
    });
    const tokenError = await caught(wrong.send({ kind: 'user', id: 'ou_bob' }, CARD));
    expect(tokenError).toBeInstanceOf(LarkApiError);
    expect((tokenError as Error).message).toMatch(/tenant access token \(code 10014/);

    await adapter.send({ kind: 'user', id: 'ou_bob' }, CARD);
    fake.failNext(1, { status: 500 });
    const apiError = await caught(adapter.update({ platform: 'lark', id: 'om_x' }, CARD));
    for (const error of [tokenError, apiError]) {
      const all = `${String(error)}\n${inspect(error, { depth: 8, showHidden: true })}`;
      expect(all).not.toContain(APP_SECRET);
      expect(all).not.toContain('wrong-secret-value-xyz');
      expect(all).not.toContain(fake.tenantToken);
    }
  });

  it('reports an unreachable Lark as a retryable network error', async () => {
    await fake.close();
    const error = await caught(adapter.send({ kind: 'user', id: 'ou_bob' }, CARD));
    expect(error).toMatchObject({ name: 'LarkApiError', retryable: true });
    fake = await startLarkFake(); // for afterEach
  });

  it('looks a user up by email, and answers undefined for an unknown email or without permission', async () => {
    fake.users.set('bob@example.com', 'ou_bob_from_directory');
    expect(await adapter.lookupByEmail?.('Bob@example.com')).toBe('ou_bob_from_directory');
    expect(apiCalls()[0]).toMatchObject({
      method: 'POST',
      path: '/open-apis/contact/v3/users/batch_get_id',
      query: { user_id_type: 'open_id' },
      body: { emails: ['Bob@example.com'] },
    });
    expect(await adapter.lookupByEmail?.('nobody@example.com')).toBeUndefined();
    fake.denyContact = true;
    expect(await adapter.lookupByEmail?.('bob@example.com')).toBeUndefined();
  });

  it('answers an encrypted url_verification through receive', async () => {
    const challenge = urlVerification({ token: TOKEN, challenge: 'ch-1' });
    const { body } = signedLarkRequest(challenge, { encryptKey: KEY });
    expect(await adapter.receive(rawLarkRequest({ body }))).toEqual([
      { kind: 'reply', status: 200, body: { challenge: 'ch-1' } },
    ]);
    expect(fake.requests).toEqual([]);
  });

  it('receives a signed click without calling Lark', async () => {
    const click = cardActionEvent({
      token: TOKEN,
      openId: 'ou_bob',
      value: { approvalId: 'a1', decision: 'approve' },
    });
    const inbound = await adapter.receive(rawLarkRequest(signedLarkRequest(click, { encryptKey: KEY })));
    expect(inbound[0]).toMatchObject({ kind: 'decision', approvalId: 'a1', actor: { id: 'ou_bob' } });
    expect(fake.requests).toEqual([]);
  });

  it('fetches the bot open_id once, for group mentions', async () => {
    const mention = (text: string) =>
      rawLarkRequest(
        signedLarkRequest(
          messageEvent({
            token: TOKEN,
            text,
            openId: 'ou_alice',
            chatType: 'group',
            chatId: 'oc_team',
            mentions: [{ openId: fake.botOpenId, name: 'Signoff' }],
          }),
          { encryptKey: KEY },
        ),
      );
    expect(await adapter.receive(mention('help'))).toEqual([
      expect.objectContaining({ kind: 'command', text: 'help', where: { kind: 'chat', id: 'oc_team' } }),
    ]);
    expect(await adapter.receive(mention('approvals'))).toEqual([
      expect.objectContaining({ text: 'approvals' }),
    ]);
    expect(apiCalls().filter((r) => r.path === '/open-apis/bot/v3/info')).toHaveLength(1);
  });

  it('refuses a forged request before parsing it', async () => {
    const click = cardActionEvent({
      token: TOKEN,
      openId: 'ou_bob',
      value: { approvalId: 'a1', decision: 'approve' },
    });
    const forged = signedLarkRequest(click, { encryptKey: 'not-our-key' });
    await expect(adapter.receive(rawLarkRequest(forged))).rejects.toBeInstanceOf(UnauthenticatedError);
  });

  it('answers a decision click in the 2.0 shape, with a toast for errors, and shows it on the clicked card', async () => {
    const item = {
      kind: 'decision' as const,
      approvalId: 'a1',
      decision: 'approve' as const,
      actor: { platform: 'lark' as const, id: 'ou_bob' },
      message: { platform: 'lark' as const, id: 'om_1' },
    };
    expect(adapter.answeredBy(item)).toEqual({ platform: 'lark', id: 'om_1' });
    expect(
      await adapter.answer([
        { kind: 'decision', item, toast: { kind: 'error', text: 'You are not an approver' } },
      ]),
    ).toEqual({ body: { toast: { type: 'error', content: 'You are not an approver' } }, failed: [] });
    const answer = await adapter.answer([
      { kind: 'decision', item, card: { ...CARD, state: { kind: 'approved', by: ['Bob'] } } },
    ]);
    const body = answer.body as { card: { type: string; data: LarkCardJson } };
    expect(body.card.type).toBe('raw');
    expect(body.card.data.header?.template).toBe('green');
  });
});

describe('createLarkAdapter configuration', () => {
  it('refuses to start without an Encrypt Key, naming LARK_ENCRYPT_KEY', () => {
    for (const encryptKey of [undefined, '']) {
      const config = {
        appId: 'cli_x',
        appSecret: APP_SECRET,
        verificationToken: TOKEN,
        ...(encryptKey === undefined ? {} : { encryptKey }),
      };
      expect(() => createLarkAdapter(config)).toThrow(ConfigError);
      expect(() => createLarkAdapter(config)).toThrow(/LARK_ENCRYPT_KEY is required when LARK_APP_ID is set/);
    }
  });
});

describe('createLarkClient', () => {
  let fake: LarkFake;

  beforeEach(async () => {
    fake = await startLarkFake({ appSecret: APP_SECRET });
  });

  afterEach(async () => {
    await fake.close();
  });

  it('reads the bot open_id, sends text and makes a delayed card update', async () => {
    const client = createLarkClient({ appId: fake.appId, appSecret: APP_SECRET, domain: fake.url });
    expect(await client.botOpenId()).toBe(fake.botOpenId);
    const id = await client.sendText('open_id', 'ou_bob', 'hello');
    expect(fake.messages.get(id)).toMatchObject({ msgType: 'text', content: { text: 'hello' } });
    await client.updateCardByToken('c-123', { schema: '2.0', body: { elements: [] } });
    expect(fake.cardUpdates).toEqual([{ token: 'c-123', card: { schema: '2.0', body: { elements: [] } } }]);
  });

  it('refuses to PATCH an unknown message with a LarkApiError', async () => {
    const client = createLarkClient({ appId: fake.appId, appSecret: APP_SECRET, domain: fake.url });
    await expect(client.patchCard('om_missing', { schema: '2.0' })).rejects.toMatchObject({
      name: 'LarkApiError',
      status: 400,
      larkCode: 230001,
    });
  });
});

describe('resolveLarkDomain', () => {
  it('maps feishu, lark and base URLs, and refuses anything else', () => {
    expect(resolveLarkDomain(undefined)).toBe('https://open.feishu.cn');
    expect(resolveLarkDomain('Feishu')).toBe('https://open.feishu.cn');
    expect(resolveLarkDomain('lark')).toBe('https://open.larksuite.com');
    expect(resolveLarkDomain('https://open.larksuite.com/')).toBe('https://open.larksuite.com');
    expect(() => resolveLarkDomain('open.feishu.cn')).toThrow(ConfigError);
    expect(() => resolveLarkDomain('ftp://x')).toThrow(ConfigError);
  });
});
