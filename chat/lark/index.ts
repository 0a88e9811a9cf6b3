/**
 * Lark / Feishu as a chat adapter: verify and parse callbacks, send and patch cards.
 * Protocol notes: docs/lark.md and ../shared/docs/platforms.md §1.
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
import { ConfigError } from '../../core/errors.ts';
import { createLarkClient, type LarkClient, type LarkReceiveIdType } from './client.ts';
import { parseLarkEvent } from './parse.ts';
import {
  renderLarkCallbackAnswer,
  renderLarkCard,
  renderLarkNotice,
  renderLegacyCallbackAnswer,
} from './render.ts';
import { verifyLarkRequest } from './verify.ts';

export { createLarkClient, LarkApiError, type LarkClient, resolveLarkDomain } from './client.ts';
export { parseLarkEvent } from './parse.ts';
export {
  type LarkCallbackAnswer,
  renderLarkCallbackAnswer,
  renderLarkCard,
  renderLarkNotice,
  renderLegacyCallbackAnswer,
} from './render.ts';
export { verifyLarkRequest } from './verify.ts';

export interface LarkConfig {
  appId: string;
  appSecret: string;
  /** LARK_VERIFICATION_TOKEN. */
  verificationToken?: string;
  /**
   * LARK_ENCRYPT_KEY; required (createLarkAdapter throws without it). Optional in the type only
   * so that configuration read from the environment reaches the check that names it.
   */
  encryptKey?: string;
  /** LARK_DOMAIN: `feishu` (default), `lark`, or a base URL (tests point it at a fake). */
  domain?: string;
  /** Replay window for X-Lark-Request-Timestamp, in seconds (default 300). */
  toleranceSeconds?: number;
  /** Per Open Platform call (default 10 000). */
  timeoutMs?: number;
}

/**
 * Creates the adapter; `deps.client` replaces the SDK-backed client. No request is made until
 * needed. Throws a ConfigError without an Encrypt Key (see verify.ts and docs/lark.md §4).
 */
export function createLarkAdapter(config: LarkConfig, deps: { client?: LarkClient } = {}): ChatAdapter {
  const encryptKey = config.encryptKey;
  if (!encryptKey) {
    throw new ConfigError(
      'LARK_ENCRYPT_KEY is required when LARK_APP_ID is set: without an Encrypt Key Lark signs nothing, ' +
        'so a card click could be forged from the Verification Token any callback body shows ' +
        '(set one under Events & Callbacks → Encryption Strategy; docs/lark.md §4)',
    );
  }
  const client =
    deps.client ??
    createLarkClient({
      appId: config.appId,
      appSecret: config.appSecret,
      ...(config.domain ? { domain: config.domain } : {}),
      ...(config.timeoutMs ? { timeoutMs: config.timeoutMs } : {}),
    });
  const secrets = {
    ...(config.verificationToken ? { verificationToken: config.verificationToken } : {}),
    encryptKey,
  };
  let bot: Promise<string> | undefined;

  /** Fetched on the first group message, then kept; a failure is not cached (the next event retries). */
  function botOpenId(): Promise<string> {
    if (!bot) {
      bot = client.botOpenId();
      bot.catch(() => {
        bot = undefined;
      });
    }
    return bot;
  }

  return {
    platform: 'lark',

    async receive(request: RawRequest): Promise<Inbound[]> {
      const body = verifyLarkRequest(request, secrets, {
        ...(config.toleranceSeconds !== undefined ? { toleranceSeconds: config.toleranceSeconds } : {}),
      });
      // Only a group message needs the bot's id; card clicks must answer within 3 s.
      return parseLarkEvent(body, isGroupMessage(body) ? await botOpenId() : undefined);
    },

    async send(to: Recipient, card: Card): Promise<MessageRef> {
      const [type, id] = receiver(to);
      // Same approval, same recipient → same uuid: a retried send inside Lark's dedupe window
      // does not post a second card.
      const messageId = await client.sendCard(
        type,
        id,
        renderLarkCard(card),
        sendUuid('card', card.approvalId, to),
      );
      return { platform: 'lark', id: messageId, to: `${to.kind}:${to.id}` };
    },

    async update(ref: MessageRef, card: Card): Promise<void> {
      await client.patchCard(ref.id, renderLarkCard(card));
    },

    async notify(to: Recipient, notice: Notice): Promise<void> {
      const [type, id] = receiver(to);
      await client.sendCard(type, id, renderLarkNotice(notice));
    },

    // The callback's response replaces the clicked card (Lark's 3-second answer).
    answeredBy: (item) => item.message,

    async answer(handled: Handled[]): Promise<ChatAnswer> {
      let body: unknown = {};
      const failed: string[] = [];
      for (const done of handled) {
        if (done.kind === 'reply') body = done.body;
        else if (done.kind === 'decision') {
          // The legacy card callback answers with the bare card (no toast there).
          if (done.item.legacy) body = done.card ? renderLegacyCallbackAnswer(done.card) : {};
          else body = renderLarkCallbackAnswer(done.card, done.toast);
        } else if (done.kind === 'command' && done.notice) {
          // A command's answer is a message of its own (an event's response is not shown).
          await this.notify(done.item.where, done.notice).catch((error: unknown) =>
            failed.push(String(error)),
          );
        }
      }
      return { body, failed };
    },

    lookupByEmail(email: string): Promise<string | undefined> {
      return client.lookupByEmail(email);
    },
  };
}

function receiver(to: Recipient): [LarkReceiveIdType, string] {
  return to.kind === 'user' ? ['open_id', to.id] : ['chat_id', to.id];
}

function sendUuid(kind: string, approvalId: string, to: Recipient): string {
  return createHash('sha256')
    .update(`${kind}\n${approvalId}\n${to.kind}\n${to.id}`)
    .digest('hex')
    .slice(0, 32);
}

function isGroupMessage(body: unknown): boolean {
  if (body === null || typeof body !== 'object') return false;
  const { header, event } = body as {
    header?: { event_type?: unknown };
    event?: { message?: { chat_type?: unknown } };
  };
  return header?.event_type === 'im.message.receive_v1' && event?.message?.chat_type === 'group';
}
