import pRetry, { type Options as RetryOptions } from 'p-retry';
import { cardHolders } from '../core/approvals/seats.ts';
import type { ApprovalChannel, SendResult } from '../core/approvals/service.ts';
import type { Approval, MessageRef } from '../core/approvals/types.ts';
import { cardFor } from '../core/cards.ts';
import type { ChatAdapter, Recipient } from '../core/chat.ts';
import type { ChatPlatform, Config } from '../core/config.ts';
import { type LanguageOf, readerLanguage } from '../core/languages.ts';

/**
 * Backoff between attempts of a chat API call that failed with a retryable error (429, 5xx,
 * timeouts): three retries after 200 ms, 800 ms and 2 s, each but the last stretched by up to 2×
 * at random so that calls failing together do not come back together.
 */
const CHAT_RETRY: RetryOptions = {
  retries: 3,
  minTimeout: 200,
  factor: 4,
  maxTimeout: 2000,
  randomize: true,
};

/** Run a chat API call, retrying retryable failures with backoff; the last error is thrown. */
export function withRetries<T>(call: () => Promise<T>, backoff: RetryOptions = CHAT_RETRY): Promise<T> {
  return pRetry(call, {
    ...backoff,
    shouldRetry: ({ error }) => (error as { retryable?: unknown }).retryable === true,
  });
}

/** A short reason for an audit record: the error's message, never its request (headers carry tokens). */
function reasonOf(error: unknown): string {
  const message = error instanceof Error ? error.message : String(error);
  return message.length > 200 ? `${message.slice(0, 197)}...` : message;
}

/**
 * Approval cards and notices on one chat platform: who gets them comes from the
 * configuration (a policy's group chats, else each approver's id on the platform, else their
 * email through the platform's directory lookup). Each card is in its reader's language
 * (`languageOf`; a group chat's in the configuration's `language`), and its updates stay in it.
 */
export function createChatChannel(
  adapter: ChatAdapter,
  config: Config,
  log: (message: string, fields?: Record<string, unknown>) => void,
  options: { languageOf?: LanguageOf } = {},
): ApprovalChannel & { recipientFor(user: string): Promise<Recipient | undefined> } {
  const languageOf = options.languageOf ?? readerLanguage(config);
  const platform = adapter.platform as ChatPlatform;
  const emailCache = new Map<string, string | undefined>();

  async function recipientFor(user: string): Promise<Recipient | undefined> {
    const entry = config.users[user];
    if (!entry) return undefined;
    const id = entry[platform];
    if (id) return { kind: 'user', id };
    if (!entry.email || !adapter.lookupByEmail) return undefined;
    if (!emailCache.has(entry.email)) {
      try {
        emailCache.set(entry.email, await adapter.lookupByEmail(entry.email));
      } catch (error) {
        log('email lookup failed', { platform, user, error: String(error) });
        return undefined;
      }
    }
    const found = emailCache.get(entry.email);
    return found ? { kind: 'user', id: found } : undefined;
  }

  /** Who gets a card, and the user key of a person (undefined for a group chat). */
  async function recipientsFor(approval: Approval): Promise<Array<{ to: Recipient; user?: string }>> {
    const chats = approval.policy.chats?.[platform];
    if (chats && chats.length > 0) return chats.map((id) => ({ to: { kind: 'chat', id } }));
    // Each approver, or their delegate when the approval was asked while they were away.
    const found = await Promise.all(
      cardHolders(approval).map(async (user) => {
        const to = await recipientFor(user);
        return to ? { to, user } : undefined;
      }),
    );
    return found.filter((r) => r !== undefined);
  }

  const cardIn = (approval: Approval, language: MessageRef['language']) =>
    cardFor(approval, { publicUrl: config.console.publicUrl, language: language ?? config.language });

  return {
    platform,
    recipientFor,
    async send(approval) {
      const sent: MessageRef[] = [];
      const undelivered: SendResult['undelivered'] = [];
      // A retried request (after a crash) sends only to those who have no card yet.
      const done = new Set(approval.cards.filter((r) => r.platform === platform).map((r) => r.recipient));
      for (const { to, user } of await recipientsFor(approval)) {
        const recipient = `${to.kind}:${to.id}`;
        if (done.has(recipient)) continue;
        try {
          const language = await languageOf(user);
          const card = cardIn(approval, language);
          sent.push({ ...(await withRetries(() => adapter.send(to, card))), recipient, language });
        } catch (error) {
          // One unreachable approver must not keep the others from their card.
          log('card not sent', { platform, approvalId: approval.approvalId, error: String(error) });
          undelivered.push({ recipient, reason: reasonOf(error) });
        }
      }
      return { sent, undelivered };
    },
    async update(approval, ref) {
      await withRetries(() => adapter.update(ref, cardIn(approval, ref.language)));
    },
    async notify(user, notice) {
      const to = await recipientFor(user);
      if (!to) return false;
      await withRetries(() => adapter.notify(to, notice));
      return true;
    },
  };
}
