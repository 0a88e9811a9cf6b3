/**
 * DingTalk as a chat adapter: robot messages (HTTP mode, signed by timestamp + sign; or Stream
 * mode in the local runtime) become commands, interactive card clicks (Stream mode only) become
 * decisions, cards are created and delivered per recipient and updated in place by
 * `outTrackId`. Protocol notes: docs/dingtalk.md and ../shared/docs/platforms.md §4 and §9.
 */
import { createHash } from 'node:crypto';
import type { MessageRef } from '../../core/approvals/types.ts';
import type {
  Card,
  ChatAdapter,
  ChatAnswer,
  Handled,
  Inbound,
  Notice,
  RawRequest,
  Recipient,
} from '../../core/chat.ts';
import { InvalidInputError, UnauthenticatedError } from '../../core/errors.ts';
import {
  createDingTalkClient,
  DINGTALK_DEFAULT_API_URL,
  DingTalkApiError,
  type DingTalkClient,
} from './client.ts';
import { outTrackIdFor, parseDingTalkCardCallback, parseDingTalkMessage } from './parse.ts';
import {
  type DingTalkMessage,
  renderDingTalkActionCard,
  renderDingTalkCallbackAnswer,
  renderDingTalkCardParams,
  renderDingTalkNotice,
  renderDingTalkStateUpdate,
} from './render.ts';
import { CARD_CALLBACK_REFUSED, isCardCallbackBody, verifyDingTalkRequest } from './verify.ts';

export {
  createDingTalkClient,
  DINGTALK_DEFAULT_API_URL,
  DingTalkApiError,
  type DingTalkClient,
} from './client.ts';
export { cleanText, outTrackIdFor, parseDingTalkCardCallback, parseDingTalkMessage } from './parse.ts';
export {
  decisionPage,
  renderDingTalkActionCard,
  renderDingTalkCallbackAnswer,
  renderDingTalkCardParams,
  renderDingTalkNotice,
  renderDingTalkStateUpdate,
} from './render.ts';
export {
  CARD_CALLBACK_REFUSED,
  DINGTALK_TOLERANCE_MS,
  dingtalkSign,
  verifyDingTalkRequest,
} from './verify.ts';

/** The Stream topics Signoff subscribes to (dingtalk-stream's TOPIC_ROBOT and TOPIC_CARD). */
export const DINGTALK_TOPIC_ROBOT = '/v1.0/im/bot/messages/get';
export const DINGTALK_TOPIC_CARD = '/v1.0/card/instances/callback';

export interface DingTalkConfig {
  /** DINGTALK_APP_KEY (the Stream client id too). */
  appKey: string;
  /** DINGTALK_APP_SECRET: signs robot deliveries; the OpenAPI and Stream credentials. */
  appSecret: string;
  /** DINGTALK_ROBOT_CODE (defaults to the app key). */
  robotCode?: string;
  /** DINGTALK_CARD_TEMPLATE_ID: the approval card template; without it cards are ActionCards. */
  cardTemplateId?: string;
  /** DINGTALK_API_URL (default https://api.dingtalk.com; tests point it at the fake). */
  apiUrl?: string;
  /** DINGTALK_CORP_ID: when set, deliveries from any other organisation are refused. */
  corpId?: string;
  /** DINGTALK_CONSOLE_URL: the console's public base URL, for the ActionCard fallback's buttons. */
  consoleUrl?: string;
  /** Replay window for the `timestamp` header (default one hour, DingTalk's). */
  toleranceMs?: number;
  timeoutMs?: number;
}

/** The adapter, plus what Stream mode hands it (local runtime only). */
export interface DingTalkAdapter extends ChatAdapter {
  /**
   * A push received over Stream mode (the connection is authenticated with the app secret when
   * it opens, so pushes carry no signature): a robot message, or a card click.
   */
  receiveStream(topic: string, data: string, messageId: string, now: Date): Inbound[];
}

type Log = (message: string, fields?: Record<string, unknown>) => void;

/** Session webhooks live on DingTalk's old API host [doc-copy]; any other origin is not trusted. */
const SESSION_ORIGINS = ['https://oapi.dingtalk.com', 'https://api.dingtalk.com'];

/** Creates the adapter; `deps.client` replaces the fetch-based client. No request is made until needed. */
export function createDingTalkAdapter(
  config: DingTalkConfig,
  deps: { client?: DingTalkClient; clock?: () => number; log?: Log } = {},
): DingTalkAdapter {
  const clock = deps.clock ?? Date.now;
  const log: Log =
    deps.log ?? ((message, fields) => console.warn(JSON.stringify({ level: 'WARN', message, ...fields })));
  const client =
    deps.client ??
    createDingTalkClient({
      appKey: config.appKey,
      appSecret: config.appSecret,
      ...(config.apiUrl ? { baseUrl: config.apiUrl } : {}),
      ...(config.timeoutMs ? { timeoutMs: config.timeoutMs } : {}),
      clock,
    });
  const robotCode = config.robotCode || config.appKey;
  const apiOrigin = new URL(config.apiUrl || DINGTALK_DEFAULT_API_URL).origin;
  const sessionOrigins = new Set([...SESSION_ORIGINS, apiOrigin]);
  /** Session webhooks seen in verified messages, until they expire. */
  const sessions = new Map<string, number>();
  /** Signatures seen within the window, with the msgId they came with (a replay with another body is refused). */
  const signatures = new Map<string, { msgId: string; until: number }>();
  const parseOptions = (now: Date) => ({
    robotCode,
    ...(config.corpId ? { corpId: config.corpId } : {}),
    now,
  });

  function remember(session: { url: string; expiresAt: number } | undefined): void {
    const now = clock();
    for (const [url, until] of sessions) if (until <= now) sessions.delete(url);
    if (!session) return;
    if (!sessionOrigins.has(originOf(session.url))) {
      log('dingtalk session webhook on an unexpected host ignored', { origin: originOf(session.url) });
      return;
    }
    sessions.set(session.url, session.expiresAt);
  }

  /** Refuses a signature already used with another message (the body is not signed). */
  function guardReplay(sign: string, msgId: unknown, timestamp: number, toleranceMs: number): void {
    const now = clock();
    if (signatures.size > 10_000) {
      for (const [key, seen] of signatures) if (seen.until <= now) signatures.delete(key);
    }
    const id = typeof msgId === 'string' ? msgId : '';
    const seen = signatures.get(sign);
    if (seen && seen.until > now && seen.msgId !== id) {
      log('dingtalk replayed signature refused', { reason: 'the same sign came with another msgId' });
      throw new UnauthenticatedError(
        'dingtalk: this signature was already used for another message (replay)',
      );
    }
    if (!seen) signatures.set(sign, { msgId: id, until: timestamp + toleranceMs });
  }

  async function sendMessage(to: Recipient, message: DingTalkMessage): Promise<string> {
    return to.kind === 'user'
      ? client.sendToUser(robotCode, to.id, message.msgKey, message.msgParam)
      : client.sendToGroup(robotCode, to.id, message.msgKey, message.msgParam);
  }

  return {
    platform: 'dingtalk',

    async receive(request: RawRequest): Promise<Inbound[]> {
      if (isCardCallbackBody(request.body)) {
        log('dingtalk card callback refused', { reason: CARD_CALLBACK_REFUSED });
        throw new UnauthenticatedError(CARD_CALLBACK_REFUSED);
      }
      const toleranceMs = config.toleranceMs ?? 3_600_000;
      const verified = verifyDingTalkRequest(request, config.appSecret, toleranceMs);
      guardReplay(verified.sign, verified.body.msgId, verified.timestamp, toleranceMs);
      const parsed = parseDingTalkMessage(verified.body, parseOptions(request.now));
      remember(parsed.session);
      return [parsed.inbound];
    },

    receiveStream(topic: string, data: string, messageId: string, now: Date): Inbound[] {
      let body: unknown;
      try {
        body = JSON.parse(data);
      } catch {
        throw new InvalidInputError('dingtalk: the Stream push data is not JSON');
      }
      if (topic === DINGTALK_TOPIC_ROBOT) {
        const parsed = parseDingTalkMessage(body, parseOptions(now));
        remember(parsed.session);
        return [parsed.inbound];
      }
      if (topic === DINGTALK_TOPIC_CARD) {
        return [
          parseDingTalkCardCallback(body, {
            ...(config.corpId ? { corpId: config.corpId } : {}),
            now,
            eventId: `card-${messageId}`,
          }),
        ];
      }
      return [{ kind: 'ignored', reason: `dingtalk Stream topic ${topic} is not handled` }];
    },

    async send(to: Recipient, card: Card): Promise<MessageRef> {
      const recipient = `${to.kind}:${to.id}`;
      if (config.cardTemplateId) {
        const outTrackId = outTrackIdFor(card.approvalId, hash8(recipient));
        await client.createAndDeliverCard({
          cardTemplateId: config.cardTemplateId,
          outTrackId,
          robotCode,
          to,
          cardParamMap: renderDingTalkCardParams(card),
        });
        return { platform: 'dingtalk', id: outTrackId, to: recipient };
      }
      const key = await sendMessage(to, renderDingTalkActionCard(card, config.consoleUrl));
      return { platform: 'dingtalk', id: key || `card-${card.approvalId}`, to: recipient };
    },

    async update(ref: MessageRef, card: Card): Promise<void> {
      if (ref.id.startsWith('signoff.')) {
        await client.updateCard(ref.id, renderDingTalkCardParams(card));
        return;
      }
      // An ActionCard cannot be edited: the new state is a message of its own.
      const to = recipientOf(ref.to);
      if (!to) throw new DingTalkApiError('dingtalk update: the message reference has no recipient (to)');
      await sendMessage(to, renderDingTalkStateUpdate(card));
    },

    async notify(to: Recipient, notice: Notice, replyToken?: string): Promise<void> {
      const message = renderDingTalkNotice(notice);
      const until = replyToken ? sessions.get(replyToken) : undefined;
      if (replyToken && until !== undefined && until > clock()) {
        try {
          await client.sendBySession(replyToken, message.session);
          return;
        } catch (error) {
          // Refused (an errcode, a 4xx): nothing was sent, so send through the OpenAPI. A
          // timeout or 5xx may have delivered it; sending again could say it twice.
          if (!(error instanceof DingTalkApiError) || error.retryable) throw error;
          sessions.delete(replyToken);
        }
      }
      await sendMessage(to, message);
    },

    // The callback's answer is only an acknowledgement (and a clicker-only line): every copy,
    // the clicked one too, is updated in place with PUT /v1.0/card/instances.
    answeredBy: () => undefined,

    async answer(handled: Handled[]): Promise<ChatAnswer> {
      let body: unknown = {};
      const failed: string[] = [];
      for (const done of handled) {
        if (done.kind === 'decision') body = renderDingTalkCallbackAnswer(done.toast);
        else if (done.kind === 'command' && done.notice) {
          await this.notify(done.item.where, done.notice, done.item.replyToken).catch((error: unknown) => {
            failed.push(String(error));
          });
        }
      }
      return { body, failed };
    },
  };
}

function hash8(value: string): string {
  return createHash('sha256').update(value).digest('hex').slice(0, 8);
}

function originOf(url: string): string {
  try {
    return new URL(url).origin;
  } catch {
    return '';
  }
}

function recipientOf(to: string | undefined): Recipient | undefined {
  if (!to) return undefined;
  const at = to.indexOf(':');
  const kind = to.slice(0, at);
  const id = to.slice(at + 1);
  if (!id || (kind !== 'user' && kind !== 'chat')) return undefined;
  return { kind, id };
}
