/**
 * A thin, typed wrapper over `@larksuiteoapi/node-sdk`'s Client: the few Open Platform calls
 * Signoff makes. The SDK fetches and caches the tenant access token itself.
 *
 * Two SDK habits are contained here: HTTP 200 with `code ≠ 0` does not throw (we check `code`),
 * and its axios errors carry the request (Authorization header, and app_secret on the token
 * call). We never keep those errors as a cause or log them: a LarkApiError holds only the
 * status, Lark's code and message, and the log id.
 */
import type * as lark from '@larksuiteoapi/node-sdk';

/**
 * The SDK (~1.9 MB, ~200 ms to evaluate) loads on the first Open Platform call, not at import:
 * inbound requests (verify, parse, answer the click) never need it, and the webhook must
 * answer within Lark's 3 seconds even on a cold start.
 */
let sdk: Promise<typeof lark> | undefined;
function loadSdk(): Promise<typeof lark> {
  sdk ??= import('@larksuiteoapi/node-sdk');
  return sdk;
}

/** The Open Platform base URLs the SDK's own `Domain.Feishu` / `Domain.Lark` stand for. */
export const FEISHU_BASE_URL = 'https://open.feishu.cn';
export const LARK_BASE_URL = 'https://open.larksuite.com';

import { ConfigError, IntegrationError } from '../../core/errors.ts';

export type LarkReceiveIdType = 'open_id' | 'chat_id' | 'user_id' | 'union_id' | 'email';

export interface LarkClientConfig {
  appId: string;
  appSecret: string;
  /** `feishu` (default), `lark` (Lark international), or a base URL such as `http://127.0.0.1:4010`. */
  domain?: string;
  /** Per HTTP call; the SDK's default has none. Default 10 s. */
  timeoutMs?: number;
}

export interface LarkClient {
  /** Sends a card (`msg_type: interactive`) and returns its message_id. `uuid` de-duplicates retried sends. */
  sendCard(receiveIdType: LarkReceiveIdType, receiveId: string, card: object, uuid?: string): Promise<string>;
  /** Sends a plain text message and returns its message_id. */
  sendText(receiveIdType: LarkReceiveIdType, receiveId: string, text: string, uuid?: string): Promise<string>;
  /** Replaces a sent card (the old and new card both need `config.update_multi: true`). */
  patchCard(messageId: string, card: object): Promise<void>;
  /** Delayed update of a clicked card with the callback's `event.token` (after answering the callback). */
  updateCardByToken(token: string, card: object): Promise<void>;
  /** The open_id of the user with this email, or undefined when unknown or not visible to the app. */
  lookupByEmail(email: string): Promise<string | undefined>;
  /** The app bot's own open_id (`GET /open-apis/bot/v3/info`). */
  botOpenId(): Promise<string>;
}

/** A Lark Open Platform call failed. `retryable` is true for 5xx, 429, rate-limit codes and network failures. */
export class LarkApiError extends IntegrationError {
  readonly status: number | undefined;
  /** Lark's business code (`code` in the response), when it sent one. */
  readonly larkCode: number | undefined;
  readonly logId: string | undefined;

  constructor(
    message: string,
    details: { status?: number; larkCode?: number; logId?: string; retryable?: boolean } = {},
  ) {
    super(message, { retryable: details.retryable ?? false });
    this.status = details.status;
    this.larkCode = details.larkCode;
    this.logId = details.logId;
  }
}

/**
 * Codes that mean "slow down": 99991400 is the gateway's frequency limit [doc]; 230020 (IM
 * operation rate limit) and 11232 (message send rate limit) are from the IM error tables [unverified].
 */
const RATE_LIMIT_CODES = new Set([99991400, 230020, 11232]);
const NETWORK_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ECONNABORTED',
  'ETIMEDOUT',
  'EAI_AGAIN',
  'ENOTFOUND',
  'EPIPE',
]);
const DEFAULT_TIMEOUT_MS = 10_000;

/** `feishu` / `lark` / a base URL → what `lark.Client` accepts as `domain`. */
export function resolveLarkDomain(domain: string | undefined): string {
  const value = domain?.trim() ?? '';
  if (value === '' || value.toLowerCase() === 'feishu') return FEISHU_BASE_URL;
  if (value.toLowerCase() === 'lark' || value.toLowerCase() === 'larksuite') return LARK_BASE_URL;
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new ConfigError(`LARK_DOMAIN must be "feishu", "lark" or an http(s) base URL, not "${value}"`);
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') {
    throw new ConfigError(`LARK_DOMAIN must be an http(s) URL, not ${url.protocol}`);
  }
  return url.origin + url.pathname.replace(/\/+$/, '');
}

/** Builds the client; no request is made until the first call. */
export function createLarkClient(config: LarkClientConfig): LarkClient {
  const { appId, appSecret } = config;
  if (!appId || !appSecret) throw new ConfigError('lark: LARK_APP_ID and LARK_APP_SECRET are required');
  const domain = resolveLarkDomain(config.domain);
  let built: Promise<lark.Client> | undefined;
  const sdkClient = (): Promise<lark.Client> => {
    built ??= loadSdk().then(
      (sdk) =>
        new sdk.Client({
          appId,
          appSecret,
          domain,
          disableTokenCache: false,
          // One cache per client: the SDK's shared default would let two clients with the same
          // app id (tests, two tenants' fakes) reuse each other's tenant token.
          cache: new sdk.DefaultCache(),
          httpInstance: withTimeout(sdk.defaultHttpInstance, config.timeoutMs ?? DEFAULT_TIMEOUT_MS),
          // The SDK logs raw axios errors, request headers and body included; it stays silent and
          // we report failures as LarkApiError.
          logger: SILENT,
        }),
    );
    return built;
  };

  const call = async <T extends LarkResponse>(
    action: string,
    request: (client: lark.Client) => Promise<T>,
  ): Promise<T> => {
    let response: T;
    try {
      response = await request(await sdkClient());
    } catch (error) {
      throw toLarkApiError(action, error, appSecret);
    }
    if (response === null || typeof response !== 'object') {
      throw new LarkApiError(`lark ${action} failed: the response is not JSON`, { retryable: true });
    }
    if (response.code !== 0) {
      throw fromBody(action, undefined, response, appSecret);
    }
    return response;
  };

  async function send(
    receiveIdType: LarkReceiveIdType,
    receiveId: string,
    msgType: 'interactive' | 'text',
    content: string,
    uuid: string | undefined,
  ): Promise<string> {
    const response = await call(`send ${msgType} message`, (client) =>
      client.im.message.create({
        params: { receive_id_type: receiveIdType },
        data: { receive_id: receiveId, msg_type: msgType, content, ...(uuid ? { uuid } : {}) },
      }),
    );
    const messageId = response.data?.message_id;
    if (!messageId) throw new LarkApiError('lark send message failed: no message_id in the response');
    return messageId;
  }

  return {
    sendCard: (receiveIdType, receiveId, card, uuid) =>
      send(receiveIdType, receiveId, 'interactive', JSON.stringify(card), uuid),

    sendText: (receiveIdType, receiveId, text, uuid) =>
      send(receiveIdType, receiveId, 'text', JSON.stringify({ text }), uuid),

    async patchCard(messageId, card) {
      await call('patch card', (client) =>
        client.im.message.patch({ path: { message_id: messageId }, data: { content: JSON.stringify(card) } }),
      );
    },

    async updateCardByToken(token, card) {
      // No typed method in node-sdk 1.74 (platforms.md §1).
      await call('delayed card update', (client) =>
        client.request<LarkResponse>({
          method: 'POST',
          url: '/open-apis/interactive/v1/card/update',
          data: { token, card },
        }),
      );
    },

    async lookupByEmail(email) {
      let response: Awaited<ReturnType<lark.Client['contact']['user']['batchGetId']>>;
      try {
        response = await call('email lookup', (client) =>
          client.contact.user.batchGetId({ params: { user_id_type: 'open_id' }, data: { emails: [email] } }),
        );
      } catch (error) {
        // Without the contact scope or data permission, Lark either refuses or omits the id.
        if (error instanceof LarkApiError && !error.retryable && isPermissionError(error)) return undefined;
        throw error;
      }
      const wanted = email.toLowerCase();
      const hit =
        response.data?.user_list?.find((u) => u.email?.toLowerCase() === wanted) ??
        response.data?.user_list?.[0];
      return hit?.user_id || undefined;
    },

    async botOpenId() {
      const response = await call('bot info', (client) =>
        client.request<LarkResponse & { bot?: { open_id?: string } }>({
          method: 'GET',
          url: '/open-apis/bot/v3/info',
        }),
      );
      const openId = response.bot?.open_id;
      if (!openId)
        throw new LarkApiError('lark bot info failed: no bot.open_id (is the bot capability enabled?)');
      return openId;
    },
  };
}

interface LarkResponse {
  code?: number;
  msg?: string;
}

function isPermissionError(error: LarkApiError): boolean {
  // 99991672/99991679: the app lacks a scope [unverified]; 403 from the gateway.
  return (
    error.status === 403 ||
    error.larkCode === 99991672 ||
    error.larkCode === 99991679 ||
    error.larkCode === 40004
  );
}

/** Maps anything the SDK throws (axios errors, its token error) to a LarkApiError without secrets. */
function toLarkApiError(action: string, error: unknown, secret: string): LarkApiError {
  if (error instanceof LarkApiError) return error;
  const e = (error ?? {}) as {
    message?: unknown;
    code?: unknown;
    response?: { status?: unknown; data?: unknown; headers?: Record<string, unknown> };
  };
  const response = e.response;
  if (response && typeof response.status === 'number') {
    const logId = stringOr(response.headers?.['x-tt-logid']);
    return fromBody(action, response.status, response.data, secret, logId);
  }
  if (typeof e.code === 'string' && NETWORK_CODES.has(e.code)) {
    return new LarkApiError(`lark ${action} failed: network error (${e.code})`, { retryable: true });
  }
  const message = typeof e.message === 'string' ? e.message : String(error);
  // The SDK's own tenant-token failure: "failed to get tenant_access_token, code: …, msg: …".
  const token = /failed to get tenant_access_token, code: (\S+), msg: (.*)$/.exec(message);
  if (token) {
    const code = Number(token[1]);
    return new LarkApiError(
      redact(`lark ${action} failed: no tenant access token (code ${token[1]}: ${token[2]})`, secret),
      {
        ...(Number.isFinite(code) ? { larkCode: code } : {}),
        retryable: RATE_LIMIT_CODES.has(code),
      },
    );
  }
  if (/timeout/i.test(message))
    return new LarkApiError(`lark ${action} failed: timed out`, { retryable: true });
  return new LarkApiError(redact(`lark ${action} failed: ${message}`, secret), { retryable: false });
}

function fromBody(
  action: string,
  status: number | undefined,
  body: unknown,
  secret: string,
  logId?: string,
): LarkApiError {
  const data = (body && typeof body === 'object' ? body : {}) as { code?: unknown; msg?: unknown };
  const code = typeof data.code === 'number' ? data.code : undefined;
  const msg = typeof data.msg === 'string' ? data.msg.slice(0, 300) : '';
  const what = [
    status !== undefined ? `HTTP ${status}` : undefined,
    code !== undefined ? `code ${code}` : undefined,
    msg,
  ]
    .filter(Boolean)
    .join(' ');
  const retryable =
    (status !== undefined && (status >= 500 || status === 429 || status === 408)) ||
    (code !== undefined && RATE_LIMIT_CODES.has(code));
  return new LarkApiError(redact(`lark ${action} failed: ${what || 'unknown error'}`, secret), {
    ...(status !== undefined ? { status } : {}),
    ...(code !== undefined ? { larkCode: code } : {}),
    ...(logId ? { logId } : {}),
    retryable,
  });
}

function stringOr(value: unknown): string | undefined {
  return typeof value === 'string' && value !== '' ? value : undefined;
}

function redact(message: string, secret: string): string {
  return secret ? message.split(secret).join('[redacted]') : message;
}

/** The SDK's own axios instance (its interceptor unwraps `response.data`), with a timeout on every call. */
function withTimeout(base: typeof lark.defaultHttpInstance, timeout: number): lark.HttpInstance {
  // The interceptor has already replaced the axios response with its data, hence the cast.
  const request = <R>(opts: lark.HttpRequestOptions<unknown>): Promise<R> =>
    base
      .request({ ...opts, timeout: opts.timeout ?? timeout } as Parameters<typeof base.request>[0])
      .then((data: unknown) => data as R);
  return {
    request,
    get: (url, opts) => request({ ...opts, url, method: 'GET' }),
    delete: (url, opts) => request({ ...opts, url, method: 'DELETE' }),
    head: (url, opts) => request({ ...opts, url, method: 'HEAD' }),
    options: (url, opts) => request({ ...opts, url, method: 'OPTIONS' }),
    post: (url, data, opts) => request({ ...opts, url, method: 'POST', data }),
    put: (url, data, opts) => request({ ...opts, url, method: 'PUT', data }),
    patch: (url, data, opts) => request({ ...opts, url, method: 'PATCH', data }),
  };
}

const SILENT: lark.Logger = {
  error: () => {},
  warn: () => {},
  info: () => {},
  debug: () => {},
  trace: () => {},
};
