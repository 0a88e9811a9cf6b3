/**
 * A wire-true stand-in for the Slack Web API calls Signoff makes through @slack/web-api
 * (chat.postMessage, chat.update, conversations.open, views.open, users.lookupByEmail), the
 * `response_url` hooks, and Socket Mode (apps.connections.open and its WebSocket), plus
 * builders for the requests Slack sends, signed exactly as Slack signs them.
 *
 * Faithful to platforms.md §3: methods are POSTs with a form body (nested values JSON-encoded)
 * or JSON; the token is a Bearer header (or a `token` field); every answer is HTTP 200 with
 * `{ok:true,…}` or `{ok:false,error}` (`invalid_auth`, `channel_not_found`,
 * `message_not_found`, `cant_update_message`, `expired_trigger_id`, `users_not_found`,
 * `invalid_blocks`), except rate limits: HTTP 429 with `Retry-After` (seconds); tests can also
 * inject an HTTP 5xx (as Slack's edge answers in an outage) or a call that never answers. A response_url
 * takes 5 uses within 30 minutes. Limits checked: 50 blocks, header 150, section text 3000,
 * 10 fields of ≤2000, button text 75, value 2000, action_id 255, modal title 24.
 */
import { createHmac, randomBytes } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import { serve } from '@hono/node-server';
import { Hono } from 'hono';
import type { ContentfulStatusCode } from 'hono/utils/http-status';
import { type WebSocket, WebSocketServer } from 'ws';

export interface SlackRecordedRequest {
  method: string;
  /** Parsed arguments (form fields with JSON values decoded, or the JSON body); no token. */
  args: Record<string, unknown>;
  contentType: string;
  authorized: boolean;
  /** `ok` / the error / `429`. */
  outcome: string;
}

export interface SlackPostedMessage {
  channel: string;
  ts: string;
  text: string;
  blocks: unknown[];
  /** Every version after the first, in order (chat.update). */
  updates: Array<{ text: string; blocks: unknown[] }>;
}

export interface SlackFake {
  /** The base URL of Web API methods, as SLACK_API_URL takes it (`…/api/`). */
  apiUrl: string;
  url: string;
  botToken: string;
  appToken: string;
  signingSecret: string;
  botUserId: string;
  requests: SlackRecordedRequest[];
  /** Every message posted, by the bot, with its updates. */
  messages: SlackPostedMessage[];
  /** What was posted to response_urls (ephemeral answers to one person). */
  responses: Array<{ url: string; body: Record<string, unknown> }>;
  /** Modals opened with views.open. */
  views: Array<{ triggerId: string; view: Record<string, unknown> }>;
  /** email → user id, for users.lookupByEmail. */
  emails: Map<string, string>;
  /** A fresh trigger id (valid until `expireTrigger`) as Slack puts in a click. */
  triggerId(): string;
  expireTrigger(triggerId: string): void;
  /** A fresh response_url on this fake. */
  responseUrl(): string;
  /** The DM channel id the fake gives a user (conversations.open). */
  dmOf(userId: string): string;
  /** The next `times` Web API calls (of `method` only, if given) answer 429 with `Retry-After: seconds`. */
  rateLimitNext(times: number, seconds: number, method?: string): void;
  /** The next `times` Web API calls (of `method` only, if given) answer `{ok:false, error}`. */
  failNext(times: number, error: string, method?: string): void;
  /** The next `times` Web API calls (of `method` only, if given) answer HTTP `status` (a 5xx from Slack's edge). */
  httpErrorNext(times: number, status: number, method?: string): void;
  /** The next `times` Web API calls (of `method` only, if given) never answer (until the client gives up or the fake closes). */
  hangNext(times: number, method?: string): void;
  /** Socket Mode: send an envelope to every open connection; resolves with the app's ack payload. */
  sendEnvelope(type: 'events_api' | 'interactive' | 'slash_commands', payload: unknown): Promise<unknown>;
  /** Socket Mode connections open now. */
  sockets(): number;
  close(): Promise<void>;
}

const MAX_BLOCKS = 50;

/** Starts the fake on 127.0.0.1, port 0. */
export async function startSlackFake(): Promise<SlackFake> {
  const botToken = `xoxb-fake-${randomBytes(12).toString('hex')}`;
  const appToken = `xapp-1-fake-${randomBytes(12).toString('hex')}`;
  const signingSecret = randomBytes(16).toString('hex');
  const botUserId = slackId('U');
  const requests: SlackRecordedRequest[] = [];
  const messages: SlackPostedMessage[] = [];
  const responses: SlackFake['responses'] = [];
  const views: SlackFake['views'] = [];
  const emails = new Map<string, string>();
  const triggers = new Set<string>();
  const responseUrls = new Map<string, number>();
  const failures: Array<
    ({ rateLimit: number } | { error: string } | { status: number } | { hang: true }) & { method?: string }
  > = [];
  const hanging: Array<() => void> = [];
  const acks = new Map<string, (payload: unknown) => void>();
  let seq = 0;
  let base = '';

  const dmOf = (userId: string) =>
    `D${createHmac('sha256', 'dm').update(userId).digest('hex').slice(0, 10).toUpperCase()}`;
  const nextTs = () => `${1_700_000_000 + seq}.${String(++seq).padStart(6, '0')}`;

  const app = new Hono();

  app.post('/api/:method', async (c) => {
    const method = c.req.param('method');
    const contentType = (c.req.header('content-type') ?? '').split(';')[0]?.trim() ?? '';
    const text = await c.req.text();
    const args = decodeArgs(contentType, text);
    const bearer = c.req.header('authorization')?.replace(/^Bearer /, '');
    const token = bearer ?? (typeof args.token === 'string' ? args.token : undefined);
    delete args.token;
    const record: SlackRecordedRequest = { method, args, contentType, authorized: false, outcome: 'ok' };
    requests.push(record);
    const answer = (body: Record<string, unknown>) => {
      record.outcome = body.ok === true ? 'ok' : String(body.error);
      return c.json(body, 200);
    };
    const at = failures.findIndex((f) => f.method === undefined || f.method === method);
    const failure = at >= 0 ? failures.splice(at, 1)[0] : undefined;
    if (failure && 'rateLimit' in failure) {
      record.outcome = '429';
      c.header('retry-after', String(failure.rateLimit));
      return c.json({ ok: false, error: 'ratelimited' }, 429);
    }
    if (failure && 'status' in failure) {
      record.outcome = String(failure.status);
      return c.text('upstream connect error', failure.status as ContentfulStatusCode);
    }
    if (failure && 'hang' in failure) {
      record.outcome = 'hung';
      await new Promise<void>((resolve) => hanging.push(resolve));
      return c.text('hung', 504);
    }
    if (failure) return answer({ ok: false, error: failure.error });
    const expected = method === 'apps.connections.open' ? appToken : botToken;
    if (!token) return answer({ ok: false, error: 'not_authed' });
    if (token !== expected) return answer({ ok: false, error: 'invalid_auth' });
    record.authorized = true;

    switch (method) {
      case 'chat.postMessage': {
        const channel = String(args.channel ?? '');
        if (!/^[CDG][A-Z0-9]{4,}$/.test(channel)) return answer({ ok: false, error: 'channel_not_found' });
        const problem = checkMessage(args);
        if (problem) return answer({ ok: false, error: 'invalid_blocks', errors: [problem] });
        const ts = nextTs();
        messages.push({
          channel,
          ts,
          text: String(args.text ?? ''),
          blocks: (args.blocks as unknown[]) ?? [],
          updates: [],
        });
        return answer({ ok: true, channel, ts, message: { type: 'message', user: botUserId, ts } });
      }
      case 'chat.update': {
        const found = messages.find((m) => m.ts === args.ts);
        if (!found) return answer({ ok: false, error: 'message_not_found' });
        if (found.channel !== args.channel) return answer({ ok: false, error: 'cant_update_message' });
        const problem = checkMessage(args);
        if (problem) return answer({ ok: false, error: 'invalid_blocks', errors: [problem] });
        found.updates.push({ text: String(args.text ?? ''), blocks: (args.blocks as unknown[]) ?? [] });
        return answer({ ok: true, channel: found.channel, ts: found.ts });
      }
      case 'conversations.open': {
        const users = String(args.users ?? '');
        if (!/^[UW][A-Z0-9]{4,}$/.test(users)) return answer({ ok: false, error: 'user_not_found' });
        return answer({ ok: true, channel: { id: dmOf(users) } });
      }
      case 'views.open': {
        const triggerId = String(args.trigger_id ?? '');
        if (!triggers.has(triggerId)) return answer({ ok: false, error: 'expired_trigger_id' });
        triggers.delete(triggerId);
        const view = (args.view ?? {}) as Record<string, unknown>;
        const title = (view.title as { text?: string } | undefined)?.text ?? '';
        if (view.type !== 'modal' || title.length === 0 || title.length > 24)
          return answer({ ok: false, error: 'invalid_arguments' });
        views.push({ triggerId, view });
        return answer({ ok: true, view: { id: `V${seq++}`, ...view } });
      }
      case 'users.lookupByEmail': {
        const user = emails.get(String(args.email ?? ''));
        return user
          ? answer({ ok: true, user: { id: user } })
          : answer({ ok: false, error: 'users_not_found' });
      }
      case 'apps.connections.open':
        return answer({
          ok: true,
          url: `${base.replace(/^http/, 'ws')}/link/?ticket=${randomBytes(8).toString('hex')}`,
        });
      default:
        return answer({ ok: false, error: 'unknown_method' });
    }
  });

  app.post('/hooks/respond/:id', async (c) => {
    const id = c.req.param('id');
    const uses = responseUrls.get(id);
    if (uses === undefined) return c.text('expired_url', 404);
    if (uses >= 5) return c.text('used_url', 404);
    responseUrls.set(id, uses + 1);
    let body: Record<string, unknown>;
    try {
      body = JSON.parse(await c.req.text()) as Record<string, unknown>;
    } catch {
      return c.text('invalid_payload', 400);
    }
    responses.push({ url: c.req.url, body });
    return c.text('ok', 200);
  });

  const server = serve({ fetch: app.fetch, port: 0, hostname: '127.0.0.1' });
  await new Promise<void>((resolve) => server.once('listening', () => resolve()));
  const { port } = server.address() as AddressInfo;
  base = `http://127.0.0.1:${port}`;

  // Socket Mode: the URL apps.connections.open hands out; `hello` first, then envelopes.
  const wss = new WebSocketServer({ noServer: true });
  const open = new Set<WebSocket>();
  server.on('upgrade', (request, socket, head) => {
    if (!request.url?.startsWith('/link/')) return socket.destroy();
    wss.handleUpgrade(request, socket, head, (ws) => {
      open.add(ws);
      ws.on('close', () => open.delete(ws));
      ws.on('message', (data) => {
        const message = JSON.parse(String(data)) as { envelope_id?: string; payload?: unknown };
        if (message.envelope_id) acks.get(message.envelope_id)?.(message.payload);
      });
      ws.send(
        JSON.stringify({
          type: 'hello',
          num_connections: open.size,
          debug_info: { host: 'fake', approximate_connection_time: 3600 },
          connection_info: { app_id: 'AFAKE' },
        }),
      );
    });
  });

  return {
    apiUrl: `${base}/api/`,
    url: base,
    botToken,
    appToken,
    signingSecret,
    botUserId,
    requests,
    messages,
    responses,
    views,
    emails,
    triggerId() {
      const id = `${Date.now() % 1e9}.${randomBytes(6).toString('hex')}`;
      triggers.add(id);
      return id;
    },
    expireTrigger(id) {
      triggers.delete(id);
    },
    responseUrl() {
      const id = randomBytes(12).toString('hex');
      responseUrls.set(id, 0);
      return `${base}/hooks/respond/${id}`;
    },
    dmOf,
    rateLimitNext(times, seconds, method) {
      for (let i = 0; i < times; i += 1) failures.push({ rateLimit: seconds, ...(method ? { method } : {}) });
    },
    failNext(times, error, method) {
      for (let i = 0; i < times; i += 1) failures.push({ error, ...(method ? { method } : {}) });
    },
    httpErrorNext(times, status, method) {
      for (let i = 0; i < times; i += 1) failures.push({ status, ...(method ? { method } : {}) });
    },
    hangNext(times, method) {
      for (let i = 0; i < times; i += 1) failures.push({ hang: true, ...(method ? { method } : {}) });
    },
    sendEnvelope(type, payload) {
      const envelopeId = randomBytes(8).toString('hex');
      const envelope = {
        envelope_id: envelopeId,
        type,
        payload,
        accepts_response_payload: type !== 'events_api',
        retry_attempt: 0,
        retry_reason: '',
      };
      return new Promise((resolve) => {
        acks.set(envelopeId, resolve);
        for (const ws of open) ws.send(JSON.stringify(envelope));
      });
    },
    sockets: () => open.size,
    close: () =>
      new Promise<void>((resolve, reject) => {
        for (const release of hanging.splice(0)) release();
        for (const ws of open) ws.terminate();
        wss.close();
        server.close((error) => (error ? reject(error) : resolve()));
        (server as { closeAllConnections?: () => void }).closeAllConnections?.();
      }),
  };
}

/** A Slack-shaped id: a letter and 10 upper-case characters. */
export function slackId(prefix: 'U' | 'C' | 'W' | 'T'): string {
  return `${prefix}${randomBytes(8).toString('hex').slice(0, 10).toUpperCase()}`;
}

/** Slack's signature headers for a body sent at `timestamp` (seconds). */
export function slackHeaders(
  body: string,
  contentType: 'application/json' | 'application/x-www-form-urlencoded',
  signingSecret: string,
  timestamp = Math.floor(Date.now() / 1000),
  extra: Record<string, string> = {},
): Record<string, string> {
  const signature = `v0=${createHmac('sha256', signingSecret).update(`v0:${timestamp}:${body}`).digest('hex')}`;
  return {
    'content-type': contentType,
    'x-slack-request-timestamp': String(timestamp),
    'x-slack-signature': signature,
    ...extra,
  };
}

/** An interactivity request body: the form Slack posts, one `payload` field of JSON. */
export function interactionBody(payload: object): string {
  return new URLSearchParams({ payload: JSON.stringify(payload) }).toString();
}

/** A `block_actions` payload for a click on one of our buttons, as Slack sends it. */
export function blockActions(options: {
  user: string;
  actionId: string;
  value: string;
  channel: string;
  ts: string;
  triggerId: string;
  responseUrl: string;
  blocks?: unknown[];
}): Record<string, unknown> {
  return {
    type: 'block_actions',
    user: {
      id: options.user,
      username: options.user.toLowerCase(),
      name: options.user.toLowerCase(),
      team_id: 'TFAKE',
    },
    api_app_id: 'AFAKE',
    token: 'deprecated-verification-token',
    container: { type: 'message', message_ts: options.ts, channel_id: options.channel, is_ephemeral: false },
    trigger_id: options.triggerId,
    team: { id: 'TFAKE', domain: 'fake' },
    channel: { id: options.channel, name: 'channel' },
    message: { type: 'message', ts: options.ts, text: '', blocks: options.blocks ?? [] },
    response_url: options.responseUrl,
    actions: [
      {
        action_id: options.actionId,
        block_id: 'decision',
        text: { type: 'plain_text', text: 'button', emoji: true },
        value: options.value,
        type: 'button',
        action_ts: `${Math.floor(Date.now() / 1000)}.000100`,
      },
    ],
  };
}

/** A `view_submission` of a modal the app opened (`view` as views.open received it), with `reason` typed in. */
export function viewSubmission(
  user: string,
  view: Record<string, unknown>,
  reason: string,
): Record<string, unknown> {
  return {
    type: 'view_submission',
    team: { id: 'TFAKE', domain: 'fake' },
    user: { id: user, username: user.toLowerCase(), name: user.toLowerCase(), team_id: 'TFAKE' },
    api_app_id: 'AFAKE',
    token: 'deprecated-verification-token',
    trigger_id: `${Date.now() % 1e9}.${randomBytes(6).toString('hex')}`,
    view: {
      ...view,
      id: `V${randomBytes(5).toString('hex').toUpperCase()}`,
      hash: randomBytes(6).toString('hex'),
      state: { values: { reason: { reason_input: { type: 'plain_text_input', value: reason } } } },
    },
    response_urls: [],
  };
}

/** A slash command's form body. */
export function slashCommandBody(options: {
  user: string;
  channel: string;
  text: string;
  triggerId: string;
  responseUrl: string;
  command?: string;
}): string {
  return new URLSearchParams({
    token: 'deprecated-verification-token',
    team_id: 'TFAKE',
    team_domain: 'fake',
    channel_id: options.channel,
    channel_name: 'directmessage',
    user_id: options.user,
    user_name: options.user.toLowerCase(),
    command: options.command ?? '/signoff',
    text: options.text,
    api_app_id: 'AFAKE',
    response_url: options.responseUrl,
    trigger_id: options.triggerId,
  }).toString();
}

/** An Events API `event_callback` envelope around `event`. */
export function eventCallback(
  event: Record<string, unknown>,
  botUserId: string,
  eventId = `Ev${randomBytes(5).toString('hex').toUpperCase()}`,
): Record<string, unknown> {
  return {
    token: 'deprecated-verification-token',
    team_id: 'TFAKE',
    api_app_id: 'AFAKE',
    event: { event_ts: '1700000000.000200', ts: '1700000000.000200', ...event },
    type: 'event_callback',
    event_id: eventId,
    event_time: 1_700_000_000,
    authorizations: [{ enterprise_id: null, team_id: 'TFAKE', user_id: botUserId, is_bot: true }],
    is_ext_shared_channel: false,
  };
}

function decodeArgs(contentType: string, text: string): Record<string, unknown> {
  if (contentType === 'application/json') {
    try {
      return JSON.parse(text) as Record<string, unknown>;
    } catch {
      return {};
    }
  }
  const args: Record<string, unknown> = {};
  for (const [key, value] of new URLSearchParams(text)) {
    // The SDK JSON-encodes nested values (blocks, view) in a form field.
    args[key] = /^[[{]/.test(value) ? safeJson(value) : value;
  }
  return args;
}

function safeJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}

/** Block Kit limits Slack enforces on a message; the first problem, or undefined. */
function checkMessage(args: Record<string, unknown>): string | undefined {
  const blocks = args.blocks;
  if (blocks === undefined) return typeof args.text === 'string' && args.text !== '' ? undefined : 'no_text';
  if (!Array.isArray(blocks) || blocks.length > MAX_BLOCKS) return 'too many blocks';
  for (const [i, raw] of blocks.entries()) {
    const block = raw as Record<string, unknown>;
    const text = (block.text as { text?: string } | undefined)?.text;
    if (block.type === 'header' && (!text || text.length > 150)) return `blocks[${i}].text: header over 150`;
    if (block.type === 'section') {
      if (text !== undefined && (text.length === 0 || text.length > 3000))
        return `blocks[${i}].text: 1..3000`;
      const fields = (block.fields as Array<{ text: string }> | undefined) ?? [];
      if (fields.length > 10 || fields.some((f) => f.text.length > 2000)) return `blocks[${i}].fields`;
    }
    if (block.type === 'actions') {
      for (const el of (block.elements as Array<Record<string, unknown>>) ?? []) {
        const label = (el.text as { text?: string } | undefined)?.text ?? '';
        if (
          label.length > 75 ||
          String(el.value ?? '').length > 2000 ||
          String(el.action_id ?? '').length > 255
        )
          return `blocks[${i}].elements: button over its limits`;
      }
    }
  }
  return undefined;
}
