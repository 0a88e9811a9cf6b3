/**
 * A wire-true stand-in for the Lark / Feishu Open Platform calls Signoff makes through
 * @larksuiteoapi/node-sdk, plus builders for the callbacks Lark sends (encrypted and signed
 * exactly as Lark does), so tests exercise the real SDK and the real verification code.
 *
 * Error codes the fake answers with for bad tokens, unknown messages and oversized cards are
 * plausible stand-ins, not copied from Lark [unverified]; tests assert on our handling, not them.
 */
import { createCipheriv, createHash, randomBytes } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import { serve } from '@hono/node-server';
import { type Context, Hono } from 'hono';
import type { ContentfulStatusCode } from 'hono/utils/http-status';
import type { RawRequest } from '../../core/chat.ts';

export interface LarkRecordedRequest {
  method: string;
  path: string;
  query: Record<string, string>;
  body: unknown;
  /** True when the request carried the current tenant access token. */
  authorized: boolean;
  /** Set when the fake answered with an injected failure (`failNext`): its HTTP status (504 for a hang). */
  injected?: number;
}

export interface LarkFakeMessage {
  messageId: string;
  receiveIdType: string;
  receiveId: string;
  msgType: string;
  /** `content` parsed from its JSON string. */
  content: unknown;
  uuid?: string;
  /** Every PATCHed content, oldest first (the current card is the last one, or `content`). */
  patches: unknown[];
}

/** An HTTP status, HTTP 200 with `code ≠ 0`, or no answer at all (until the client gives up or the fake closes). */
export type LarkFakeFailure = { status: number } | { code: number; msg?: string } | { hang: true };

export interface LarkFake {
  url: string;
  appId: string;
  appSecret: string;
  /** The tenant access token the fake hands out. */
  tenantToken: string;
  botOpenId: string;
  requests: LarkRecordedRequest[];
  messages: Map<string, LarkFakeMessage>;
  /** Delayed updates received on /open-apis/interactive/v1/card/update. */
  cardUpdates: Array<{ token: string; card: unknown }>;
  /** email → open_id known to the contact directory (matched case-insensitively). */
  users: Map<string, string>;
  /** When true, email lookups answer as for an app without the contact scope. */
  denyContact: boolean;
  /** The next `times` API calls (not the token call) fail: an HTTP status, HTTP 200 with `code ≠ 0`, or no answer. */
  failNext(times: number, failure: LarkFakeFailure): void;
  close(): Promise<void>;
}

export interface LarkFakeOptions {
  appId?: string;
  appSecret?: string;
  botOpenId?: string;
  /** Seconds the tenant token lives (`expire`). */
  tokenExpire?: number;
}

type Env = { Variables: { body: unknown } };

const MAX_CARD_BYTES = 30 * 1024;
const RECEIVE_ID_TYPES = new Set(['open_id', 'user_id', 'union_id', 'email', 'chat_id']);

/** Starts the fake on 127.0.0.1, port 0. */
export async function startLarkFake(options: LarkFakeOptions = {}): Promise<LarkFake> {
  const appId = options.appId ?? 'cli_a1b2c3d4e5f60789';
  const appSecret = options.appSecret ?? 'fake-app-secret-0000000000000000';
  const botOpenId = options.botOpenId ?? 'ou_bot00000000000000000000000000000';
  const tenantToken = `t-g1044fake${randomBytes(12).toString('hex')}`;
  const requests: LarkRecordedRequest[] = [];
  const messages = new Map<string, LarkFakeMessage>();
  const cardUpdates: LarkFake['cardUpdates'] = [];
  const users = new Map<string, string>();
  const failures: LarkFakeFailure[] = [];
  const hanging: Array<() => void> = [];
  let nextMessage = 1;

  const fake = {
    appId,
    appSecret,
    tenantToken,
    botOpenId,
    requests,
    messages,
    cardUpdates,
    users,
    denyContact: false,
  };

  const app = new Hono<Env>();

  app.use('/open-apis/*', async (c, next) => {
    const url = new URL(c.req.url);
    const text = c.req.method === 'GET' || c.req.method === 'HEAD' ? '' : await c.req.text();
    let body: unknown = text;
    if (text !== '') {
      try {
        body = JSON.parse(text);
      } catch {
        return larkError(c, 400, 9499, 'Bad Request: body is not JSON');
      }
    }
    const authorized = c.req.header('authorization') === `Bearer ${tenantToken}`;
    const record: LarkRecordedRequest = {
      method: c.req.method,
      path: url.pathname,
      query: Object.fromEntries(url.searchParams),
      body,
      authorized,
    };
    requests.push(record);
    c.set('body', body);
    if (url.pathname === '/open-apis/auth/v3/tenant_access_token/internal') return next();
    if (!c.req.header('authorization')) {
      return larkError(c, 400, 99991661, 'Missing access token for authorization.');
    }
    if (!authorized) return larkError(c, 400, 99991663, 'Invalid access token for authorization.');
    const failure = failures.shift();
    if (failure) record.injected = 'status' in failure ? failure.status : 'hang' in failure ? 504 : 200;
    if (failure && 'hang' in failure) {
      await new Promise<void>((resolve) => hanging.push(resolve));
      return larkError(c, 504, 1500, 'hung');
    }
    if (failure && 'status' in failure) {
      const code = failure.status === 429 ? 99991400 : failure.status >= 500 ? 1500 : 9499;
      return larkError(c, failure.status, code, `fake failure ${failure.status}`);
    }
    if (failure)
      return c.json({ code: failure.code, msg: failure.msg ?? `fake failure code ${failure.code}` });
    return next();
  });

  const bodyOf = (c: Context<Env>) => {
    const body = c.get('body');
    return (body && typeof body === 'object' ? body : {}) as Record<string, unknown>;
  };

  app.post('/open-apis/auth/v3/tenant_access_token/internal', (c) => {
    const body = bodyOf(c);
    if (body.app_id !== appId || body.app_secret !== appSecret) {
      return c.json({ code: 10014, msg: 'app secret invalid' });
    }
    return c.json({
      code: 0,
      msg: 'ok',
      tenant_access_token: tenantToken,
      expire: options.tokenExpire ?? 7200,
    });
  });

  app.post('/open-apis/im/v1/messages', (c) => {
    const receiveIdType = c.req.query('receive_id_type') ?? '';
    if (!RECEIVE_ID_TYPES.has(receiveIdType)) {
      return larkError(c, 400, 99992402, 'field validation failed: receive_id_type');
    }
    const body = bodyOf(c);
    const { receive_id: receiveId, msg_type: msgType, content, uuid } = body;
    if (typeof receiveId !== 'string' || receiveId === '') {
      return larkError(c, 400, 99992402, 'field validation failed: receive_id');
    }
    if (typeof msgType !== 'string' || typeof content !== 'string') {
      return larkError(c, 400, 99992402, 'field validation failed: msg_type/content');
    }
    const parsed = parseContent(content);
    if (parsed === undefined) return larkError(c, 400, 230001, 'invalid message content');
    if (msgType === 'interactive' && Buffer.byteLength(content) > MAX_CARD_BYTES) {
      return larkError(c, 400, 230025, 'message content is too long');
    }
    if (typeof uuid === 'string') {
      const seen = [...messages.values()].find((m) => m.uuid === uuid);
      if (seen) return c.json({ code: 0, msg: 'success', data: messageJson(seen, appId) });
    }
    const message: LarkFakeMessage = {
      messageId: `om_fake${String(nextMessage++).padStart(8, '0')}`,
      receiveIdType,
      receiveId,
      msgType,
      content: parsed,
      ...(typeof uuid === 'string' ? { uuid } : {}),
      patches: [],
    };
    messages.set(message.messageId, message);
    return c.json({ code: 0, msg: 'success', data: messageJson(message, appId) });
  });

  app.patch('/open-apis/im/v1/messages/:id', (c) => {
    const message = messages.get(c.req.param('id'));
    if (!message) return larkError(c, 400, 230001, 'message not found');
    if (message.msgType !== 'interactive') return larkError(c, 400, 230001, 'message is not a card');
    const { content } = bodyOf(c);
    if (typeof content !== 'string') return larkError(c, 400, 99992402, 'field validation failed: content');
    if (Buffer.byteLength(content) > MAX_CARD_BYTES)
      return larkError(c, 400, 230025, 'message content is too long');
    const card = parseContent(content);
    const current = message.patches.at(-1) ?? message.content;
    // Lark only updates shared cards: both the sent and the new card need update_multi.
    if (!updateMulti(current) || !updateMulti(card)) {
      return larkError(c, 400, 230099, 'card is not shared (config.update_multi must be true)');
    }
    message.patches.push(card);
    return c.json({ code: 0, msg: 'success', data: {} });
  });

  app.post('/open-apis/contact/v3/users/batch_get_id', (c) => {
    if (fake.denyContact) {
      return larkError(
        c,
        400,
        99991672,
        'Access denied. One of the following scopes is required: [contact:user.id:readonly]',
      );
    }
    const idType = c.req.query('user_id_type') ?? 'open_id';
    const emails = bodyOf(c).emails;
    if (!Array.isArray(emails)) return larkError(c, 400, 99992402, 'field validation failed: emails');
    const userList = emails.map((email) => {
      const openId =
        typeof email === 'string'
          ? [...users].find(([known]) => known.toLowerCase() === email.toLowerCase())?.[1]
          : undefined;
      const userId =
        openId && idType === 'open_id' ? openId : openId ? `fake_${idType}_${openId.slice(3)}` : undefined;
      return userId ? { email, user_id: userId } : { email };
    });
    return c.json({ code: 0, msg: 'success', data: { user_list: userList } });
  });

  app.get('/open-apis/bot/v3/info', (c) =>
    c.json({
      code: 0,
      msg: 'ok',
      bot: { activate_status: 2, app_name: 'Signoff', avatar_url: '', ip_white_list: [], open_id: botOpenId },
    }),
  );

  app.post('/open-apis/interactive/v1/card/update', (c) => {
    const { token, card } = bodyOf(c);
    if (typeof token !== 'string' || token === '')
      return larkError(c, 400, 99992402, 'field validation failed: token');
    cardUpdates.push({ token, card });
    return c.json({ code: 0, msg: 'ok' });
  });

  app.all('/open-apis/*', (c) => larkError(c, 404, 404, 'not found'));

  const { server, address } = await new Promise<{ server: ReturnType<typeof serve>; address: AddressInfo }>(
    (resolve, reject) => {
      const s = serve({ fetch: app.fetch, port: 0, hostname: '127.0.0.1' }, (info) =>
        resolve({ server: s, address: info }),
      );
      s.once('error', reject);
    },
  );

  return Object.assign(fake, {
    url: `http://127.0.0.1:${address.port}`,
    failNext(times: number, failure: LarkFakeFailure) {
      for (let i = 0; i < times; i++) failures.push(failure);
    },
    close() {
      return new Promise<void>((resolve, reject) => {
        for (const release of hanging.splice(0)) release();
        server.close((error) => (error ? reject(error) : resolve()));
        if ('closeAllConnections' in server) server.closeAllConnections();
      });
    },
  });
}

function larkError(c: Context, status: number, code: number, msg: string) {
  return c.json(
    { code, msg, error: { log_id: `fake${randomBytes(6).toString('hex')}` } },
    status as ContentfulStatusCode,
  );
}

function parseContent(content: string): unknown {
  try {
    return JSON.parse(content);
  } catch {
    return undefined;
  }
}

function updateMulti(card: unknown): boolean {
  if (!card || typeof card !== 'object') return false;
  const config = (card as { config?: { update_multi?: unknown } }).config;
  // JSON 2.0 cards are always shared.
  return config?.update_multi === true || (card as { schema?: unknown }).schema === '2.0';
}

function messageJson(m: LarkFakeMessage, appId: string) {
  return {
    message_id: m.messageId,
    chat_id: m.receiveIdType === 'chat_id' ? m.receiveId : `oc_p2p${m.receiveId.slice(3)}`,
    msg_type: m.msgType,
    create_time: '1700000000000',
    update_time: '1700000000000',
    deleted: false,
    updated: false,
    sender: { id: appId, id_type: 'app_id', sender_type: 'app', tenant_key: 'fake_tenant' },
    body: { content: JSON.stringify(m.content) },
  };
}

// ---------------------------------------------------------------------------------------------
// Callbacks as Lark sends them
// ---------------------------------------------------------------------------------------------

/** Lark's encryption: AES-256-CBC, key sha256(Encrypt Key), a random IV prepended, base64. */
export function larkEncrypt(plaintext: string, encryptKey: string): string {
  const key = createHash('sha256').update(encryptKey, 'utf8').digest();
  const iv = randomBytes(16);
  const cipher = createCipheriv('aes-256-cbc', key, iv);
  return Buffer.concat([iv, cipher.update(plaintext, 'utf8'), cipher.final()]).toString('base64');
}

export interface SignOptions {
  /** Encrypts the body and signs with sha256 over the Encrypt Key (events, 2.0 callbacks). */
  encryptKey?: string;
  /** Without an encrypt key: signs the plain body with sha1 over the token (legacy card callbacks). */
  verificationToken?: string;
  /** Unix seconds; default now. */
  timestamp?: number;
  nonce?: string;
}

/**
 * A request body and headers as Lark sends them: with `encryptKey`, `{"encrypt": …}` signed with
 * sha256(timestamp + nonce + encryptKey + body); otherwise the plain body signed with
 * sha1(timestamp + nonce + verificationToken + body), the legacy card callback scheme.
 */
export function signedLarkRequest(
  body: object,
  options: SignOptions,
): { body: string; headers: Record<string, string> } {
  const timestamp = String(options.timestamp ?? Math.floor(Date.now() / 1000));
  const nonce = options.nonce ?? randomBytes(8).toString('hex');
  let raw: string;
  let signature: string;
  if (options.encryptKey) {
    raw = JSON.stringify({ encrypt: larkEncrypt(JSON.stringify(body), options.encryptKey) });
    signature = createHash('sha256')
      .update(timestamp + nonce + options.encryptKey + raw)
      .digest('hex');
  } else if (options.verificationToken) {
    raw = JSON.stringify(body);
    signature = createHash('sha1')
      .update(timestamp + nonce + options.verificationToken + raw)
      .digest('hex');
  } else {
    throw new Error('signedLarkRequest needs an encryptKey or a verificationToken');
  }
  return {
    body: raw,
    headers: {
      'content-type': 'application/json; charset=utf-8',
      'x-lark-request-timestamp': timestamp,
      'x-lark-request-nonce': nonce,
      'x-lark-signature': signature,
    },
  };
}

/** A RawRequest for `adapter.receive` / `verifyLarkRequest` from a body and headers. */
export function rawLarkRequest(
  request: { body: string; headers?: Record<string, string> },
  now: Date = new Date(),
): RawRequest {
  const headers = new Map(Object.entries(request.headers ?? {}).map(([k, v]) => [k.toLowerCase(), v]));
  return { body: request.body, header: (name) => headers.get(name.toLowerCase()), now };
}

export interface EnvelopeOptions {
  /** The Verification Token, as Lark puts it in `header.token`. */
  token: string;
  eventId?: string;
  appId?: string;
  /** Milliseconds since the epoch, as a string in the envelope. */
  createTime?: number;
}

function envelope<E extends object>(eventType: string, event: E, options: EnvelopeOptions) {
  return {
    schema: '2.0',
    header: {
      event_id: options.eventId ?? randomBytes(16).toString('hex'),
      token: options.token,
      create_time: String(options.createTime ?? Date.now()),
      event_type: eventType,
      tenant_key: '2ca1d211f64f6438',
      app_id: options.appId ?? 'cli_a1b2c3d4e5f60789',
    },
    event,
  };
}

/** A `card.action.trigger` (schema 2.0) callback for a click on one of our buttons. */
export function cardActionEvent(
  options: EnvelopeOptions & {
    openId: string;
    value: Record<string, unknown>;
    reason?: string;
    messageId?: string;
    chatId?: string;
    /** The button's `name`. */
    name?: string;
    /** The delayed-update token (`c-…`). */
    updateToken?: string;
  },
) {
  return envelope(
    'card.action.trigger',
    {
      operator: {
        tenant_key: '2ca1d211f64f6438',
        user_id: 'e33ggbyz',
        open_id: options.openId,
        union_id: 'on_8ed6aa67826108097d9ee143816345',
      },
      token: options.updateToken ?? 'c-295ee57216a5dc9de90fefd0aadb4b1d7d337fc6',
      action: {
        value: options.value,
        tag: 'button',
        ...(options.name ? { name: options.name } : {}),
        ...(options.reason !== undefined ? { form_value: { reason: options.reason } } : {}),
      },
      host: 'im_message',
      context: {
        open_message_id: options.messageId ?? 'om_x100b4b2e4d6f1c3b0e7e3b1e2c0b5a3d',
        open_chat_id: options.chatId ?? 'oc_a0553eda9014c201e6969b478895c230',
      },
    },
    options,
  );
}

/** The flat legacy card callback (the old "Message Card Request URL"). */
export function legacyCardCallback(options: {
  openId: string;
  value: Record<string, unknown>;
  reason?: string;
  messageId?: string;
  updateToken?: string;
}) {
  return {
    open_id: options.openId,
    user_id: 'e33ggbyz',
    open_message_id: options.messageId ?? 'om_x100b4b2e4d6f1c3b0e7e3b1e2c0b5a3d',
    tenant_key: '2ca1d211f64f6438',
    token: options.updateToken ?? 'c-295ee57216a5dc9de90fefd0aadb4b1d7d337fc6',
    action: {
      value: options.value,
      tag: 'button',
      ...(options.reason !== undefined ? { form_value: { reason: options.reason } } : {}),
    },
  };
}

/** An `im.message.receive_v1` text message. `mentions` open_ids become `@_user_N` in the text's order. */
export function messageEvent(
  options: EnvelopeOptions & {
    text: string;
    openId: string;
    chatType: 'p2p' | 'group';
    chatId?: string;
    messageId?: string;
    mentions?: Array<{ openId: string; name: string }>;
  },
) {
  const mentions = (options.mentions ?? []).map((m, i) => ({
    key: `@_user_${i + 1}`,
    id: { union_id: 'on_8ed6aa67826108097d9ee143816345', user_id: null, open_id: m.openId },
    name: m.name,
    tenant_key: '2ca1d211f64f6438',
  }));
  const prefix = mentions.map((m) => `${m.key} `).join('');
  return envelope(
    'im.message.receive_v1',
    {
      sender: {
        sender_id: { union_id: 'on_8ed6aa67826108097d9ee143816345', user_id: null, open_id: options.openId },
        sender_type: 'user',
        tenant_key: '2ca1d211f64f6438',
      },
      message: {
        message_id: options.messageId ?? `om_${randomBytes(16).toString('hex')}`,
        root_id: '',
        parent_id: '',
        create_time: '1609073151345',
        update_time: '1609073151345',
        chat_id: options.chatId ?? 'oc_5ce6d572455d361153b7cb51da133945',
        thread_id: '',
        chat_type: options.chatType,
        message_type: 'text',
        content: JSON.stringify({ text: `${prefix}${options.text}` }),
        mentions,
        user_agent: 'Mozilla/5.0 Lark/7.20.0',
      },
    },
    options,
  );
}

/** The `url_verification` challenge Lark posts when the request URL is saved. */
export function urlVerification(options: { token: string; challenge?: string }) {
  return {
    challenge: options.challenge ?? `ajls384kdjx98XX${randomBytes(4).toString('hex')}`,
    token: options.token,
    type: 'url_verification',
  };
}
