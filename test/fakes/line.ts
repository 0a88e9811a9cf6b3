/**
 * A wire-true stand-in for the LINE Messaging API calls Signoff makes through @line/bot-sdk
 * (reply, push, profile), plus builders for the webhooks LINE sends, signed exactly as LINE
 * signs them, so tests exercise the real SDK and the real verification code.
 *
 * Faithful to platforms.md §2: Bearer channel access token; reply tokens single use; a retry
 * key only on push (400 on reply), a repeated key answers 409 with
 * `x-line-accepted-request-id`; ≤ 5 messages; text ≤ 5000; altText ≤ 400; postback data ≤ 300;
 * action labels ≤ 20 grapheme clusters; bubble ≤ 30 KB; quick replies ≤ 13 action items;
 * `x-line-request-id` on every answer.
 * Error message wording is close to LINE's but not copied from it [unverified]; tests assert on
 * our handling, not on the words.
 */
import { createHmac, randomBytes } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import { serve } from '@hono/node-server';
import { type Context, Hono } from 'hono';
import type { ContentfulStatusCode } from 'hono/utils/http-status';
import type { RawRequest } from '../../core/chat.ts';

export interface LineRecordedRequest {
  method: string;
  path: string;
  /** Lower-cased header names; the Authorization value is replaced by `[redacted]`. */
  headers: Record<string, string>;
  body: unknown;
  /** True when the request carried the fake's channel access token. */
  authorized: boolean;
  /** The HTTP status the fake answered with. */
  status?: number;
}

export interface LineSentMessage {
  id: string;
  quoteToken: string;
  /** `reply` (with its token) or `push` (with its recipient). */
  via: 'reply' | 'push';
  to?: string;
  replyToken?: string;
  retryKey?: string;
  message: Record<string, unknown>;
}

export interface LineFakeProfile {
  displayName: string;
  pictureUrl?: string;
  statusMessage?: string;
  language?: string;
}

export interface LineFake {
  url: string;
  channelAccessToken: string;
  channelSecret: string;
  /** The bot's own user id (`destination` in webhooks). */
  botUserId: string;
  requests: LineRecordedRequest[];
  /** Every message accepted, in order. */
  messages: LineSentMessage[];
  /** userId → profile; unknown ids answer 404. */
  profiles: Map<string, LineFakeProfile>;
  /** Marks a reply token as expired (the next reply with it answers 400). */
  expireReplyToken(token: string): void;
  /** The next `times` API calls fail with `status` and a LINE-shaped error body. */
  failNext(times: number, status: number): void;
  /** The next `times` API calls never answer (until the client gives up or the fake closes). */
  hangNext(times: number): void;
  close(): Promise<void>;
}

export interface LineFakeOptions {
  channelAccessToken?: string;
  channelSecret?: string;
  botUserId?: string;
}

type Env = { Variables: { body: unknown; requestId: string } };

const MAX_MESSAGES = 5;
const MAX_TEXT = 5000;
const MAX_ALT_TEXT = 400;
const MAX_DATA = 300;
const MAX_LABEL = 20;
const MAX_DISPLAY_TEXT = 300;
const MAX_QUICK_REPLY_ITEMS = 13;
const MAX_BUBBLE_BYTES = 30 * 1024;
const LINE_ID = /^[UCR][0-9a-f]{32}$/;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** Starts the fake on 127.0.0.1, port 0. */
export async function startLineFake(options: LineFakeOptions = {}): Promise<LineFake> {
  const channelAccessToken =
    options.channelAccessToken ?? `fake-line-token-${randomBytes(16).toString('hex')}`;
  const channelSecret = options.channelSecret ?? randomBytes(16).toString('hex');
  const botUserId = options.botUserId ?? lineId('U');
  const requests: LineRecordedRequest[] = [];
  const messages: LineSentMessage[] = [];
  const profiles = new Map<string, LineFakeProfile>();
  const usedReplyTokens = new Set<string>();
  const expiredReplyTokens = new Set<string>();
  const acceptedRetryKeys = new Map<string, { requestId: string; sent: LineSentMessage[] }>();
  const failures: Array<number | 'hang'> = [];
  const hanging: Array<() => void> = [];

  const app = new Hono<Env>();

  app.use('*', async (c, next) => {
    const headers: Record<string, string> = {};
    c.req.raw.headers.forEach((value, key) => {
      headers[key] = key === 'authorization' ? '[redacted]' : value;
    });
    let body: unknown;
    if (c.req.method === 'POST') {
      const text = await c.req.text();
      try {
        body = text ? JSON.parse(text) : undefined;
      } catch {
        body = text;
      }
    }
    const authorized = c.req.header('authorization') === `Bearer ${channelAccessToken}`;
    const record: LineRecordedRequest = { method: c.req.method, path: c.req.path, headers, body, authorized };
    requests.push(record);
    c.set('body', body);
    const id = requestId();
    c.set('requestId', id);
    c.header('x-line-request-id', id);
    const failure = failures.shift();
    if (failure === 'hang') {
      record.status = 504;
      await new Promise<void>((resolve) => hanging.push(resolve));
      return c.json({ message: 'hung' }, 504);
    }
    if (failure !== undefined) {
      record.status = failure;
      return c.json({ message: failureMessage(failure) }, failure as ContentfulStatusCode);
    }
    if (!authorized) {
      record.status = 401;
      return c.json(
        {
          message:
            'Authentication failed. Confirm that the access token in the authorization header is valid.',
        },
        401,
      );
    }
    await next();
    record.status = c.res.status;
  });

  app.post('/v2/bot/message/reply', (c) => {
    if (c.req.header('x-line-retry-key') !== undefined) {
      return c.json({ message: 'The retry key cannot be specified for this API' }, 400);
    }
    const body = asObject(c.get('body'));
    const replyToken = typeof body.replyToken === 'string' ? body.replyToken : '';
    if (!replyToken) return invalid(c, 'replyToken', 'must be specified');
    const problem = checkMessages(body.messages);
    if (problem) return invalid(c, problem.property, problem.message);
    if (usedReplyTokens.has(replyToken) || expiredReplyTokens.has(replyToken)) {
      return c.json({ message: 'Invalid reply token' }, 400);
    }
    usedReplyTokens.add(replyToken);
    const sent = (body.messages as Array<Record<string, unknown>>).map((message) =>
      record({ via: 'reply', replyToken, message }),
    );
    return c.json({ sentMessages: sent.map(({ id, quoteToken }) => ({ id, quoteToken })) });
  });

  app.post('/v2/bot/message/push', (c) => {
    const retryKey = c.req.header('x-line-retry-key');
    if (retryKey !== undefined && !UUID.test(retryKey)) {
      return c.json({ message: 'The value of the X-Line-Retry-Key header is invalid' }, 400);
    }
    const body = asObject(c.get('body'));
    const to = typeof body.to === 'string' ? body.to : '';
    if (!LINE_ID.test(to)) return invalid(c, 'to', "The property, 'to', in the request body is invalid");
    const problem = checkMessages(body.messages);
    if (problem) return invalid(c, problem.property, problem.message);
    if (retryKey !== undefined) {
      const accepted = acceptedRetryKeys.get(retryKey.toLowerCase());
      if (accepted) {
        c.header('x-line-accepted-request-id', accepted.requestId);
        return c.json(
          {
            message: 'The retry key is already accepted',
            sentMessages: accepted.sent.map(({ id, quoteToken }) => ({ id, quoteToken })),
          },
          409,
        );
      }
    }
    const sent = (body.messages as Array<Record<string, unknown>>).map((message) =>
      record({ via: 'push', to, ...(retryKey ? { retryKey } : {}), message }),
    );
    if (retryKey !== undefined) {
      acceptedRetryKeys.set(retryKey.toLowerCase(), {
        requestId: c.get('requestId'),
        sent,
      });
    }
    return c.json({ sentMessages: sent.map(({ id, quoteToken }) => ({ id, quoteToken })) });
  });

  app.get('/v2/bot/profile/:userId', (c) => {
    const userId = c.req.param('userId');
    const profile = profiles.get(userId);
    if (!profile) return c.json({ message: 'Not found' }, 404);
    return c.json({ userId, ...profile });
  });

  app.notFound((c) => c.json({ message: 'Not found' }, 404));

  function record(entry: Omit<LineSentMessage, 'id' | 'quoteToken'>): LineSentMessage {
    const sent: LineSentMessage = {
      id: messageId(),
      quoteToken: randomBytes(24).toString('base64url'),
      ...entry,
    };
    messages.push(sent);
    return sent;
  }

  const server = serve({ fetch: app.fetch, port: 0, hostname: '127.0.0.1' });
  await new Promise<void>((resolve) => server.once('listening', () => resolve()));
  const { port } = server.address() as AddressInfo;

  return {
    url: `http://127.0.0.1:${port}`,
    channelAccessToken,
    channelSecret,
    botUserId,
    requests,
    messages,
    profiles,
    expireReplyToken(token) {
      expiredReplyTokens.add(token);
    },
    failNext(times, status) {
      for (let i = 0; i < times; i += 1) failures.push(status);
    },
    hangNext(times) {
      for (let i = 0; i < times; i += 1) failures.push('hang');
    },
    close: () =>
      new Promise<void>((resolve, reject) => {
        for (const release of hanging.splice(0)) release();
        server.close((error) => (error ? reject(error) : resolve()));
        (server as { closeAllConnections?: () => void }).closeAllConnections?.();
      }),
  };
}

function invalid(c: Context<Env>, property: string, message: string) {
  return c.json({ message: 'The request body has 1 error(s)', details: [{ message, property }] }, 400);
}

function failureMessage(status: number): string {
  if (status === 429) return 'The API rate limit has been exceeded. Try again later.';
  if (status >= 500) return 'Internal server error';
  return 'Request failed';
}

/** Checks the messages array as LINE would; returns the first problem. */
function checkMessages(value: unknown): { property: string; message: string } | undefined {
  if (!Array.isArray(value) || value.length === 0)
    return { property: 'messages', message: 'must be specified' };
  if (value.length > MAX_MESSAGES)
    return { property: 'messages', message: `Size must be between 1 and ${MAX_MESSAGES}` };
  for (const [i, raw] of value.entries()) {
    const message = asObject(raw);
    const at = `messages[${i}]`;
    if (message.type === 'text') {
      if (typeof message.text !== 'string' || message.text.length === 0)
        return { property: `${at}.text`, message: 'must be specified' };
      if (message.text.length > MAX_TEXT)
        return { property: `${at}.text`, message: `Length must be between 0 and ${MAX_TEXT}` };
    } else if (message.type === 'flex') {
      if (typeof message.altText !== 'string' || message.altText.length === 0)
        return { property: `${at}.altText`, message: 'must be specified' };
      if (message.altText.length > MAX_ALT_TEXT)
        return { property: `${at}.altText`, message: `Length must be between 0 and ${MAX_ALT_TEXT}` };
      const contents = asObject(message.contents);
      if (contents.type !== 'bubble' && contents.type !== 'carousel')
        return { property: `${at}.contents.type`, message: 'invalid' };
      if (Buffer.byteLength(JSON.stringify(contents), 'utf8') > MAX_BUBBLE_BYTES)
        return { property: `${at}.contents`, message: 'Size must be 30 KB or less' };
      const problem = checkFlex(contents, `${at}.contents`);
      if (problem) return problem;
    } else {
      return { property: `${at}.type`, message: 'The fake handles only text and flex messages' };
    }
    if (message.quickReply !== undefined) {
      const problem = checkQuickReply(asObject(message.quickReply), `${at}.quickReply`);
      if (problem) return problem;
    }
  }
  return undefined;
}

/** Quick reply buttons: 1 to 13 items, each `{type: "action", action}` within the action limits. */
function checkQuickReply(
  quickReply: Record<string, unknown>,
  path: string,
): { property: string; message: string } | undefined {
  const items = quickReply.items;
  if (!Array.isArray(items) || items.length === 0 || items.length > MAX_QUICK_REPLY_ITEMS)
    return { property: `${path}.items`, message: `Size must be between 1 and ${MAX_QUICK_REPLY_ITEMS}` };
  for (const [i, raw] of items.entries()) {
    const item = asObject(raw);
    if (item.type !== 'action') return { property: `${path}.items[${i}].type`, message: 'must be action' };
    const action = asObject(item.action);
    if (typeof action.label !== 'string' || action.label === '')
      return { property: `${path}.items[${i}].action.label`, message: 'must be specified' };
    const problem = checkAction(action, `${path}.items[${i}].action`);
    if (problem) return problem;
  }
  return undefined;
}

/** Walks a Flex container: texts non-empty, actions within their limits. */
function checkFlex(node: unknown, path: string): { property: string; message: string } | undefined {
  if (Array.isArray(node)) {
    for (const [i, child] of node.entries()) {
      const problem = checkFlex(child, `${path}[${i}]`);
      if (problem) return problem;
    }
    return undefined;
  }
  if (node === null || typeof node !== 'object') return undefined;
  const obj = node as Record<string, unknown>;
  if (obj.type === 'text' && !('contents' in obj) && (typeof obj.text !== 'string' || obj.text === '')) {
    return { property: `${path}.text`, message: 'must be non-empty' };
  }
  if ('action' in obj && obj.action !== undefined) {
    const problem = checkAction(asObject(obj.action), `${path}.action`);
    if (problem) return problem;
  }
  for (const [key, value] of Object.entries(obj)) {
    if (key === 'action') continue;
    if (value && typeof value === 'object') {
      const problem = checkFlex(value, `${path}.${key}`);
      if (problem) return problem;
    }
  }
  return undefined;
}

function checkAction(
  action: Record<string, unknown>,
  path: string,
): { property: string; message: string } | undefined {
  const label = typeof action.label === 'string' ? action.label : '';
  if (graphemes(label) > MAX_LABEL)
    return { property: `${path}.label`, message: `Length must be between 0 and ${MAX_LABEL}` };
  if (action.type === 'postback') {
    if (typeof action.data !== 'string' || action.data.length === 0 || action.data.length > MAX_DATA) {
      return { property: `${path}.data`, message: `Length must be between 1 and ${MAX_DATA}` };
    }
    if (typeof action.displayText === 'string' && graphemes(action.displayText) > MAX_DISPLAY_TEXT) {
      return { property: `${path}.displayText`, message: `Length must be between 0 and ${MAX_DISPLAY_TEXT}` };
    }
  } else if (action.type === 'uri') {
    const uri = typeof action.uri === 'string' ? action.uri : '';
    if (!/^(https?|line|tel):/.test(uri) || uri.length > 1000)
      return { property: `${path}.uri`, message: 'invalid uri' };
  } else {
    return { property: `${path}.type`, message: 'The fake handles only postback and uri actions' };
  }
  return undefined;
}

const segmenter = new Intl.Segmenter(undefined, { granularity: 'grapheme' });
function graphemes(text: string): number {
  return [...segmenter.segment(text)].length;
}

function asObject(value: unknown): Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value)
    ? (value as Record<string, unknown>)
    : {};
}

function requestId(): string {
  return randomBytes(16)
    .toString('hex')
    .replace(/^(.{8})(.{4})(.{4})(.{4})(.{12})$/, '$1-$2-$3-$4-$5');
}

function messageId(): string {
  return String(BigInt(`0x${randomBytes(7).toString('hex')}`) + 100_000_000_000_000_000n);
}

// ───────────────────────── webhook builders ─────────────────────────

/** A LINE id: U (user), C (group) or R (room) and 32 hex digits. */
export function lineId(prefix: 'U' | 'C' | 'R'): string {
  return `${prefix}${randomBytes(16).toString('hex')}`;
}

const CROCKFORD = '0123456789ABCDEFGHJKMNPQRSTVWXYZ';
/** A ULID, as LINE uses for webhookEventId (26 Crockford base32 characters, time first). */
export function ulid(time = Date.now()): string {
  let out = '';
  let t = time;
  for (let i = 0; i < 10; i += 1) {
    out = (CROCKFORD[t % 32] ?? '0') + out;
    t = Math.floor(t / 32);
  }
  for (const byte of randomBytes(16)) out += CROCKFORD[byte % 32];
  return out;
}

/** A reply token as LINE hands them out (32 hex characters). */
export function replyToken(): string {
  return randomBytes(16).toString('hex');
}

/** LINE's signature: base64 HMAC-SHA256 of the exact body bytes with the channel secret. */
export function signLineBody(body: string, secret: string): string {
  return createHmac('sha256', secret).update(body, 'utf8').digest('base64');
}

export interface LineEventOptions {
  userId?: string;
  /** In a group (or room): the source is the group, with `userId` when given. */
  groupId?: string;
  roomId?: string;
  /** Omit the userId from the source (a group member who did not consent). */
  withoutUserId?: boolean;
  replyToken?: string;
  webhookEventId?: string;
  isRedelivery?: boolean;
  mode?: 'active' | 'standby';
  timestamp?: number;
}

function common(options: LineEventOptions) {
  const userId = options.withoutUserId ? undefined : (options.userId ?? lineId('U'));
  const source = options.groupId
    ? { type: 'group', groupId: options.groupId, ...(userId ? { userId } : {}) }
    : options.roomId
      ? { type: 'room', roomId: options.roomId, ...(userId ? { userId } : {}) }
      : { type: 'user', ...(userId ? { userId } : {}) };
  const timestamp = options.timestamp ?? Date.now();
  const mode = options.mode ?? 'active';
  return {
    ...(mode === 'active' ? { replyToken: options.replyToken ?? replyToken() } : {}),
    mode,
    timestamp,
    source,
    webhookEventId: options.webhookEventId ?? ulid(timestamp),
    deliveryContext: { isRedelivery: options.isRedelivery ?? false },
  };
}

/**
 * A text message event. `mentionBot` (with `botUserId`) prefixes `@Signoff ` and lists it as an
 * `isSelf` mentionee, as LINE ≥ 14.17 does; `mentions` adds other mentionees.
 */
export function lineTextEvent(
  text: string,
  options: LineEventOptions & {
    mentionBot?: { botUserId: string; displayName?: string };
    mentions?: Array<{ index: number; length: number; userId?: string; type?: 'user' | 'all' }>;
  } = {},
): Record<string, unknown> {
  let fullText = text;
  const mentionees: Array<Record<string, unknown>> = [];
  if (options.mentionBot) {
    const tag = `@${options.mentionBot.displayName ?? 'Signoff'}`;
    fullText = `${tag} ${text}`;
    mentionees.push({
      index: 0,
      length: tag.length,
      type: 'user',
      userId: options.mentionBot.botUserId,
      isSelf: true,
    });
  }
  const shift = fullText.length - text.length;
  for (const m of options.mentions ?? []) {
    mentionees.push({
      index: m.index + shift,
      length: m.length,
      type: m.type ?? 'user',
      ...(m.type === 'all' ? {} : { userId: m.userId ?? lineId('U'), isSelf: false }),
    });
  }
  return {
    type: 'message',
    message: {
      id: messageId(),
      type: 'text',
      quoteToken: randomBytes(24).toString('base64url'),
      text: fullText,
      ...(mentionees.length > 0 ? { mention: { mentionees } } : {}),
    },
    ...common(options),
  };
}

/** A postback event (a button click) carrying `data`. */
export function linePostbackEvent(data: string, options: LineEventOptions = {}): Record<string, unknown> {
  return { type: 'postback', postback: { data }, ...common(options) };
}

/** Any other event type (follow, join, unsend, …), shaped like the rest. */
export function lineEvent(type: string, options: LineEventOptions = {}, extra: Record<string, unknown> = {}) {
  return { type, ...common(options), ...extra };
}

/** The webhook body: `{destination, events}` (an empty `events` is LINE's connectivity check). */
export function lineWebhook(
  events: unknown[],
  destination: string = lineId('U'),
): {
  destination: string;
  events: unknown[];
} {
  return { destination, events };
}

/** A signed RawRequest as the route hands it to the adapter. */
export function signedLineRequest(
  body: string | object,
  secret: string,
  options: { now?: Date; signature?: string | null } = {},
): RawRequest {
  const text = typeof body === 'string' ? body : JSON.stringify(body);
  const signature = options.signature === undefined ? signLineBody(text, secret) : options.signature;
  const headers: Record<string, string> = { 'content-type': 'application/json' };
  if (signature !== null) headers['x-line-signature'] = signature;
  return {
    body: text,
    header: (name) => headers[name.toLowerCase()],
    now: options.now ?? new Date(),
  };
}
