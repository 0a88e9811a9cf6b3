import { Hono } from 'hono';
import type { Actor } from '../../core/approvals/types.ts';
import { cardFor, describeState } from '../../core/cards.ts';
import type { ChatAdapter, ChatUser, Inbound } from '../../core/chat.ts';
import { type Platform, userFor } from '../../core/config.ts';
import { readRawBody } from '../body.ts';
import { runCommand } from '../commands/index.ts';
import type { AppDeps } from '../deps.ts';

type ChatPlatform = Exclude<Platform, 'system'>;

/** The configured user behind a chat identity, and the actor it acts as. */
function actorFor(deps: AppDeps, chatUser: ChatUser): Actor {
  const user = userFor(deps.config, chatUser.platform as ChatPlatform, chatUser.id);
  const name = (user && deps.config.users[user]?.name) || chatUser.name || chatUser.id;
  return { platform: chatUser.platform, id: chatUser.id, name, ...(user ? { user } : {}) };
}

/**
 * `POST /webhooks/<platform>` for one chat adapter: verify and parse (the adapter), then
 * de-duplicate on the platform's event id, decide or run the command, and answer within the
 * platform's time limit. The same route serves Lark, LINE and every later platform.
 */
export function chatWebhook(deps: AppDeps, adapter: ChatAdapter): Hono {
  const app = new Hono();
  app.post('/', async (c) => {
    const body = await readRawBody(c, deps.config.maxBodyBytes);
    const now = deps.now();
    const inbound = await adapter.receive({ body, header: (name) => c.req.header(name), now });
    let answer: unknown = {};
    for (const item of inbound) {
      const result = await handle(deps, adapter, item, now);
      if (result !== undefined) answer = result;
    }
    return c.json(answer as object, 200);
  });
  return app;
}

async function handle(deps: AppDeps, adapter: ChatAdapter, item: Inbound, now: Date): Promise<unknown> {
  switch (item.kind) {
    case 'reply':
      return item.body;
    case 'ignored':
      return undefined;
    case 'decision': {
      if (item.eventId && !(await deps.dedupe.claim(adapter.platform, item.eventId, now))) {
        const current = await deps.store.get(item.approvalId);
        return adapter.answerDecision?.(current ? cardFor(current) : undefined, undefined, {
          legacy: item.legacy ?? false,
        });
      }
      const actor = actorFor(deps, item.actor);
      const result = await deps.approvals.decide(
        {
          approvalId: item.approvalId,
          actor,
          decision: item.decision,
          ...(item.comment ? { comment: item.comment } : {}),
          now,
        },
        answeredBy(adapter, item),
      );
      const approval = result.approval ?? (await deps.store.get(item.approvalId));
      const card = approval ? cardFor(approval) : undefined;
      const toast =
        result.outcome === 'refused'
          ? { kind: 'error' as const, text: result.message }
          : { kind: 'success' as const, text: card ? describeState(card.state) : 'recorded' };
      deps.log('info', 'chat decision', {
        platform: adapter.platform,
        approvalId: item.approvalId,
        outcome: result.outcome,
      });
      if (adapter.answerDecision)
        return adapter.answerDecision(card, toast, { legacy: item.legacy ?? false });
      // Platforms whose messages cannot be edited answer the clicker with a message.
      if (item.where)
        await safely(deps, adapter, () =>
          adapter.notify(item.where as never, { text: toast.text }, item.replyToken),
        );
      return undefined;
    }
    case 'command': {
      if (item.eventId && !(await deps.dedupe.claim(adapter.platform, item.eventId, now))) return undefined;
      const actor = actorFor(deps, item.actor);
      const notice = await runCommand(deps, {
        ...(actor.user ? { user: actor.user } : {}),
        chatUser: item.actor,
        text: item.text,
        ...(item.eventId ? { eventId: `${adapter.platform}-${item.eventId}` } : {}),
      });
      await safely(deps, adapter, () => adapter.notify(item.where, notice, item.replyToken));
      return undefined;
    }
  }
}

/**
 * The card the answer to this click already shows the new state on: the clicked message where
 * the callback response updates it (Lark), else the chat the answer is replied to (LINE), so
 * the clicker does not get the same state twice.
 */
function answeredBy(adapter: ChatAdapter, item: Extract<Inbound, { kind: 'decision' }>) {
  if (item.message) return { answered: item.message };
  if (!adapter.answerDecision && item.where)
    return { answered: { platform: adapter.platform, id: '', to: item.where.id } };
  return {};
}

/** A reply that cannot be delivered is logged; the platform still gets its 200 (no redelivery storm). */
async function safely(deps: AppDeps, adapter: ChatAdapter, send: () => Promise<void>): Promise<void> {
  try {
    await send();
  } catch (error) {
    deps.log('warn', 'chat reply failed', { platform: adapter.platform, error: String(error) });
  }
}
