import { Hono } from 'hono';
import type { Actor } from '../../core/approvals/types.ts';
import { cardFor, describeState } from '../../core/cards.ts';
import type {
  ChatAdapter,
  ChatAnswer,
  ChatUser,
  CommandItem,
  DecisionItem,
  Handled,
  Inbound,
} from '../../core/chat.ts';
import { type UserPlatform, userFor } from '../../core/config.ts';
import { readRawBody } from '../body.ts';
import { runCommand } from '../commands/index.ts';
import type { AppDeps } from '../deps.ts';

/** The configured user behind a chat identity, and the actor it acts as. */
function actorFor(deps: AppDeps, chatUser: ChatUser): Actor {
  const user = userFor(deps.config, chatUser.platform as UserPlatform, chatUser.id);
  const name = (user && deps.config.users[user]?.name) || chatUser.name || chatUser.id;
  return { platform: chatUser.platform, id: chatUser.id, name, ...(user ? { user } : {}) };
}

/**
 * `POST /webhooks/<platform>` for one chat adapter: the adapter verifies and parses, each item
 * goes to one use case (a decision, a command) once per platform event, and the adapter
 * answers in its platform's way. Nothing here knows what a platform can edit or reply to.
 */
export function chatWebhook(deps: AppDeps, adapter: ChatAdapter): Hono {
  const app = new Hono();
  app.post('/', async (c) => {
    const body = await readRawBody(c, deps.config.maxBodyBytes, [
      ...(adapter.contentTypes ?? ['application/json']),
    ]);
    const now = deps.now();
    const inbound = await adapter.receive({ body, header: (name) => c.req.header(name), now });
    const answer = await handleChatItems(deps, adapter, inbound, now);
    for (const error of answer.failed)
      deps.log('warn', 'chat reply failed', { platform: adapter.platform, error });
    return c.json(answer.body as object, 200);
  });
  return app;
}

/**
 * Each verified item to its use case, once per platform event, then the adapter's answer. The
 * route calls it for a webhook; DingTalk's Stream mode (local runtime) for a pushed message.
 */
export async function handleChatItems(
  deps: AppDeps,
  adapter: ChatAdapter,
  inbound: Inbound[],
  now: Date,
): Promise<ChatAnswer> {
  const handled: Handled[] = [];
  for (const item of inbound) handled.push(await handle(deps, adapter, item, now));
  return adapter.answer(handled);
}

async function handle(deps: AppDeps, adapter: ChatAdapter, item: Inbound, now: Date): Promise<Handled> {
  switch (item.kind) {
    case 'reply':
      return { kind: 'reply', body: item.body };
    case 'ignored':
      return { kind: 'ignored' };
    case 'decision': {
      const done = await once(deps, adapter, item.eventId, now, () => decision(deps, adapter, item, now));
      if (!done.duplicate) return done.value;
      // The same event again (a retry, a redelivery): the card's current state, no effect.
      const current = await deps.store.get(item.approvalId);
      return {
        kind: 'decision',
        item,
        duplicate: true,
        ...(current ? { card: cardFor(current, { publicUrl: deps.config.console.publicUrl }) } : {}),
      };
    }
    case 'command': {
      const done = await once(deps, adapter, item.eventId, now, () => command(deps, adapter, item));
      return done.duplicate ? { kind: 'command', item, duplicate: true } : done.value;
    }
  }
}

/** Run `work` once per platform event id (the claim is released when it throws, so a redelivery is processed). */
async function once<T>(
  deps: AppDeps,
  adapter: ChatAdapter,
  eventId: string | undefined,
  now: Date,
  work: () => Promise<T>,
): Promise<{ duplicate: false; value: T } | { duplicate: true }> {
  if (!eventId) return { duplicate: false, value: await work() };
  return deps.dedupe.once(adapter.platform, eventId, now, work);
}

async function decision(
  deps: AppDeps,
  adapter: ChatAdapter,
  item: DecisionItem,
  now: Date,
): Promise<Handled> {
  const answered = adapter.answeredBy(item);
  const result = await deps.signoff.approvals.decide(
    {
      approvalId: item.approvalId,
      actor: actorFor(deps, item.actor),
      decision: item.decision,
      ...(item.comment ? { comment: item.comment } : {}),
      now,
    },
    answered ? { answered } : {},
  );
  const approval = result.approval ?? (await deps.store.get(item.approvalId));
  const card = approval ? cardFor(approval, { publicUrl: deps.config.console.publicUrl }) : undefined;
  deps.log('info', 'chat decision', {
    platform: adapter.platform,
    approvalId: item.approvalId,
    outcome: result.outcome,
  });
  const toast =
    result.outcome === 'refused'
      ? {
          kind: 'error' as const,
          // A step-up refusal carries where to go: the confirmation page.
          text:
            result.reason === 'confirm-signed-in' && card?.confirmUrl
              ? `${result.message}: ${card.confirmUrl}`
              : result.message,
        }
      : { kind: 'success' as const, text: card ? describeState(card.state) : 'recorded' };
  return { kind: 'decision', item, toast, ...(card ? { card } : {}) };
}

/** A chat command, answered where it was written (a button's command carries its `intent` key). */
async function command(deps: AppDeps, adapter: ChatAdapter, item: CommandItem): Promise<Handled> {
  const actor = actorFor(deps, item.actor);
  const notice = await runCommand(deps, {
    ...(actor.user ? { user: actor.user } : {}),
    chatUser: item.actor,
    text: item.text,
    ...(item.eventId ? { eventId: `${adapter.platform}-${item.eventId}` } : {}),
    ...(item.intent ? { intent: { platform: adapter.platform, key: item.intent } } : {}),
  });
  return { kind: 'command', item, notice };
}
