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
      const decided = await onceFor(deps, adapter, item.eventId, now, () =>
        decision(deps, adapter, item, now),
      );
      if (!decided.duplicate) return decided.value;
      // The same event again (a retry, a redelivery): answered with the card's current state, no effect.
      const current = await deps.store.get(item.approvalId);
      return adapter.answerDecision?.(current ? cardFor(current) : undefined, undefined, {
        legacy: item.legacy ?? false,
      });
    }
    case 'command': {
      await onceFor(deps, adapter, item.eventId, now, () => command(deps, adapter, item));
      return undefined;
    }
  }
}

/** Run `work` once per platform event id (the claim is released when it throws, so a redelivery is processed). */
async function onceFor<T>(
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
  item: Extract<Inbound, { kind: 'decision' }>,
  now: Date,
): Promise<unknown> {
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
  if (adapter.answerDecision) return adapter.answerDecision(card, toast, { legacy: item.legacy ?? false });
  // Platforms whose messages cannot be edited answer the clicker with a message.
  if (item.where)
    await safely(deps, adapter, () =>
      adapter.notify(item.where as never, { text: toast.text }, item.replyToken),
    );
  return undefined;
}

/** Run a chat command and answer it where it was written (a button's command carries its `intent` key). */
async function command(
  deps: AppDeps,
  adapter: ChatAdapter,
  item: Extract<Inbound, { kind: 'command' }>,
): Promise<void> {
  const actor = actorFor(deps, item.actor);
  const notice = await runCommand(deps, {
    ...(actor.user ? { user: actor.user } : {}),
    chatUser: item.actor,
    text: item.text,
    ...(item.eventId ? { eventId: `${adapter.platform}-${item.eventId}` } : {}),
    ...(item.intent ? { intent: { platform: adapter.platform, key: item.intent } } : {}),
  });
  await safely(deps, adapter, () => adapter.notify(item.where, notice, item.replyToken));
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
