/**
 * A thin, typed wrapper over `@slack/web-api`'s WebClient: the few Web API calls Signoff makes
 * (chat.postMessage, chat.update, conversations.open, views.open, users.lookupByEmail), and
 * answers through a click's `response_url`.
 *
 * - The SDK is imported on the first call, not when the webhook function starts: verifying and
 *   parsing a request never loads it (a Reject click's views.open is the first call it needs).
 * - Two clients over one token. Cards and notices (out of band) let the SDK honour 429
 *   `Retry-After` and retry twice; calls made while Slack waits for our answer (views.open
 *   inside the 3-second budget) fail fast instead: no retry, a rate limit rejected at once.
 * - Failures become SlackApiError (Slack's `error` code, never the token); `retryable` is true
 *   only for what the SDK did not already retry, so chat/channel.ts does not multiply retries.
 */
import type { KnownBlock, View } from '@slack/types';
import type { WebClient } from '@slack/web-api';
import { ConfigError, IntegrationError } from '../../core/errors.ts';

export const SLACK_DEFAULT_API_URL = 'https://slack.com/api/';
/** Where Slack's response_url points (and the only origin we post answers to, besides a test API). */
const SLACK_HOOKS_ORIGIN = 'https://hooks.slack.com';
const DEFAULT_TIMEOUT_MS = 10_000;
/** Inside the 3-second ack: what is left after verification, the store and our answer. */
const FAST_TIMEOUT_MS = 2_000;

export interface SlackClientConfig {
  botToken: string;
  /** SLACK_API_URL: the base URL of Web API methods; tests point it at test/fakes/slack.ts. */
  apiUrl?: string;
  /** Per out-of-band call (default 10 000 ms). */
  timeoutMs?: number;
}

export interface SlackPosted {
  channel: string;
  ts: string;
}

export interface SlackClient {
  postMessage(channel: string, message: { text: string; blocks: KnownBlock[] }): Promise<SlackPosted>;
  update(channel: string, ts: string, message: { text: string; blocks: KnownBlock[] }): Promise<void>;
  /** The DM channel (`D…`) with a user: cards to a person go there, and are updated there. */
  openDm(userId: string): Promise<string>;
  /** Opens a modal with a click's trigger id; fails fast (the trigger id lives ~3 s). */
  openView(triggerId: string, view: View): Promise<void>;
  /** The user id for an email (users:read.email), or undefined when Slack knows nobody by it. */
  lookupByEmail(email: string): Promise<string | undefined>;
  /** POST a message to a click's or command's response_url (only to Slack's hooks origin). */
  respond(responseUrl: string, body: object): Promise<void>;
}

/** A Web API call failed. `code` is Slack's `error` (e.g. `channel_not_found`) or the HTTP status. */
export class SlackApiError extends IntegrationError {
  readonly code: string;
  constructor(message: string, info: { code: string; retryable?: boolean; cause?: unknown }) {
    super(message, { retryable: info.retryable ?? false });
    this.code = info.code;
  }
}

/** SLACK_API_URL (or nothing) → the base URL the SDK gets, ending in `/`. */
export function resolveSlackApiUrl(value: string | undefined): string {
  const text = value?.trim() ?? '';
  if (text === '') return SLACK_DEFAULT_API_URL;
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw new ConfigError(`SLACK_API_URL must be an http(s) URL, not "${text}"`);
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:')
    throw new ConfigError(`SLACK_API_URL must be an http(s) URL, not ${url.protocol}`);
  return `${url.origin}${url.pathname.replace(/\/+$/, '')}/`;
}

/** Builds the client; nothing is imported or requested until the first call. */
export function createSlackClient(config: SlackClientConfig): SlackClient {
  const token = config.botToken;
  if (!token) throw new ConfigError('slack: SLACK_BOT_TOKEN is required');
  const apiUrl = resolveSlackApiUrl(config.apiUrl);
  const answerOrigins = new Set([SLACK_HOOKS_ORIGIN, new URL(apiUrl).origin]);
  const timeoutMs = config.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  let clients: Promise<{ api: WebClient; fast: WebClient }> | undefined;

  function sdk(): Promise<{ api: WebClient; fast: WebClient }> {
    if (!clients) {
      clients = import('@slack/web-api').then(({ WebClient }) => {
        const common = { slackApiUrl: apiUrl, logger: QUIET, allowAbsoluteUrls: false } as const;
        return {
          api: new WebClient(token, {
            ...common,
            timeout: timeoutMs,
            retryConfig: { retries: 2, factor: 2, minTimeout: 100, maxTimeout: 1000, randomize: true },
          }),
          fast: new WebClient(token, {
            ...common,
            timeout: FAST_TIMEOUT_MS,
            retryConfig: { retries: 0 },
            rejectRateLimitedCalls: true,
          }),
        };
      });
      clients.catch(() => {
        clients = undefined;
      });
    }
    return clients;
  }

  async function call<T>(method: string, run: (c: { api: WebClient; fast: WebClient }) => Promise<T>) {
    try {
      return await run(await sdk());
    } catch (error) {
      throw toSlackApiError(method, error, token);
    }
  }

  return {
    async postMessage(channel, message) {
      const result = await call('chat.postMessage', ({ api }) =>
        api.chat.postMessage({ channel, text: message.text, blocks: message.blocks, unfurl_links: false }),
      );
      if (!result.ts || !result.channel)
        throw new SlackApiError('slack chat.postMessage answered without channel and ts', { code: 'no_ts' });
      return { channel: result.channel, ts: result.ts };
    },

    async update(channel, ts, message) {
      await call('chat.update', ({ api }) =>
        api.chat.update({ channel, ts, text: message.text, blocks: message.blocks }),
      );
    },

    async openDm(userId) {
      const result = await call('conversations.open', ({ api }) =>
        api.conversations.open({ users: userId, return_im: false }),
      );
      const id = result.channel?.id;
      if (!id)
        throw new SlackApiError('slack conversations.open answered without a channel', {
          code: 'no_channel',
        });
      return id;
    },

    async openView(triggerId, view) {
      await call('views.open', ({ fast }) => fast.views.open({ trigger_id: triggerId, view }));
    },

    async lookupByEmail(email) {
      try {
        const result = await call('users.lookupByEmail', ({ api }) => api.users.lookupByEmail({ email }));
        return result.user?.id;
      } catch (error) {
        if (error instanceof SlackApiError && error.code === 'users_not_found') return undefined;
        throw error;
      }
    },

    async respond(responseUrl, body) {
      let url: URL;
      try {
        url = new URL(responseUrl);
      } catch {
        throw new SlackApiError('slack: response_url is not a URL', { code: 'bad_response_url' });
      }
      if (!answerOrigins.has(url.origin))
        throw new SlackApiError(`slack: response_url is not on ${SLACK_HOOKS_ORIGIN}`, {
          code: 'bad_response_url',
        });
      let response: Response;
      try {
        response = await fetch(url, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify(body),
          signal: AbortSignal.timeout(FAST_TIMEOUT_MS),
          redirect: 'error',
        });
      } catch (error) {
        throw new SlackApiError('slack response_url failed: network error or timeout', {
          code: 'network',
          cause: error,
        });
      }
      const text = (await response.text()).slice(0, 100);
      if (!response.ok)
        throw new SlackApiError(`slack response_url failed: HTTP ${response.status} ${text}`, {
          code: text || String(response.status),
        });
    },
  };
}

/** Maps what the SDK throws to a SlackApiError without the token. */
function toSlackApiError(method: string, error: unknown, token: string): SlackApiError {
  if (error instanceof SlackApiError) return error;
  const e = error as {
    code?: unknown;
    data?: { error?: unknown };
    statusCode?: unknown;
    retryAfter?: unknown;
    message?: unknown;
  };
  const redact = (text: string) => text.split(token).join('[redacted]');
  switch (e.code) {
    case 'slack_webapi_platform_error': {
      const code = typeof e.data?.error === 'string' ? e.data.error : 'unknown_error';
      // Slack's own transient errors: the SDK does not retry an ok:false answer.
      const retryable = [
        'ratelimited',
        'internal_error',
        'fatal_error',
        'service_unavailable',
        'request_timeout',
      ].includes(code);
      return new SlackApiError(`slack ${method} failed: ${redact(code)}`, { code, retryable });
    }
    case 'slack_webapi_rate_limited_error':
      return new SlackApiError(
        `slack ${method} failed: rate limited (retry after ${String(e.retryAfter)} s)`,
        {
          code: 'ratelimited',
        },
      );
    case 'slack_webapi_http_error':
      return new SlackApiError(`slack ${method} failed: HTTP ${String(e.statusCode)}`, {
        code: String(e.statusCode),
      });
    case 'slack_webapi_request_error':
      return new SlackApiError(`slack ${method} failed: network error or timeout`, { code: 'network' });
    default: {
      const message = typeof e.message === 'string' ? e.message : String(error);
      return new SlackApiError(redact(`slack ${method} failed: ${message}`).slice(0, 300), {
        code: 'unknown',
      });
    }
  }
}

const QUIET = {
  debug() {},
  info() {},
  warn() {},
  error() {},
  setLevel() {},
  getLevel: () => 'error' as never,
  setName() {},
};
