/**
 * The DingTalk OpenAPI calls Signoff makes, as small fetch calls (no SDK: `@alicloud/dingtalk`
 * is 52 MB and slow to load, platforms.md §9). Every call but the token sends
 * `x-acs-dingtalk-access-token`; the token comes from `POST /v1.0/oauth2/accessToken` and is
 * kept until five minutes before it expires (`expireIn`, seconds). An answer of 401 drops it
 * and the call is made once more with a fresh one.
 *
 * Errors are `{code, message, requestid}` with a 4xx/5xx status; `retryable` is true for 5xx,
 * 429, timeouts and network failures (chat/channel.ts retries those).
 */
import { IntegrationError } from '../../core/errors.ts';

export const DINGTALK_DEFAULT_API_URL = 'https://api.dingtalk.com';
const DEFAULT_TIMEOUT_MS = 10_000;
/** Refresh the token this long before DingTalk says it expires. */
const TOKEN_MARGIN_MS = 5 * 60_000;

/** An OpenAPI call failed. */
export class DingTalkApiError extends IntegrationError {
  readonly status: number | undefined;
  readonly code: string | undefined;
  constructor(message: string, info: { status?: number; code?: string; retryable?: boolean } = {}) {
    super(message, { retryable: info.retryable ?? false });
    this.status = info.status;
    this.code = info.code;
  }
}

export interface DingTalkClientConfig {
  appKey: string;
  appSecret: string;
  /** DINGTALK_API_URL (default https://api.dingtalk.com). */
  baseUrl?: string;
  timeoutMs?: number;
  /** Milliseconds since the epoch (tests pass their own clock). */
  clock?: () => number;
}

/** Who a card instance goes to: one person's robot chat, or a group. */
export type DingTalkSpace = { kind: 'user'; id: string } | { kind: 'chat'; id: string };

export interface DingTalkClient {
  /** `POST /v1.0/robot/oToMessages/batchSend` to one staff id; throws when DingTalk lists it as invalid. */
  sendToUser(robotCode: string, userId: string, msgKey: string, msgParam: object): Promise<string>;
  /** `POST /v1.0/robot/groupMessages/send`. */
  sendToGroup(
    robotCode: string,
    openConversationId: string,
    msgKey: string,
    msgParam: object,
  ): Promise<string>;
  /** `POST /v1.0/card/instances/createAndDeliver` (callbacks over Stream). */
  createAndDeliverCard(input: {
    cardTemplateId: string;
    outTrackId: string;
    robotCode: string;
    to: DingTalkSpace;
    cardParamMap: Record<string, string>;
  }): Promise<void>;
  /** `PUT /v1.0/card/instances`: new values for the card's variables. */
  updateCard(outTrackId: string, cardParamMap: Record<string, string>): Promise<void>;
  /** POST a message to a robot message's `sessionWebhook`. */
  sendBySession(url: string, message: object): Promise<void>;
}

/** Creates the client; nothing is requested until a call needs it. */
export function createDingTalkClient(config: DingTalkClientConfig): DingTalkClient {
  const baseUrl = (config.baseUrl || DINGTALK_DEFAULT_API_URL).replace(/\/+$/, '');
  const timeoutMs = config.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  const clock = config.clock ?? Date.now;
  let token: { value: string; until: number } | undefined;
  let pending: Promise<string> | undefined;

  async function request(method: string, url: string, body: unknown, headers: Record<string, string>) {
    let response: Response;
    try {
      response = await fetch(url, {
        method,
        headers: { 'content-type': 'application/json', accept: 'application/json', ...headers },
        body: JSON.stringify(body),
        signal: AbortSignal.timeout(timeoutMs),
      });
    } catch (cause) {
      const what = `${method} ${new URL(url).pathname}`;
      throw new DingTalkApiError(`dingtalk ${what} failed: ${(cause as Error).name ?? 'network error'}`, {
        retryable: true,
      });
    }
    const text = await response.text();
    let json: unknown;
    try {
      json = text ? JSON.parse(text) : {};
    } catch {
      json = {};
    }
    return { status: response.status, json: (json ?? {}) as Record<string, unknown> };
  }

  function failure(what: string, status: number, json: Record<string, unknown>): DingTalkApiError {
    const code = typeof json.code === 'string' ? json.code : undefined;
    const message = typeof json.message === 'string' ? json.message.slice(0, 200) : '';
    return new DingTalkApiError(
      `dingtalk ${what} failed: ${status}${code ? ` ${code}` : ''} ${message}`.trim(),
      {
        status,
        ...(code ? { code } : {}),
        retryable: status >= 500 || status === 429,
      },
    );
  }

  async function fetchToken(): Promise<string> {
    const { status, json } = await request(
      'POST',
      `${baseUrl}/v1.0/oauth2/accessToken`,
      { appKey: config.appKey, appSecret: config.appSecret },
      {},
    );
    if (status !== 200 || typeof json.accessToken !== 'string') throw failure('access token', status, json);
    const expireIn = typeof json.expireIn === 'number' ? json.expireIn : 7200;
    token = { value: json.accessToken, until: clock() + expireIn * 1000 - TOKEN_MARGIN_MS };
    return json.accessToken;
  }

  /** The cached token, or one fetched now (concurrent callers share the fetch). */
  function accessToken(): Promise<string> {
    if (token && clock() < token.until) return Promise.resolve(token.value);
    if (!pending) {
      pending = fetchToken().finally(() => {
        pending = undefined;
      });
    }
    return pending;
  }

  async function call(method: string, path: string, body: unknown): Promise<Record<string, unknown>> {
    for (let attempt = 0; ; attempt += 1) {
      const value = await accessToken();
      const { status, json } = await request(method, `${baseUrl}${path}`, body, {
        'x-acs-dingtalk-access-token': value,
      });
      if (status === 200) return json;
      if (status === 401 && attempt === 0) {
        // Revoked or expired early: drop it and try once more with a fresh one.
        if (token?.value === value) token = undefined;
        continue;
      }
      throw failure(`${method} ${path}`, status, json);
    }
  }

  return {
    async sendToUser(robotCode, userId, msgKey, msgParam) {
      const json = await call('POST', '/v1.0/robot/oToMessages/batchSend', {
        robotCode,
        userIds: [userId],
        msgKey,
        msgParam: JSON.stringify(msgParam),
      });
      const invalid = Array.isArray(json.invalidStaffIdList) ? json.invalidStaffIdList : [];
      if (invalid.includes(userId)) {
        throw new DingTalkApiError('dingtalk batchSend: the staff id is not valid for this robot', {
          code: 'invalidStaffId',
        });
      }
      const flow = Array.isArray(json.flowControlledStaffIdList) ? json.flowControlledStaffIdList : [];
      if (flow.includes(userId)) {
        throw new DingTalkApiError('dingtalk batchSend: flow controlled', {
          code: 'flowControlled',
          retryable: true,
        });
      }
      return typeof json.processQueryKey === 'string' ? json.processQueryKey : '';
    },

    async sendToGroup(robotCode, openConversationId, msgKey, msgParam) {
      const json = await call('POST', '/v1.0/robot/groupMessages/send', {
        robotCode,
        openConversationId,
        msgKey,
        msgParam: JSON.stringify(msgParam),
      });
      return typeof json.processQueryKey === 'string' ? json.processQueryKey : '';
    },

    async createAndDeliverCard(input) {
      const space =
        input.to.kind === 'user'
          ? {
              openSpaceId: `dtv1.card//IM_ROBOT.${input.to.id}`,
              imRobotOpenSpaceModel: { supportForward: false },
              imRobotOpenDeliverModel: { spaceType: 'IM_ROBOT', robotCode: input.robotCode },
            }
          : {
              openSpaceId: `dtv1.card//IM_GROUP.${input.to.id}`,
              imGroupOpenSpaceModel: { supportForward: false },
              imGroupOpenDeliverModel: { robotCode: input.robotCode },
            };
      const json = await call('POST', '/v1.0/card/instances/createAndDeliver', {
        cardTemplateId: input.cardTemplateId,
        outTrackId: input.outTrackId,
        callbackType: 'STREAM',
        cardData: { cardParamMap: input.cardParamMap },
        ...space,
      });
      const result = (json.result ?? {}) as {
        deliverResults?: Array<{ success?: boolean; errorMsg?: string }>;
      };
      const failed = (result.deliverResults ?? []).find((r) => r.success === false);
      if (json.success === false || failed) {
        throw new DingTalkApiError(
          `dingtalk createAndDeliver: not delivered${failed?.errorMsg ? `: ${failed.errorMsg.slice(0, 200)}` : ''}`,
          { code: 'notDelivered' },
        );
      }
    },

    async updateCard(outTrackId, cardParamMap) {
      await call('PUT', '/v1.0/card/instances', {
        outTrackId,
        cardData: { cardParamMap },
        cardUpdateOptions: { updateCardDataByKey: true },
      });
    },

    async sendBySession(url, message) {
      const { status, json } = await request('POST', url, message, {});
      // The session webhook answers in the old API's style: errcode 0 is success.
      if (status !== 200 || (typeof json.errcode === 'number' && json.errcode !== 0)) {
        throw new DingTalkApiError(
          `dingtalk session webhook failed: ${status} ${String(json.errcode ?? '')} ${String(json.errmsg ?? '').slice(0, 200)}`.trim(),
          { status, retryable: status >= 500 || status === 429 },
        );
      }
    },
  };
}
