/**
 * A wire-true stand-in for the DingTalk OpenAPI calls Signoff makes (access token, robot
 * batchSend and group send, card createAndDeliver and PUT card instances, session webhooks)
 * and for Stream mode (the `connections/open` gateway and its WebSocket, pushing CALLBACK
 * frames and waiting for the client's acknowledgement), plus builders for robot deliveries
 * signed exactly as DingTalk signs them.
 *
 * Faithful to platforms.md §4/§9: `x-acs-dingtalk-access-token` on every call but the token;
 * `{accessToken, expireIn}`; errors `{code, message, requestid}` with a 4xx/5xx status (401
 * `InvalidAuthentication` for a bad token); `msgParam` a JSON string; ≤ 20 userIds; card
 * params strings only; `openSpaceId` `dtv1.card//IM_ROBOT.<userId>` or `…IM_GROUP.<cid>`.
 * Error codes other than InvalidAuthentication, and the session webhook's errcode for an
 * unknown session, are [unverified]: tests assert on our handling, not on the words.
 */
import { createHmac, randomBytes } from 'node:crypto';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { serve } from '@hono/node-server';
import { type Context, Hono } from 'hono';
import type { ContentfulStatusCode } from 'hono/utils/http-status';
import { type WebSocket, WebSocketServer } from 'ws';

export interface DingTalkRecordedRequest {
  method: string;
  path: string;
  body: unknown;
  /** True when the request carried a valid access token. */
  authorized: boolean;
  status?: number;
}

export interface DingTalkSentMessage {
  via: 'batchSend' | 'group' | 'session';
  /** Staff id (batchSend), openConversationId (group) or the session (session webhook). */
  to: string;
  msgKey: string;
  msgParam: Record<string, unknown>;
  processQueryKey: string;
}

export interface DingTalkFakeCard {
  outTrackId: string;
  cardTemplateId: string;
  callbackType: string;
  openSpaceId: string;
  params: Record<string, string>;
  /** Every PUT's cardParamMap, in order. */
  updates: Array<Record<string, string>>;
}

export interface DingTalkStreamAck {
  code: number;
  headers: Record<string, string>;
  message: string;
  data: string;
}

export interface DingTalkFake {
  url: string;
  appKey: string;
  appSecret: string;
  robotCode: string;
  cardTemplateId: string;
  corpId: string;
  requests: DingTalkRecordedRequest[];
  messages: DingTalkSentMessage[];
  cards: Map<string, DingTalkFakeCard>;
  /** Tokens handed out so far. */
  tokensIssued(): number;
  /** Every issued token stops working (the next call answers 401). */
  revokeTokens(): void;
  /**
   * The next `times` API calls (to paths ending in `path` only, if given, e.g.
   * `/card/instances/createAndDeliver`) fail with `status` and a DingTalk-shaped error body.
   */
  failNext(times: number, status: number, path?: string): void;
  /** The next `times` API calls (to paths ending in `path` only, if given) never answer (until the client gives up or the fake closes). */
  hangNext(times: number, path?: string): void;
  /** A session webhook for a robot message, valid until `expiresAt` (ms). */
  sessionWebhook(expiresAt: number): string;
  /** Resolves once a Stream client has connected (and subscribed). */
  streamConnected(): Promise<void>;
  /** Push a CALLBACK frame on `topic`; resolves with the client's acknowledgement. */
  push(topic: string, data: object, messageId?: string): Promise<DingTalkStreamAck>;
  close(): Promise<void>;
}

export interface DingTalkFakeOptions {
  appKey?: string;
  appSecret?: string;
  robotCode?: string;
  cardTemplateId?: string;
  corpId?: string;
}

type Env = { Variables: { body: unknown } };

const MAX_USER_IDS = 20;
const MSG_KEYS: Record<string, string[]> = {
  sampleText: ['content'],
  sampleMarkdown: ['title', 'text'],
  sampleActionCard: ['title', 'text', 'singleTitle', 'singleURL'],
  sampleActionCard2: ['title', 'text', 'actionTitle1', 'actionURL1', 'actionTitle2', 'actionURL2'],
};
const SPACE = /^dtv1\.card\/\/(IM_ROBOT|IM_GROUP)\.(.+)$/;

/** Starts the fake on 127.0.0.1, port 0. */
export async function startDingTalkFake(options: DingTalkFakeOptions = {}): Promise<DingTalkFake> {
  const appKey = options.appKey ?? `ding${randomBytes(8).toString('hex')}`;
  const appSecret = options.appSecret ?? randomBytes(32).toString('base64url');
  const robotCode = options.robotCode ?? appKey;
  const cardTemplateId = options.cardTemplateId ?? `${randomBytes(8).toString('hex')}.schema`;
  const corpId = options.corpId ?? `ding${randomBytes(8).toString('hex')}`;
  const requests: DingTalkRecordedRequest[] = [];
  const messages: DingTalkSentMessage[] = [];
  const cards = new Map<string, DingTalkFakeCard>();
  const tokens = new Set<string>();
  let issued = 0;
  const sessions = new Map<string, number>();
  const failures: Array<{ status: number | 'hang'; path?: string }> = [];
  const hanging: Array<() => void> = [];
  const tickets = new Set<string>();
  let socket: WebSocket | undefined;
  let connected: (() => void) | undefined;
  let whenConnected = new Promise<void>((resolve) => {
    connected = resolve;
  });
  const acks = new Map<string, (ack: DingTalkStreamAck) => void>();

  const app = new Hono<Env>();

  app.use('*', async (c, next) => {
    let body: unknown;
    if (c.req.method === 'POST' || c.req.method === 'PUT') {
      const text = await c.req.text();
      try {
        body = text ? JSON.parse(text) : undefined;
      } catch {
        body = text;
      }
    }
    const token = c.req.header('x-acs-dingtalk-access-token');
    const record: DingTalkRecordedRequest = {
      method: c.req.method,
      path: c.req.path,
      body,
      authorized: token !== undefined && tokens.has(token),
    };
    requests.push(record);
    c.set('body', body);
    const at = failures.findIndex((f) => f.path === undefined || c.req.path.endsWith(f.path));
    const failure = at >= 0 ? failures.splice(at, 1)[0]?.status : undefined;
    if (failure === 'hang') {
      record.status = 504;
      await new Promise<void>((resolve) => hanging.push(resolve));
      return error(c, 504, 'GatewayTimeout', 'hung');
    }
    if (failure !== undefined) {
      record.status = failure;
      return error(c, failure, failure === 429 ? 'Throttling' : 'ServiceUnavailable', 'injected failure');
    }
    const open =
      c.req.path === '/v1.0/oauth2/accessToken' ||
      c.req.path === '/v1.0/gateway/connections/open' ||
      c.req.path === '/robot/sendBySession';
    if (!open && !record.authorized) {
      record.status = 401;
      return error(c, 401, 'InvalidAuthentication', '不合法的access_token');
    }
    await next();
    record.status = c.res.status;
  });

  app.post('/v1.0/oauth2/accessToken', (c) => {
    const body = asObject(c.get('body'));
    if (body.appKey !== appKey || body.appSecret !== appSecret) {
      return error(c, 400, 'invalidClientIdOrSecret', '无效的clientId或clientSecret');
    }
    const token = randomBytes(16).toString('hex');
    tokens.add(token);
    issued += 1;
    return c.json({ accessToken: token, expireIn: 7200 });
  });

  app.post('/v1.0/robot/oToMessages/batchSend', (c) => {
    const body = asObject(c.get('body'));
    if (body.robotCode !== robotCode) return error(c, 400, 'resource.not.found', 'robot 不存在');
    const userIds = body.userIds;
    if (!Array.isArray(userIds) || userIds.length === 0 || userIds.length > MAX_USER_IDS) {
      return error(c, 400, 'InvalidParameter', `userIds must hold 1 to ${MAX_USER_IDS} staff ids`);
    }
    const msgParam = readMsgParam(body);
    if (typeof msgParam === 'string') return error(c, 400, 'InvalidParameter', msgParam);
    const processQueryKey = randomBytes(12).toString('base64');
    for (const to of userIds) {
      messages.push({
        via: 'batchSend',
        to: String(to),
        msgKey: String(body.msgKey),
        msgParam,
        processQueryKey,
      });
    }
    return c.json({ processQueryKey, invalidStaffIdList: [], flowControlledStaffIdList: [] });
  });

  app.post('/v1.0/robot/groupMessages/send', (c) => {
    const body = asObject(c.get('body'));
    if (body.robotCode !== robotCode) return error(c, 400, 'resource.not.found', 'robot 不存在');
    if (typeof body.openConversationId !== 'string' || !body.openConversationId) {
      return error(c, 400, 'InvalidParameter', 'openConversationId is required');
    }
    const msgParam = readMsgParam(body);
    if (typeof msgParam === 'string') return error(c, 400, 'InvalidParameter', msgParam);
    const processQueryKey = randomBytes(12).toString('base64');
    messages.push({
      via: 'group',
      to: body.openConversationId,
      msgKey: String(body.msgKey),
      msgParam,
      processQueryKey,
    });
    return c.json({ processQueryKey });
  });

  app.post('/v1.0/card/instances/createAndDeliver', (c) => {
    const body = asObject(c.get('body'));
    if (body.cardTemplateId !== cardTemplateId)
      return error(c, 400, 'InvalidParameter', 'cardTemplateId not found');
    const outTrackId = typeof body.outTrackId === 'string' ? body.outTrackId : '';
    if (!outTrackId) return error(c, 400, 'InvalidParameter', 'outTrackId is required');
    if (cards.has(outTrackId)) return error(c, 400, 'InvalidParameter', 'outTrackId already exists');
    const callbackType = body.callbackType;
    if (
      callbackType !== 'STREAM' &&
      !(callbackType === 'HTTP' && typeof body.callbackRouteKey === 'string')
    ) {
      return error(
        c,
        400,
        'InvalidParameter',
        'callbackType must be STREAM, or HTTP with a callbackRouteKey',
      );
    }
    const params = stringParams(asObject(body.cardData).cardParamMap);
    if (!params) return error(c, 400, 'InvalidParameter', 'cardData.cardParamMap values must be strings');
    const openSpaceId = typeof body.openSpaceId === 'string' ? body.openSpaceId : '';
    const space = SPACE.exec(openSpaceId);
    if (!space) return error(c, 400, 'InvalidParameter', 'openSpaceId is invalid');
    const [, spaceType = '', spaceId = ''] = space;
    const deliver =
      spaceType === 'IM_ROBOT'
        ? asObject(body.imRobotOpenDeliverModel)
        : asObject(body.imGroupOpenDeliverModel);
    if (deliver.robotCode !== robotCode || (spaceType === 'IM_ROBOT' && deliver.spaceType !== 'IM_ROBOT')) {
      return error(
        c,
        400,
        'InvalidParameter',
        `${spaceType} deliver model is missing or names another robot`,
      );
    }
    cards.set(outTrackId, { outTrackId, cardTemplateId, callbackType, openSpaceId, params, updates: [] });
    return c.json({
      success: true,
      result: {
        outTrackId,
        deliverResults: [{ spaceType, spaceId, success: true, carrierId: randomBytes(8).toString('hex') }],
      },
    });
  });

  app.put('/v1.0/card/instances', (c) => {
    const body = asObject(c.get('body'));
    const card = typeof body.outTrackId === 'string' ? cards.get(body.outTrackId) : undefined;
    if (!card) return error(c, 400, 'InvalidParameter', 'card instance not found');
    const params = stringParams(asObject(body.cardData).cardParamMap);
    if (!params) return error(c, 400, 'InvalidParameter', 'cardData.cardParamMap values must be strings');
    const byKey = asObject(body.cardUpdateOptions).updateCardDataByKey === true;
    card.params = byKey ? { ...card.params, ...params } : params;
    card.updates.push(params);
    return c.json({ success: true, result: true });
  });

  app.post('/robot/sendBySession', (c) => {
    const session = c.req.query('session') ?? '';
    const until = sessions.get(session);
    if (until === undefined || until <= Date.now()) {
      return c.json({ errcode: 300001, errmsg: 'session 不存在或已过期' });
    }
    const body = asObject(c.get('body'));
    const msgtype = String(body.msgtype ?? '');
    const content = asObject(body[msgtype]);
    if (!msgtype || Object.keys(content).length === 0)
      return c.json({ errcode: 40035, errmsg: '缺少参数 json' });
    messages.push({ via: 'session', to: session, msgKey: msgtype, msgParam: content, processQueryKey: '' });
    return c.json({ errcode: 0, errmsg: 'ok' });
  });

  app.post('/v1.0/gateway/connections/open', (c) => {
    const body = asObject(c.get('body'));
    if (body.clientId !== appKey || body.clientSecret !== appSecret) {
      return error(c, 401, 'InvalidAuthentication', 'clientId or clientSecret is wrong');
    }
    const ticket = randomBytes(16).toString('hex');
    tickets.add(ticket);
    return c.json({ endpoint: `ws://127.0.0.1:${port}/connect`, ticket });
  });

  app.notFound((c) => error(c, 404, 'NotFound', `no such API: ${c.req.method} ${c.req.path}`));

  const server = serve({ fetch: app.fetch, port: 0, hostname: '127.0.0.1' }) as Server;
  await new Promise<void>((resolve) => server.once('listening', () => resolve()));
  const { port } = server.address() as AddressInfo;

  const wss = new WebSocketServer({ server, path: '/connect' });
  wss.on('connection', (ws, request) => {
    const ticket = new URL(request.url ?? '', 'ws://x').searchParams.get('ticket') ?? '';
    if (!tickets.delete(ticket)) {
      ws.close(4001, 'invalid ticket');
      return;
    }
    socket = ws;
    ws.on('message', (raw) => {
      let frame: DingTalkStreamAck;
      try {
        frame = JSON.parse(String(raw)) as DingTalkStreamAck;
      } catch {
        return;
      }
      const messageId = frame.headers?.messageId;
      const resolve = messageId ? acks.get(messageId) : undefined;
      if (messageId && resolve) {
        acks.delete(messageId);
        resolve(frame);
      }
    });
    connected?.();
  });

  return {
    url: `http://127.0.0.1:${port}`,
    appKey,
    appSecret,
    robotCode,
    cardTemplateId,
    corpId,
    requests,
    messages,
    cards,
    tokensIssued: () => issued,
    revokeTokens() {
      tokens.clear();
    },
    failNext(times, status, path) {
      for (let i = 0; i < times; i += 1) failures.push({ status, ...(path ? { path } : {}) });
    },
    hangNext(times, path) {
      for (let i = 0; i < times; i += 1) failures.push({ status: 'hang', ...(path ? { path } : {}) });
    },
    sessionWebhook(expiresAt) {
      const session = randomBytes(16).toString('hex');
      sessions.set(session, expiresAt);
      return `http://127.0.0.1:${port}/robot/sendBySession?session=${session}`;
    },
    streamConnected: () => whenConnected,
    push(topic, data, messageId = randomBytes(12).toString('hex')) {
      const ws = socket;
      if (!ws) return Promise.reject(new Error('no Stream client is connected'));
      return new Promise<DingTalkStreamAck>((resolve) => {
        acks.set(messageId, resolve);
        ws.send(
          JSON.stringify({
            specVersion: '1.0',
            type: 'CALLBACK',
            headers: {
              appId: appKey,
              connectionId: randomBytes(8).toString('hex'),
              contentType: 'application/json',
              messageId,
              time: String(Date.now()),
              topic,
            },
            data: JSON.stringify(data),
          }),
        );
      });
    },
    close: () =>
      new Promise<void>((resolve, reject) => {
        for (const release of hanging.splice(0)) release();
        for (const client of wss.clients) client.terminate();
        wss.close();
        whenConnected = new Promise<void>((done) => {
          connected = done;
        });
        server.close((failure) => (failure ? reject(failure) : resolve()));
        (server as { closeAllConnections?: () => void }).closeAllConnections?.();
      }),
  };
}

function error(c: Context<Env>, status: number, code: string, message: string) {
  return c.json({ code, message, requestid: randomBytes(8).toString('hex') }, status as ContentfulStatusCode);
}

/** `msgParam` is a JSON string holding the msgKey's fields; returns the parsed object or the problem. */
function readMsgParam(body: Record<string, unknown>): Record<string, unknown> | string {
  const keys = MSG_KEYS[String(body.msgKey)];
  if (!keys) return `msgKey ${String(body.msgKey)} is not supported by the fake`;
  if (typeof body.msgParam !== 'string') return 'msgParam must be a JSON string';
  let param: unknown;
  try {
    param = JSON.parse(body.msgParam);
  } catch {
    return 'msgParam is not JSON';
  }
  const fields = asObject(param);
  for (const key of keys) {
    if (typeof fields[key] !== 'string' || fields[key] === '') return `msgParam.${key} is required`;
  }
  return fields;
}

function stringParams(value: unknown): Record<string, string> | undefined {
  const map = asObject(value);
  for (const v of Object.values(map)) if (typeof v !== 'string') return undefined;
  return map as Record<string, string>;
}

function asObject(value: unknown): Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value)
    ? (value as Record<string, unknown>)
    : {};
}

// ───────────────────────── delivery builders ─────────────────────────

/** DingTalk's robot signature: base64 HMAC-SHA256 of `timestamp\nsecret` with the app secret. */
export function signDingTalk(timestamp: string, appSecret: string): string {
  return createHmac('sha256', appSecret).update(`${timestamp}\n${appSecret}`, 'utf8').digest('base64');
}

export interface RobotMessageOptions {
  senderStaffId?: string | null;
  senderNick?: string;
  /** A group: its openConversationId (`cid…`). */
  group?: string;
  /** In a group: whether the robot was @-mentioned (default true). */
  mentioned?: boolean;
  msgId?: string;
  robotCode?: string;
  corpId?: string;
  sessionWebhook?: string;
  sessionWebhookExpiredTime?: number;
  msgtype?: string;
}

/** A robot message body as DingTalk delivers it (HTTP mode and the Stream topic alike). */
export function robotMessage(fake: DingTalkFake, text: string, options: RobotMessageOptions = {}) {
  const now = Date.now();
  const group = options.group;
  const expires = options.sessionWebhookExpiredTime ?? now + 90 * 60_000;
  return {
    conversationId: group ?? `cid${randomBytes(12).toString('base64')}`,
    ...(group ? { conversationTitle: 'Platform team', isInAtList: options.mentioned ?? true } : {}),
    chatbotCorpId: options.corpId ?? fake.corpId,
    chatbotUserId: `$:LWCP_v1:$${randomBytes(12).toString('base64')}`,
    msgId: options.msgId ?? `msg${randomBytes(12).toString('base64url')}`,
    senderNick: options.senderNick ?? 'Someone',
    isAdmin: false,
    ...(options.senderStaffId === null ? {} : { senderStaffId: options.senderStaffId ?? 'staff-unknown' }),
    sessionWebhookExpiredTime: expires,
    createAt: now,
    senderCorpId: options.corpId ?? fake.corpId,
    conversationType: group ? '2' : '1',
    senderId: `$:LWCP_v1:$${randomBytes(12).toString('base64')}`,
    sessionWebhook: options.sessionWebhook ?? fake.sessionWebhook(expires),
    robotCode: options.robotCode ?? fake.robotCode,
    msgtype: options.msgtype ?? 'text',
    text: { content: group ? ` ${text}` : text },
  };
}

/** A card click as DingTalk pushes it on `/v1.0/card/instances/callback`. */
export function cardCallback(
  fake: DingTalkFake,
  outTrackId: string,
  userId: string,
  params: Record<string, unknown>,
  options: { corpId?: string } = {},
) {
  return {
    extension: '{}',
    corpId: options.corpId ?? fake.corpId,
    userId,
    type: 'actionCallback',
    outTrackId,
    content: JSON.stringify({ cardPrivateData: { actionIds: [String(params.action ?? '')], params } }),
  };
}

/** POST a robot delivery to `url`, signed as DingTalk signs it (or with the given headers). */
export function postDingTalk(
  url: string,
  body: unknown,
  appSecret: string,
  options: { timestamp?: number; sign?: string | null } = {},
): Promise<Response> {
  const timestamp = String(options.timestamp ?? Date.now());
  const headers: Record<string, string> = { 'content-type': 'application/json; charset=utf-8', timestamp };
  const sign = options.sign === undefined ? signDingTalk(timestamp, appSecret) : options.sign;
  if (sign !== null) headers.sign = sign;
  return fetch(url, {
    method: 'POST',
    headers,
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });
}
