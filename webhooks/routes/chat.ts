import { Hono } from 'hono';
import { refusalText } from '../../core/approvals/refusals.ts';
import type { Actor, Approval } from '../../core/approvals/types.ts';
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
import type { Language } from '../../core/commands.ts';
import { type UserPlatform, userFor } from '../../core/config.ts';
import { parseDuration } from '../../core/durations.ts';
import { randomId } from '../../core/ids.ts';
import { translate } from '../../core/messages/index.ts';
import { REJECT_REASON_KEYS, rejectReasonText } from '../../core/reject-reasons.ts';
import { readRawBody } from '../body.ts';
import { isCommand, runCommand } from '../commands/index.ts';
import type { AppDeps } from '../deps.ts';

/** A typed reject reason is kept to this many characters (as the console's and Slack's reason fields). */
const REASON_MAX_CHARS = 2000;

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
    const inbound = await adapter.receive(
      { body, header: (name) => c.req.header(name), now },
      // What the adapter says before the items reach a use case (Slack's reason form, LINE's
      // answers to events it does not act on): in the language of whom it is for.
      { languageOf: (chatUser) => deps.signoff.languageOf(chatUser && actorFor(deps, chatUser).user) },
    );
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
      const done = await once(deps, adapter, item.eventId, now, () =>
        item.askReason ? askForReason(deps, adapter, item, now) : decision(deps, adapter, item, now),
      );
      if (!done.duplicate) return done.value;
      // The same event again (a retry, a redelivery): the card's current state, no effect.
      const current = await deps.store.get(item.approvalId);
      const language = current && (await copyLanguage(deps, current, item));
      return {
        kind: 'decision',
        item,
        duplicate: true,
        ...(current
          ? { card: cardFor(current, { publicUrl: deps.config.console.publicUrl, language }) }
          : {}),
      };
    }
    case 'command': {
      const done = await once(deps, adapter, item.eventId, now, () => typed(deps, adapter, item, now));
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
  const actor = actorFor(deps, item.actor);
  // The answered card stays in its copy's language; what only the clicker reads is in theirs.
  const language = approval && (await copyLanguage(deps, approval, item));
  const card = approval
    ? cardFor(approval, { publicUrl: deps.config.console.publicUrl, language })
    : undefined;
  const mine = await deps.signoff.languageOf(actor.user);
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
              ? `${refusalText(result, mine, actor.user)}: ${card.confirmUrl}`
              : refusalText(result, mine, actor.user),
        }
      : {
          kind: 'success' as const,
          text: card ? describeState(card.state, mine) : translate(mine, 'voteRecorded'),
        };
  return { kind: 'decision', item, toast, ...(card ? { card } : {}) };
}

/**
 * The language of the card a click came from: the copy the platform names (its message id, or
 * the chat it was sent to), else the clicker's own language.
 */
async function copyLanguage(deps: AppDeps, approval: Approval, item: DecisionItem): Promise<Language> {
  const copy = approval.cards.find(
    (ref) =>
      ref.platform === item.actor.platform &&
      ((item.message?.id !== undefined && ref.id === item.message.id) ||
        (item.where !== undefined && ref.to === item.where.id)),
  );
  return copy?.language ?? deps.signoff.languageOf(actorFor(deps, item.actor).user);
}

/**
 * Reject tapped where the button carries no reason (LINE): nothing is decided yet. The clicker
 * is asked why (common reasons as quick replies, or type one within the window); one who may
 * not reject hears why at once, as a click would answer them.
 */
async function askForReason(
  deps: AppDeps,
  adapter: ChatAdapter,
  item: DecisionItem,
  now: Date,
): Promise<Handled> {
  const actor = actorFor(deps, item.actor);
  const language = await deps.signoff.languageOf(actor.user);
  const windowSeconds = parseDuration(deps.config.chat.reasonWindow);
  const asked = await deps.approvals.askReason({
    approvalId: item.approvalId,
    actor,
    language,
    now,
    until: new Date(now.getTime() + windowSeconds * 1000),
  });
  // Refused (not an approver, already decided, …): decide answers it, and changes nothing.
  if (asked.outcome === 'refused') return decision(deps, adapter, item, now);
  deps.log('info', 'chat reject reason asked', { platform: adapter.platform, approvalId: item.approvalId });
  const question = item.where?.kind === 'chat' ? 'reasonPromptGroup' : 'reasonPrompt';
  return {
    kind: 'decision',
    item,
    prompt: {
      approvalId: item.approvalId,
      language,
      text: translate(language, question, {
        title: asked.approval.card.title,
        minutes: Math.max(1, Math.round(windowSeconds / 60)),
      }),
      reasons: REJECT_REASON_KEYS.map((key) => ({ key, label: rejectReasonText(key, language) })),
    },
  };
}

/**
 * Typed text: a command runs as a command (a Reject waiting for its reason keeps waiting);
 * other text is the reason such a Reject waits for, within its window, and rejects through
 * `decide` with every check; otherwise it is answered as a command (help).
 */
async function typed(deps: AppDeps, adapter: ChatAdapter, item: CommandItem, now: Date): Promise<Handled> {
  const reason = item.text.trim();
  if (!item.intent && reason !== '' && !isCommand(reason)) {
    // The event names the take, so a retried delivery of this text takes it again.
    const event = `${adapter.platform}-${item.eventId ?? randomId()}`;
    const pending = await deps.approvals.takeReason(item.actor, event, now);
    if (pending)
      return decision(
        deps,
        adapter,
        {
          kind: 'decision',
          approvalId: pending.approvalId,
          actor: item.actor,
          decision: 'reject',
          comment: reason.slice(0, REASON_MAX_CHARS),
          where: item.where,
          ...(item.eventId ? { eventId: item.eventId } : {}),
          ...(item.replyToken ? { replyToken: item.replyToken } : {}),
        },
        now,
      );
  }
  return command(deps, adapter, item);
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
