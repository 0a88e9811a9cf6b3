/**
 * Turns a verified Lark/Feishu callback body into what Signoff acts on. Pure: no I/O, no clock.
 */
import { z } from 'zod';
import type { Decision } from '../../core/approvals/types.ts';
import type { ChatUser, Inbound, Recipient } from '../../core/chat.ts';
import { InvalidInputError } from '../../core/errors.ts';

/** The input in the pending card's form whose value becomes the decision comment. */
export const REASON_FIELD = 'reason';

const nonEmpty = z.string().min(1);

/** What our own buttons carry (render.ts): a decision, or a command from a notice choice. */
const DecisionValue = z.object({ approvalId: nonEmpty, decision: z.enum(['approve', 'reject']) });
/** `key`: the idempotency key of the notice's buttons (one effect per tap, however often it arrives). */
const CommandValue = z.object({
  command: nonEmpty,
  key: z
    .string()
    .regex(/^[A-Za-z0-9_-]{8,32}$/)
    .optional(),
});

const Action = z.object({
  value: z.unknown(),
  tag: z.string().optional(),
  name: z.string().optional(),
  form_value: z.record(z.string(), z.unknown()).nullish(),
});

const Header = z.object({
  event_id: nonEmpty,
  event_type: nonEmpty,
  create_time: z.string().optional(),
  token: z.string().optional(),
  app_id: z.string().optional(),
  tenant_key: z.string().optional(),
});

const CardActionTrigger = z.object({
  operator: z.object({
    open_id: nonEmpty,
    user_id: z.string().nullish(),
    union_id: z.string().nullish(),
    name: z.string().nullish(),
  }),
  token: z.string().optional(),
  action: Action,
  host: z.string().optional(),
  context: z
    .object({
      open_message_id: z.string().optional(),
      open_chat_id: z.string().optional(),
    })
    .optional(),
});

const LegacyCardCallback = z.object({
  open_id: nonEmpty,
  user_id: z.string().nullish(),
  open_message_id: nonEmpty,
  open_chat_id: z.string().optional(),
  tenant_key: z.string().optional(),
  token: z.string().optional(),
  action: Action,
});

const Mention = z.object({
  key: nonEmpty,
  id: z.object({
    open_id: z.string().optional(),
    user_id: z.string().nullish(),
    union_id: z.string().optional(),
  }),
  name: z.string().optional(),
});

const MessageReceive = z.object({
  sender: z.object({
    sender_id: z.object({
      open_id: nonEmpty,
      user_id: z.string().nullish(),
      union_id: z.string().optional(),
    }),
    sender_type: z.string().optional(),
  }),
  message: z.object({
    message_id: nonEmpty,
    chat_id: nonEmpty,
    chat_type: z.string(),
    message_type: nonEmpty,
    content: z.string(),
    mentions: z.array(Mention).nullish(),
  }),
});

const TextContent = z.object({ text: z.string() });

type Json = Record<string, unknown>;

/**
 * Parses a verified body (verifyLarkRequest's result) into zero or more inbound items.
 * `botOpenId` is the app bot's open_id, needed to tell whether a group message mentions it.
 */
export function parseLarkEvent(body: unknown, botOpenId?: string): Inbound[] {
  if (body === null || typeof body !== 'object' || Array.isArray(body)) {
    throw new InvalidInputError('lark: the body is not a JSON object');
  }
  const json = body as Json;

  if (json.type === 'url_verification') {
    if (typeof json.challenge !== 'string') throw new InvalidInputError('lark: challenge must be a string');
    return [{ kind: 'reply', status: 200, body: { challenge: json.challenge } }];
  }

  if (json.schema === '2.0') {
    const header = check(Header, json.header, 'header');
    switch (header.event_type) {
      case 'card.action.trigger':
        return [cardAction(check(CardActionTrigger, json.event, 'event'), header.event_id)];
      case 'im.message.receive_v1':
        return [message(check(MessageReceive, json.event, 'event'), header.event_id, botOpenId)];
      default:
        return [ignored(`lark event ${header.event_type} is not handled`)];
    }
  }

  if (json.type === 'event_callback') {
    const type = json.event && typeof json.event === 'object' && 'type' in json.event ? json.event.type : '?';
    return [ignored(`lark v1 event ${String(type)} is not handled (subscribe to 2.0 events)`)];
  }

  if (json.schema === undefined && json.type === undefined && 'open_message_id' in json && 'action' in json) {
    const legacy = check(LegacyCardCallback, json, '');
    return [
      fromAction(legacy.action, {
        actor: { platform: 'lark', id: legacy.open_id },
        message: legacy.open_message_id,
        chatId: legacy.open_chat_id,
        field: 'action',
        legacy: true,
      }),
    ];
  }

  return [ignored('not a lark event this app handles')];
}

function cardAction(event: z.infer<typeof CardActionTrigger>, eventId: string): Inbound {
  const actor: ChatUser = { platform: 'lark', id: event.operator.open_id };
  if (event.operator.name) actor.name = event.operator.name;
  return fromAction(event.action, {
    actor,
    message: event.context?.open_message_id,
    chatId: event.context?.open_chat_id,
    eventId,
    field: 'event.action',
  });
}

function fromAction(
  action: z.infer<typeof Action>,
  at: {
    actor: ChatUser;
    message?: string;
    chatId?: string;
    eventId?: string;
    field: string;
    legacy?: boolean;
  },
): Inbound {
  const value = typeof action.value === 'string' ? parseJsonValue(action.value) : action.value;
  const where: Recipient = at.chatId ? { kind: 'chat', id: at.chatId } : { kind: 'user', id: at.actor.id };
  const common = {
    actor: at.actor,
    where,
    ...(at.eventId ? { eventId: at.eventId } : {}),
  };

  const command = CommandValue.safeParse(value);
  if (command.success)
    return {
      kind: 'command',
      text: command.data.command.trim(),
      ...common,
      ...(command.data.key ? { intent: command.data.key } : {}),
    };

  const decision = DecisionValue.safeParse(value);
  if (!decision.success) {
    throw new InvalidInputError(
      `lark: ${at.field}.value must be {approvalId, decision: "approve"|"reject"} or {command}: ${z.prettifyError(decision.error)}`,
    );
  }
  const reason = action.form_value?.[REASON_FIELD];
  if (reason !== undefined && reason !== null && typeof reason !== 'string') {
    throw new InvalidInputError(`lark: ${at.field}.form_value.${REASON_FIELD} must be a string`);
  }
  const comment = reason?.trim();
  return {
    kind: 'decision',
    approvalId: decision.data.approvalId,
    decision: decision.data.decision satisfies Decision,
    ...common,
    ...(comment ? { comment } : {}),
    ...(at.message ? { message: { platform: 'lark', id: at.message } } : {}),
    ...(at.legacy ? { legacy: true } : {}),
  };
}

function message(
  event: z.infer<typeof MessageReceive>,
  eventId: string,
  botOpenId: string | undefined,
): Inbound {
  const { sender, message: msg } = event;
  if (sender.sender_type !== undefined && sender.sender_type !== 'user') {
    return ignored(`lark message from a ${sender.sender_type}, not a user`);
  }
  if (msg.message_type !== 'text') return ignored(`lark ${msg.message_type} message is not a command`);
  if (msg.chat_type !== 'p2p' && msg.chat_type !== 'group') {
    return ignored(`lark message in a ${msg.chat_type} chat is not handled`);
  }

  const mentions = msg.mentions ?? [];
  if (msg.chat_type === 'group') {
    if (!botOpenId)
      return ignored('lark group message: the bot open_id is unknown, so a mention cannot be told');
    if (!mentions.some((m) => m.id.open_id === botOpenId))
      return ignored('lark group message does not mention the bot');
  }

  let content: unknown;
  try {
    content = JSON.parse(msg.content);
  } catch {
    throw new InvalidInputError('lark: event.message.content is not a JSON string');
  }
  const text = check(TextContent, content, 'event.message.content').text;

  const where: Recipient =
    msg.chat_type === 'p2p'
      ? { kind: 'user', id: sender.sender_id.open_id }
      : { kind: 'chat', id: msg.chat_id };
  return {
    kind: 'command',
    actor: { platform: 'lark', id: sender.sender_id.open_id },
    text: stripMentions(
      text,
      mentions.map((m) => m.key),
    ),
    where,
    eventId,
  };
}

/** Removes mention placeholders (`@_user_1`, `@_all`, and every key Lark listed) and squeezes spaces. */
export function stripMentions(text: string, keys: string[] = []): string {
  let out = text;
  // Longest first, so `@_user_1` does not eat the start of `@_user_10`.
  for (const key of [...keys].sort((a, b) => b.length - a.length)) out = out.split(key).join(' ');
  return (
    out
      .replace(/@_user_\d+/g, ' ')
      .replace(/@_all\b/g, ' ')
      // Squeeze spaces but keep the lines: multi-line commands (a support case) need them.
      .replace(/[^\S\n]+/g, ' ')
      .replace(/ *\n */g, '\n')
      .trim()
  );
}

function parseJsonValue(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}

function ignored(reason: string): Inbound {
  return { kind: 'ignored', reason };
}

function check<T>(schema: z.ZodType<T>, value: unknown, field: string): T {
  const parsed = schema.safeParse(value);
  if (parsed.success) return parsed.data;
  const first = parsed.error.issues[0];
  const path = [field, ...(first?.path ?? []).map(String)].filter(Boolean).join('.');
  throw new InvalidInputError(`lark: ${path || 'body'}: ${first?.message ?? 'invalid'}`);
}
