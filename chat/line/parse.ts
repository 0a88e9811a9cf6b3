/**
 * Turns a verified LINE webhook body into what Signoff acts on. Pure: no I/O, no clock.
 *
 * Choices made here (docs/line.md):
 * - `{destination, events: []}` is LINE's connectivity check: nothing to do, the route answers 200 `{}`.
 * - `mode: "standby"` events are skipped (another channel owns the chat; no reply token).
 * - In a group or room, a text message is a command only when it mentions the bot
 *   (`mentionees[].isSelf`, or the mentionee's userId equals `destination`); the bot receives
 *   every group message and must not answer chatter. In a 1:1 chat every text is a command.
 * - Mentions of the bot are cut out of the text by their `index`/`length` (UTF-16 code units,
 *   as LINE counts); mentions of other people stay.
 * - A postback carries `a=<approvalId>&d=approve|reject` (a decision) or `c=<command>` (a
 *   notice choice); see postback.ts. Reject buttons carry no reason: a Reject is parsed as
 *   `askReason` (the route asks why, and the reason decides), and a reason quick reply
 *   (`…&d=reject&r=<key>&l=<language>`) as a reject with that reason.
 * - Unknown postback data, and a postback or message without a userId, change nothing: the
 *   item is `ignored`, and where a reply token allows it the adapter answers the user with the
 *   `answer` text (a clear answer instead of silence).
 * - One malformed event is ignored with a reason rather than failing the whole request (which
 *   would lose the other events in it); a body that is not `{destination, events[]}`, or whose
 *   events are all malformed, is a 400.
 * - `join` (the bot was added to a group or room) and `follow` (a user added the bot) are
 *   answered with the group/room id or the user id, which is what the configuration needs.
 */
import { z } from 'zod';
import type { ChatUser, Inbound, Recipient } from '../../core/chat.ts';
import { InvalidInputError } from '../../core/errors.ts';
import type { MessageKey, MessageVars } from '../../core/messages/index.ts';
import { rejectReasonText } from '../../core/reject-reasons.ts';
import { readPostbackData } from './postback.ts';

/** What to answer an ignored event with: a catalog message, to whom it is written for. */
export interface LineAnswer {
  replyToken: string;
  key: MessageKey;
  vars?: MessageVars;
  /** Who it is for (their language), when LINE named them. */
  to?: ChatUser;
}

/** One parsed event: what the route acts on, and (for ignored events) what to tell the user. */
export interface LineParsedEvent {
  inbound: Inbound;
  /**
   * A short answer, when the event is not acted on but the user deserves one: a catalog message,
   * written by the adapter in the language of `to` (the configuration's for a stranger or a group).
   */
  answer?: LineAnswer;
  /** Whether LINE says this is a redelivery (the same webhookEventId arrived before). */
  redelivery: boolean;
  /** Set when the event is not shaped as LINE sends it (a field missing or of the wrong type). */
  malformed?: true;
}

const CallbackBody = z.object({
  destination: z.string(),
  events: z.array(z.unknown()),
});

const Source = z.object({
  type: z.enum(['user', 'group', 'room']),
  userId: z.string().min(1).optional(),
  groupId: z.string().min(1).optional(),
  roomId: z.string().min(1).optional(),
});

const EventBase = z.object({
  type: z.string().min(1),
  mode: z.string().optional(),
  timestamp: z.number().optional(),
  source: Source.optional(),
  webhookEventId: z.string().min(1),
  deliveryContext: z.object({ isRedelivery: z.boolean() }).optional(),
  replyToken: z.string().min(1).optional(),
});

const Mentionee = z.object({
  index: z.number().int().min(0),
  length: z.number().int().min(0),
  type: z.string(),
  userId: z.string().optional(),
  isSelf: z.boolean().optional(),
});

const TextMessage = z.object({
  id: z.string(),
  type: z.literal('text'),
  text: z.string(),
  mention: z.object({ mentionees: z.array(Mentionee) }).optional(),
});

const MessageEvent = EventBase.extend({
  type: z.literal('message'),
  message: z.object({ id: z.string(), type: z.string() }).loose(),
});

const PostbackEvent = EventBase.extend({
  type: z.literal('postback'),
  postback: z.object({ data: z.string(), params: z.record(z.string(), z.unknown()).optional() }),
});

type Base = z.infer<typeof EventBase>;
type Mentionee = z.infer<typeof Mentionee>;

/** Parses a verified body into the items the route acts on. */
export function parseLineWebhook(body: unknown): Inbound[] {
  return parseLineEvents(body).map((event) => event.inbound);
}

/** Parses a verified body event by event, with the answers owed to ignored events. */
export function parseLineEvents(body: unknown): LineParsedEvent[] {
  const parsed = CallbackBody.safeParse(body);
  if (!parsed.success) {
    throw new InvalidInputError('line: the body is not a webhook ({destination, events: [...]})');
  }
  const { destination, events } = parsed.data;
  const results = events.map((event, index) => parseEvent(event, index, destination));
  const first = results[0];
  if (first && results.every((r) => r.malformed)) {
    throw new InvalidInputError(
      first.inbound.kind === 'ignored' ? first.inbound.reason : 'line: malformed events',
    );
  }
  return results;
}

function parseEvent(raw: unknown, index: number, destination: string): LineParsedEvent {
  const base = EventBase.safeParse(raw);
  if (!base.success) {
    return {
      inbound: ignored(`line: events[${index}] is malformed: ${firstIssue(base.error)}`),
      redelivery: false,
      malformed: true,
    };
  }
  const event = base.data;
  const redelivery = event.deliveryContext?.isRedelivery === true;
  if (event.mode === 'standby') {
    return {
      inbound: ignored(`line ${event.type} event in standby mode (another channel is active)`),
      redelivery,
    };
  }
  switch (event.type) {
    case 'message': {
      const message = MessageEvent.safeParse(raw);
      if (!message.success) return malformed(event, index, message.error, redelivery);
      return { ...messageEvent(message.data, destination), redelivery };
    }
    case 'postback': {
      const postback = PostbackEvent.safeParse(raw);
      if (!postback.success) return malformed(event, index, postback.error, redelivery);
      return { ...postbackEvent(postback.data), redelivery };
    }
    case 'join':
      return { ...joinEvent(event), redelivery };
    case 'follow':
      return { ...followEvent(event), redelivery };
    default:
      return { inbound: ignored(`line ${event.type} event is not handled`), redelivery };
  }
}

function messageEvent(
  event: z.infer<typeof MessageEvent>,
  destination: string,
): Omit<LineParsedEvent, 'redelivery'> {
  const source = event.source;
  if (event.message.type !== 'text') {
    return { inbound: ignored(`line ${event.message.type} message is not a command`) };
  }
  const text = TextMessage.safeParse(event.message);
  if (!text.success) {
    return { inbound: ignored(`line: the text message is malformed: ${firstIssue(text.error)}`) };
  }
  const mentionees = text.data.mention?.mentionees ?? [];
  const self = mentionees.filter((m) => isSelf(m, destination));
  const where = whereOf(source);
  if (!where) return { inbound: ignored('line message without a usable source') };
  if (where.kind === 'chat' && self.length === 0) {
    return { inbound: ignored('line group message does not mention the bot') };
  }
  if (!source?.userId) return noUser(event, 'line message without a userId (the sender did not consent)');
  return {
    inbound: {
      kind: 'command',
      actor: actorOf(source.userId),
      text: stripMentions(text.data.text, self),
      where,
      eventId: event.webhookEventId,
      ...(event.replyToken ? { replyToken: event.replyToken } : {}),
    },
  };
}

function postbackEvent(event: z.infer<typeof PostbackEvent>): Omit<LineParsedEvent, 'redelivery'> {
  const where = whereOf(event.source);
  if (!where) return { inbound: ignored('line postback without a usable source') };
  const userId = event.source?.userId;
  if (!userId) return noUser(event, 'line postback without a userId');
  const action = readPostbackData(event.postback.data);
  if (!action) {
    return {
      inbound: ignored(`line postback data is not ours: ${JSON.stringify(event.postback.data.slice(0, 80))}`),
      ...(event.replyToken
        ? { answer: { replyToken: event.replyToken, key: 'lineUnknownButton', to: actorOf(userId) } }
        : {}),
    };
  }
  const common = {
    actor: actorOf(userId),
    where,
    eventId: event.webhookEventId,
    ...(event.replyToken ? { replyToken: event.replyToken } : {}),
  };
  if (action.kind === 'command')
    return {
      inbound: {
        kind: 'command',
        text: action.command,
        ...common,
        ...(action.key ? { intent: action.key } : {}),
      },
    };
  if (action.kind === 'reason')
    return {
      inbound: {
        kind: 'decision',
        approvalId: action.approvalId,
        decision: 'reject',
        comment: rejectReasonText(action.reason, action.language),
        ...common,
      },
    };
  // A Reject button carries no reason: the route asks for one before anything is decided.
  return {
    inbound: {
      kind: 'decision',
      approvalId: action.approvalId,
      decision: action.decision,
      ...(action.decision === 'reject' ? { askReason: true } : {}),
      ...common,
    },
  };
}

function joinEvent(event: Base): Omit<LineParsedEvent, 'redelivery'> {
  const where = whereOf(event.source);
  const inbound = ignored('line join event (the bot was added to a chat)');
  if (where?.kind !== 'chat' || !event.replyToken) return { inbound };
  return {
    inbound,
    answer: {
      replyToken: event.replyToken,
      key: event.source?.type === 'room' ? 'lineJoinedRoom' : 'lineJoinedGroup',
      vars: { id: where.id },
    },
  };
}

function followEvent(event: Base): Omit<LineParsedEvent, 'redelivery'> {
  const inbound = ignored('line follow event (a user added the bot)');
  const userId = event.source?.type === 'user' ? event.source.userId : undefined;
  if (!userId || !event.replyToken) return { inbound };
  return {
    inbound,
    answer: { replyToken: event.replyToken, key: 'lineFollowed', vars: { id: userId }, to: actorOf(userId) },
  };
}

/** True when the mentionee is the bot that received the webhook. */
function isSelf(mentionee: Mentionee, destination: string): boolean {
  if (mentionee.type !== 'user') return false;
  return mentionee.isSelf === true || (destination !== '' && mentionee.userId === destination);
}

/**
 * Removes the given mention spans (`index`/`length` in UTF-16 code units) from the text and
 * squeezes whitespace. A span that does not point at an `@` (LINE changed its counting, or the
 * text was edited) is left alone rather than cutting the wrong characters.
 */
export function stripMentions(text: string, mentionees: Array<{ index: number; length: number }>): string {
  let out = text;
  for (const m of [...mentionees].sort((a, b) => b.index - a.index)) {
    if (m.length === 0 || m.index + m.length > out.length || out[m.index] !== '@') continue;
    out = `${out.slice(0, m.index)} ${out.slice(m.index + m.length)}`;
  }
  // Squeeze spaces but keep the lines: multi-line commands (a support case) need them.
  return out
    .replace(/[^\S\n]+/g, ' ')
    .replace(/ *\n */g, '\n')
    .trim();
}

function whereOf(source: z.infer<typeof Source> | undefined): Recipient | undefined {
  if (!source) return undefined;
  switch (source.type) {
    case 'user':
      return source.userId ? { kind: 'user', id: source.userId } : undefined;
    case 'group':
      return source.groupId ? { kind: 'chat', id: source.groupId } : undefined;
    case 'room':
      return source.roomId ? { kind: 'chat', id: source.roomId } : undefined;
  }
}

function actorOf(userId: string): ChatUser {
  return { platform: 'line', id: userId };
}

function noUser(event: Base, reason: string): Omit<LineParsedEvent, 'redelivery'> {
  return {
    inbound: ignored(reason),
    ...(event.replyToken ? { answer: { replyToken: event.replyToken, key: 'lineNoUserId' } } : {}),
  };
}

function malformed(event: Base, index: number, error: z.ZodError, redelivery: boolean): LineParsedEvent {
  return {
    inbound: ignored(`line: events[${index}] (${event.type}) is malformed: ${firstIssue(error)}`),
    redelivery,
    malformed: true,
  };
}

function ignored(reason: string): Inbound {
  return { kind: 'ignored', reason };
}

function firstIssue(error: z.ZodError): string {
  const issue = error.issues[0];
  if (!issue) return 'invalid';
  const path = issue.path.map(String).join('.');
  return path ? `${path}: ${issue.message}` : issue.message;
}
