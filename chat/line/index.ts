/**
 * LINE as a chat adapter: verify and parse webhooks, push Flex cards, answer with the reply
 * token when it is still usable and push otherwise. Sent LINE messages cannot be edited, so
 * `update` pushes a new message showing the new state.
 * Protocol notes: docs/line.md and ../shared/docs/platforms.md §2.
 */
import { createHash } from 'node:crypto';
import type { messagingApi } from '@line/bot-sdk';
import type { MessageRef } from '../../core/approvals/types.ts';
import type {
  Card,
  ChatAdapter,
  ChatAnswer,
  Handled,
  Inbound,
  Notice,
  RawRequest,
  ReceiveContext,
  Recipient,
} from '../../core/chat.ts';
import { translate } from '../../core/messages/index.ts';
import { createLineClient, LineApiError, type LineClient } from './client.ts';
import { type LineAnswer, parseLineEvents } from './parse.ts';
import { renderLineReasonPrompt } from './reason-prompt.ts';
import { renderLineCard, renderLineNotice, renderLineStateUpdate, renderLineText } from './render.ts';
import { verifyLineRequest } from './verify.ts';

export {
  createLineClient,
  LINE_DEFAULT_API_BASE_URL,
  LineApiError,
  type LineClient,
  type LineProfile,
  type LinePushResult,
  resolveLineBaseUrl,
} from './client.ts';
export { type LineParsedEvent, parseLineEvents, parseLineWebhook, stripMentions } from './parse.ts';
export {
  commandData,
  decisionData,
  LINE_POSTBACK_DATA_MAX,
  readPostbackData,
  reasonData,
} from './postback.ts';
export { renderLineReasonPrompt } from './reason-prompt.ts';
export { renderLineCard, renderLineNotice, renderLineStateUpdate, renderLineText } from './render.ts';
export { LINE_SIGNATURE_HEADER, lineSignature, verifyLineRequest } from './verify.ts';

export interface LineConfig {
  /** LINE_CHANNEL_SECRET: signs every webhook. */
  channelSecret: string;
  /** LINE_CHANNEL_ACCESS_TOKEN: a long-lived channel access token. */
  channelAccessToken: string;
  /** LINE_API_BASE_URL: only for tests (the fake); default https://api.line.me. */
  apiBaseUrl?: string;
  /** Per Messaging API call (default 10 000 ms). */
  timeoutMs?: number;
  /** How long `receive` waits for display names before answering without them (default 800 ms). */
  profileBudgetMs?: number;
}

/**
 * A reply token is valid for about a minute after the webhook (platforms.md §2); past this age
 * we push instead of risking a failed reply.
 */
const REPLY_TOKEN_MAX_AGE_MS = 50_000;
const DEFAULT_PROFILE_BUDGET_MS = 800;

/** Creates the adapter; `deps.client` replaces the SDK-backed client. No request is made until needed. */
export function createLineAdapter(
  config: LineConfig,
  deps: { client?: LineClient; clock?: () => number } = {},
): ChatAdapter {
  const client =
    deps.client ??
    createLineClient({
      channelAccessToken: config.channelAccessToken,
      ...(config.apiBaseUrl ? { baseUrl: config.apiBaseUrl } : {}),
      ...(config.timeoutMs ? { timeoutMs: config.timeoutMs } : {}),
    });
  const clock = deps.clock ?? Date.now;
  const profileBudget = config.profileBudgetMs ?? DEFAULT_PROFILE_BUDGET_MS;
  /** Reply tokens seen in webhooks: when they arrived, and whether we used them. */
  const tokens = new Map<string, { receivedAt: number; used: boolean }>();

  function remember(token: string): void {
    const now = clock();
    for (const [key, value] of tokens) {
      if (now - value.receivedAt > 2 * REPLY_TOKEN_MAX_AGE_MS) tokens.delete(key);
    }
    if (!tokens.has(token)) tokens.set(token, { receivedAt: now, used: false });
  }

  function usable(token: string): boolean {
    const seen = tokens.get(token);
    if (!seen) return true; // not from a webhook we saw: let LINE decide
    return !seen.used && clock() - seen.receivedAt <= REPLY_TOKEN_MAX_AGE_MS;
  }

  async function fillNames(inbound: Inbound[]): Promise<void> {
    const actors = inbound.flatMap((item) =>
      (item.kind === 'command' || item.kind === 'decision') && !item.actor.name ? [item.actor] : [],
    );
    if (actors.length === 0) return;
    const ids = [...new Set(actors.map((a) => a.id))];
    const names = new Map<string, string>();
    await withBudget(
      Promise.all(
        ids.map(async (id) => {
          try {
            const profile = await client.getProfile(id);
            if (profile?.displayName) names.set(id, profile.displayName);
          } catch {
            // Best effort: the route falls back to the configured name or the id.
          }
        }),
      ),
      profileBudget,
    );
    for (const actor of actors) {
      const name = names.get(actor.id);
      if (name) actor.name = name;
    }
  }

  async function answer(replyToken: string, text: string): Promise<void> {
    if (!usable(replyToken)) return;
    markUsed(replyToken);
    try {
      await client.reply(replyToken, [renderLineText(text)]);
    } catch {
      // An answer to an ignored event is a courtesy; a redelivery finds its token used.
    }
  }

  /** An ignored event's answer, in the language of whom it is for (the configuration's for a stranger or a group). */
  async function answerIn(owed: LineAnswer, context: ReceiveContext | undefined): Promise<void> {
    const language = (await context?.languageOf(owed.to).catch(() => undefined)) ?? 'en';
    await answer(owed.replyToken, translate(language, owed.key, owed.vars));
  }

  /** Reply with the token while it is usable, else push. */
  async function deliver(
    to: Recipient,
    messages: messagingApi.Message[],
    replyToken?: string,
  ): Promise<void> {
    if (replyToken && usable(replyToken)) {
      markUsed(replyToken);
      try {
        await client.reply(replyToken, messages);
        return;
      } catch (error) {
        // 400 is LINE's answer to an expired or used token: nothing was sent, so push. Any
        // other failure may or may not have delivered the reply; pushing could say it twice.
        if (!(error instanceof LineApiError) || error.status !== 400) throw error;
      }
    }
    await client.push(to.id, messages);
  }

  function markUsed(token: string): void {
    const seen = tokens.get(token);
    if (seen) seen.used = true;
    else tokens.set(token, { receivedAt: clock(), used: true });
  }

  return {
    platform: 'line',

    async receive(request: RawRequest, context?: ReceiveContext): Promise<Inbound[]> {
      const body = verifyLineRequest(request, config.channelSecret);
      const events = parseLineEvents(body);
      for (const event of events) {
        const item = event.inbound;
        if ((item.kind === 'command' || item.kind === 'decision') && item.replyToken)
          remember(item.replyToken);
        if (event.answer) remember(event.answer.replyToken);
      }
      const inbound = events.map((e) => e.inbound);
      await Promise.all([
        fillNames(inbound),
        ...events.flatMap((e) => (e.answer ? [answerIn(e.answer, context)] : [])),
      ]);
      return inbound;
    },

    async send(to: Recipient, card: Card): Promise<MessageRef> {
      // Same approval, same recipient → same retry key: a retried send within LINE's 24 h
      // window answers 409 instead of posting a second card.
      const result = await client.push(
        to.id,
        [renderLineCard(card)],
        retryKey('card', card.approvalId, to.id),
      );
      const id = result.sentMessageIds[0] ?? result.requestId ?? `card-${card.approvalId}`;
      return { platform: 'line', id, to: to.id };
    },

    async update(ref: MessageRef, card: Card): Promise<void> {
      if (!ref.to) throw new LineApiError('line update: the message reference has no recipient (to)');
      // LINE messages cannot be edited: post the new state as a new message. The key makes the
      // same state for the same recipient a single message, however often it is retried.
      const state = renderLineStateUpdate(card);
      await client.push(ref.to, [state], retryKey('state', card.approvalId, ref.to, state.text));
    },

    // LINE messages cannot be edited: the clicker's answer is a reply in their chat.
    answeredBy: (item) => (item.where ? { platform: 'line', to: item.where.id } : undefined),

    async answer(handled: Handled[]): Promise<ChatAnswer> {
      const failed: string[] = [];
      const reply = (to: Recipient, notice: Notice, token?: string) =>
        this.notify(to, notice, token).catch((error: unknown) => {
          failed.push(String(error));
        });
      // In the order the events came: one person's answers arrive in the order they asked.
      for (const done of handled) {
        if (done.kind === 'decision' && done.prompt && done.item.where)
          await deliver(done.item.where, [renderLineReasonPrompt(done.prompt)], done.item.replyToken).catch(
            (error: unknown) => {
              failed.push(String(error));
            },
          );
        if (done.kind === 'decision' && done.toast && done.item.where)
          await reply(done.item.where, { text: done.toast.text }, done.item.replyToken);
        if (done.kind === 'command' && done.notice)
          await reply(done.item.where, done.notice, done.item.replyToken);
      }
      return { body: {}, failed };
    },

    async notify(to: Recipient, notice: Notice, replyToken?: string): Promise<void> {
      await deliver(to, renderLineNotice(notice), replyToken);
    },
  };
}

/** A UUID-shaped key derived from its parts (LINE accepts any hexadecimal UUID). */
export function retryKey(...parts: string[]): string {
  const hex = createHash('sha256').update(parts.join('\n')).digest('hex');
  const variant = ((Number.parseInt(hex.charAt(16), 16) & 0x3) | 0x8).toString(16);
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-4${hex.slice(13, 16)}-${variant}${hex.slice(17, 20)}-${hex.slice(20, 32)}`;
}

async function withBudget(work: Promise<unknown>, ms: number): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  await Promise.race([
    work,
    new Promise<void>((resolve) => {
      timer = setTimeout(resolve, ms);
    }),
  ]);
  clearTimeout(timer);
}
