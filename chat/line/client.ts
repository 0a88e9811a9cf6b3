/**
 * A thin, typed wrapper over `@line/bot-sdk`'s MessagingApiClient: the few Messaging API calls
 * Signoff makes (reply, push, profile).
 *
 * - Push always carries an `X-Line-Retry-Key` (a UUID): a retried push within 24 h answers 409
 *   instead of posting twice, and the 409 is reported as success (`duplicate: true`). Reply
 *   never carries one (LINE answers 400 to a retry key on reply).
 * - The SDK throws `HTTPFetchError{status, headers, body}`; we keep none of it as a cause and
 *   never put the channel access token in a message: a LineApiError holds the status, LINE's
 *   message and details, and the `x-line-request-id`.
 * - The SDK's fetch has no timeout; each call races one (the request itself is not aborted).
 */
import { randomUUID } from 'node:crypto';
import { HTTPFetchError, messagingApi } from '@line/bot-sdk';
import { ConfigError, IntegrationError } from '../../core/errors.ts';

export const LINE_DEFAULT_API_BASE_URL = 'https://api.line.me';
const DEFAULT_TIMEOUT_MS = 10_000;
const PROFILE_TTL_MS = 60 * 60 * 1000;
const PROFILE_MISS_TTL_MS = 5 * 60 * 1000;
const PROFILE_CACHE_MAX = 1000;

export interface LineClientConfig {
  channelAccessToken: string;
  /** LINE_API_BASE_URL: the Messaging API origin; tests point it at test/fakes/line.ts. */
  baseUrl?: string;
  /** Per call (default 10 000 ms). */
  timeoutMs?: number;
  /** A clock for the profile cache (tests). */
  now?: () => number;
}

export interface LineProfile {
  userId: string;
  displayName: string;
}

export interface LinePushResult {
  /** The ids of the messages sent, in order (may be empty on a 409 without `sentMessages`). */
  sentMessageIds: string[];
  /** True when LINE had already accepted a push with this retry key (HTTP 409). */
  duplicate: boolean;
  /** `x-line-request-id`, or on a 409 `x-line-accepted-request-id` (the original request). */
  requestId?: string;
}

export interface LineClient {
  /** Replies with a reply token (single use, valid about a minute). */
  reply(replyToken: string, messages: messagingApi.Message[]): Promise<void>;
  /** Pushes to a user, group or room id; `retryKey` (a UUID) defaults to a fresh one. */
  push(to: string, messages: messagingApi.Message[], retryKey?: string): Promise<LinePushResult>;
  /**
   * A user's display name, cached for an hour. Undefined when LINE does not know the user or
   * will not say (404: not a friend of the bot, or blocked it).
   */
  getProfile(userId: string): Promise<LineProfile | undefined>;
}

/** A Messaging API call failed. `retryable` is true for 5xx, 429, timeouts and network failures. */
export class LineApiError extends IntegrationError {
  readonly status: number | undefined;
  /** `x-line-request-id` of the failed request, for LINE support. */
  readonly requestId: string | undefined;
  /** LINE's `details[]` as `property: message` lines. */
  readonly details: string[];
  /** Only on a 409 from push: LINE had already accepted this retry key; what that request sent. */
  readonly accepted: LinePushResult | undefined;

  constructor(
    message: string,
    info: {
      status?: number;
      requestId?: string;
      details?: string[];
      retryable?: boolean;
      accepted?: LinePushResult;
    } = {},
  ) {
    super(message, { retryable: info.retryable ?? false });
    this.status = info.status;
    this.requestId = info.requestId;
    this.details = info.details ?? [];
    this.accepted = info.accepted;
  }
}

/** LINE_API_BASE_URL (or nothing) → the base URL the SDK gets, without a trailing slash. */
export function resolveLineBaseUrl(value: string | undefined): string {
  const text = value?.trim() ?? '';
  if (text === '') return LINE_DEFAULT_API_BASE_URL;
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw new ConfigError(`LINE_API_BASE_URL must be an http(s) URL, not "${text}"`);
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') {
    throw new ConfigError(`LINE_API_BASE_URL must be an http(s) URL, not ${url.protocol}`);
  }
  return url.origin + url.pathname.replace(/\/+$/, '');
}

/** Builds the client; no request is made until the first call. */
export function createLineClient(config: LineClientConfig): LineClient {
  const token = config.channelAccessToken;
  if (!token) throw new ConfigError('line: LINE_CHANNEL_ACCESS_TOKEN is required');
  const api = new messagingApi.MessagingApiClient({
    channelAccessToken: token,
    baseURL: resolveLineBaseUrl(config.baseUrl),
  });
  const timeoutMs = config.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  const now = config.now ?? Date.now;
  const profiles = new Map<string, { profile: LineProfile | undefined; until: number }>();

  const call = async <T>(action: string, request: () => Promise<T>): Promise<T> => {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () =>
          reject(
            new LineApiError(`line ${action} failed: timed out after ${timeoutMs} ms`, { retryable: true }),
          ),
        timeoutMs,
      );
    });
    try {
      return await Promise.race([request(), timeout]);
    } catch (error) {
      throw toLineApiError(action, error, token);
    } finally {
      clearTimeout(timer);
    }
  };

  return {
    async reply(replyToken, messages) {
      await call('reply', () => api.replyMessage({ replyToken, messages }));
    },

    async push(to, messages, retryKey = randomUUID()) {
      try {
        const { httpResponse, body } = await call('push', () =>
          api.pushMessageWithHttpInfo({ to, messages }, retryKey),
        );
        const requestId = httpResponse.headers.get('x-line-request-id') ?? undefined;
        return {
          sentMessageIds: (body?.sentMessages ?? []).map((m) => m.id),
          duplicate: false,
          ...(requestId ? { requestId } : {}),
        };
      } catch (error) {
        if (error instanceof LineApiError && error.status === 409 && error.accepted) {
          return error.accepted;
        }
        throw error;
      }
    },

    async getProfile(userId) {
      const cached = profiles.get(userId);
      if (cached && cached.until > now()) return cached.profile;
      let profile: LineProfile | undefined;
      try {
        const body = await call('get profile', () => api.getProfile(userId));
        profile = { userId: body.userId || userId, displayName: body.displayName };
      } catch (error) {
        if (!(error instanceof LineApiError) || error.status !== 404) throw error;
        profile = undefined;
      }
      if (profiles.size >= PROFILE_CACHE_MAX) {
        const oldest = profiles.keys().next().value;
        if (oldest !== undefined) profiles.delete(oldest);
      }
      profiles.delete(userId);
      profiles.set(userId, { profile, until: now() + (profile ? PROFILE_TTL_MS : PROFILE_MISS_TTL_MS) });
      return profile;
    },
  };
}

/** Maps anything the SDK throws to a LineApiError without secrets. */
function toLineApiError(action: string, error: unknown, token: string): LineApiError {
  if (error instanceof LineApiError) return error;
  if (error instanceof HTTPFetchError) {
    const status = error.status;
    const requestId = error.headers?.get?.('x-line-request-id') ?? undefined;
    const body = parseBody(error.body);
    const message = typeof body.message === 'string' ? body.message.slice(0, 300) : error.statusText;
    const details = Array.isArray(body.details)
      ? body.details
          .slice(0, 5)
          .map((d: { property?: unknown; message?: unknown }) =>
            redact(
              [
                typeof d.property === 'string' ? d.property : '',
                typeof d.message === 'string' ? d.message : '',
              ]
                .filter(Boolean)
                .join(': ')
                .slice(0, 300),
              token,
            ),
          )
      : [];
    const text = redact(
      `line ${action} failed: HTTP ${status}${message ? ` ${message}` : ''}${details.length ? ` (${details.join('; ')})` : ''}`,
      token,
    );
    const info = {
      status,
      ...(requestId ? { requestId } : {}),
      details,
      retryable: status >= 500 || status === 429 || status === 408,
    };
    if (status === 409 && action === 'push') {
      const acceptedId = error.headers?.get?.('x-line-accepted-request-id') ?? undefined;
      const sent = Array.isArray(body.sentMessages) ? body.sentMessages : [];
      return new LineApiError(text, {
        ...info,
        accepted: {
          sentMessageIds: sent
            .map((m: { id?: unknown }) => (typeof m.id === 'string' ? m.id : undefined))
            .filter((id: string | undefined): id is string => id !== undefined),
          duplicate: true,
          ...(acceptedId ? { requestId: acceptedId } : {}),
        },
      });
    }
    return new LineApiError(text, info);
  }
  const e = (error ?? {}) as { message?: unknown; name?: unknown; cause?: { code?: unknown } };
  const code = typeof e.cause?.code === 'string' ? e.cause.code : undefined;
  if (e.name === 'TypeError' || code) {
    // fetch() failed before a response: refused, reset, DNS…
    return new LineApiError(`line ${action} failed: network error${code ? ` (${code})` : ''}`, {
      retryable: true,
    });
  }
  if (error instanceof SyntaxError) {
    return new LineApiError(`line ${action} failed: the response is not JSON`, { retryable: true });
  }
  const message = typeof e.message === 'string' ? e.message : String(error);
  return new LineApiError(redact(`line ${action} failed: ${message}`.slice(0, 500), token), {
    retryable: false,
  });
}

function parseBody(text: unknown): Record<string, unknown> & {
  details?: unknown;
  sentMessages?: unknown;
} {
  if (typeof text !== 'string' || text === '') return {};
  try {
    const value: unknown = JSON.parse(text);
    return value && typeof value === 'object' && !Array.isArray(value)
      ? (value as Record<string, unknown>)
      : {};
  } catch {
    return {};
  }
}

function redact(message: string, token: string): string {
  return token ? message.split(token).join('[redacted]') : message;
}
