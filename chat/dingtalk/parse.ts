/**
 * Turns a verified DingTalk robot message, or a card callback that arrived over Stream mode,
 * into what Signoff acts on. Pure: no I/O, no clock (the caller passes `now`).
 *
 * Choices made here (docs/dingtalk.md):
 * - `robotCode`, when present, must be ours; `chatbotCorpId` (and a card callback's `corpId`)
 *   must be the configured corp when DINGTALK_CORP_ID is set: 403 otherwise.
 * - A robot message is only ever a command: free text never decides an approval.
 * - In a group (`conversationType` "2") a message is a command only when the robot is
 *   @-mentioned (`isInAtList`); in a single chat every text is one.
 * - The sender is `senderStaffId` (the id `users.<key>.dingtalk` holds); a message without one
 *   (an external contact) changes nothing.
 * - A card click carries our `outTrackId` (`signoff.<approvalId>.<recipient hash>`), the clicker
 *   in `userId`, and `content` = JSON `{"cardPrivateData":{"actionIds":[…],"params":{…}}}`: the
 *   decision is `params.action` (`approve`/`reject`), the reason `params.reason` (the card's
 *   text input). Anything else is ignored.
 */
import { z } from 'zod';
import type { ChatUser, Inbound, Recipient } from '../../core/chat.ts';
import { ForbiddenError, InvalidInputError } from '../../core/errors.ts';

export interface DingTalkParseOptions {
  /** DINGTALK_ROBOT_CODE (defaults to the app key). */
  robotCode: string;
  /** DINGTALK_CORP_ID: when set, deliveries from another corp are refused. */
  corpId?: string;
  now: Date;
}

/** A parsed robot message: the item, and where its answer may go by session webhook. */
export interface DingTalkParsedMessage {
  inbound: Inbound;
  /** The message's `sessionWebhook` and until when it may be used (ms since epoch). */
  session?: { url: string; expiresAt: number };
}

const RobotMessage = z.object({
  msgId: z.string().min(1).max(200),
  msgtype: z.string().min(1),
  conversationType: z.enum(['1', '2']),
  conversationId: z.string().min(1).max(200),
  senderStaffId: z.string().min(1).max(200).optional(),
  senderNick: z.string().max(200).optional(),
  senderCorpId: z.string().optional(),
  chatbotCorpId: z.string().optional(),
  robotCode: z.string().optional(),
  isInAtList: z.boolean().optional(),
  text: z.object({ content: z.string().max(10_000) }).optional(),
  sessionWebhook: z.string().max(2000).optional(),
  sessionWebhookExpiredTime: z.number().optional(),
  createAt: z.number().optional(),
});

const CardCallback = z.object({
  outTrackId: z.string().min(1).max(200),
  userId: z.string().min(1).max(200),
  corpId: z.string().optional(),
  type: z.string().optional(),
  content: z.string().max(20_000),
});

const CardContent = z.object({
  cardPrivateData: z.object({
    actionIds: z.array(z.string()).optional(),
    params: z.record(z.string(), z.unknown()).optional(),
  }),
});

/** Our card ids: `signoff.<approvalId>.<8 hex>` (one card instance per approval and recipient). */
const OUT_TRACK_ID = /^signoff\.([A-Za-z0-9_-]{8,64})\.([0-9a-f]{8})$/;

/** The most of a reason we keep (the core stores it with the decision). */
const REASON_MAX = 500;

/** Parses a verified robot message (HTTP body, or a Stream push's `data`). */
export function parseDingTalkMessage(body: unknown, options: DingTalkParseOptions): DingTalkParsedMessage {
  const parsed = RobotMessage.safeParse(body);
  if (!parsed.success) {
    throw new InvalidInputError(`dingtalk: not a robot message: ${firstIssue(parsed.error)}`);
  }
  const message = parsed.data;
  if (message.robotCode !== undefined && message.robotCode !== options.robotCode) {
    throw new ForbiddenError('dingtalk: the message is for another robot (robotCode)');
  }
  if (options.corpId && message.chatbotCorpId !== options.corpId) {
    throw new ForbiddenError('dingtalk: the message is from another organisation (chatbotCorpId)');
  }
  const session = sessionOf(message, options.now);
  if (message.msgtype !== 'text' || !message.text) {
    return { inbound: ignored(`dingtalk ${message.msgtype} message is not a command`) };
  }
  const group = message.conversationType === '2';
  if (group && message.isInAtList !== true) {
    return { inbound: ignored('dingtalk group message does not mention the robot') };
  }
  if (!message.senderStaffId) {
    return { inbound: ignored('dingtalk message without senderStaffId (not a member of the organisation)') };
  }
  const where: Recipient = group
    ? { kind: 'chat', id: message.conversationId }
    : { kind: 'user', id: message.senderStaffId };
  return {
    inbound: {
      kind: 'command',
      actor: actorOf(message.senderStaffId, message.senderNick),
      ...splitIntent(cleanText(message.text.content)),
      where,
      eventId: message.msgId,
      ...(session ? { replyToken: session.url } : {}),
    },
    ...(session ? { session } : {}),
  };
}

/** Parses a card callback pushed over Stream mode (`/v1.0/card/instances/callback`). */
export function parseDingTalkCardCallback(
  data: unknown,
  options: Omit<DingTalkParseOptions, 'robotCode'> & { eventId?: string },
): Inbound {
  const parsed = CardCallback.safeParse(data);
  if (!parsed.success) {
    throw new InvalidInputError(`dingtalk: not a card callback: ${firstIssue(parsed.error)}`);
  }
  const callback = parsed.data;
  if (options.corpId && callback.corpId !== options.corpId) {
    throw new ForbiddenError('dingtalk: the card callback is from another organisation (corpId)');
  }
  const match = OUT_TRACK_ID.exec(callback.outTrackId);
  if (!match?.[1]) return ignored('dingtalk card callback for a card that is not ours');
  let content: unknown;
  try {
    content = JSON.parse(callback.content);
  } catch {
    return ignored('dingtalk card callback content is not JSON');
  }
  const card = CardContent.safeParse(content);
  if (!card.success) return ignored('dingtalk card callback without cardPrivateData');
  const params = card.data.cardPrivateData.params ?? {};
  const action = params.action;
  if (action !== 'approve' && action !== 'reject') {
    return ignored(`dingtalk card action is not a decision: ${JSON.stringify(String(action)).slice(0, 40)}`);
  }
  const reason = typeof params.reason === 'string' ? params.reason.trim().slice(0, REASON_MAX) : '';
  return {
    kind: 'decision',
    approvalId: match[1],
    actor: actorOf(callback.userId),
    decision: action,
    ...(reason && action === 'reject' ? { comment: reason } : {}),
    message: { platform: 'dingtalk', id: callback.outTrackId },
    ...(options.eventId ? { eventId: options.eventId } : {}),
  };
}

/** Our card id for an approval and a recipient (`user:<id>` / `chat:<id>`). */
export function outTrackIdFor(approvalId: string, recipientHash: string): string {
  return `signoff.${approvalId}.${recipientHash}`;
}

/**
 * The text as a command: DingTalk strips the @mention but leaves its space; lines are kept
 * (a support case is written over several lines), each trimmed, spaces squeezed.
 */
/**
 * A tap-to-send link's text ends with the offer's idempotency key, ` #<key>` (render.ts): the
 * same link tapped twice sends two messages (two msgIds) with one key, and the command acts
 * once. A key only ever merges a person's own repeated command; it grants nothing.
 */
const INTENT_SUFFIX = /\s#([A-Za-z0-9_-]{8,32})$/;

/** The text a tap-to-send link sends for a choice: its command, then its offer's key. */
export function commandWithIntent(command: string, key?: string): string {
  return key && /^[A-Za-z0-9_-]{8,32}$/.test(key) ? `${command} #${key}` : command;
}

/** A command's text without a tap-to-send link's key, and the key. */
export function splitIntent(text: string): { text: string; intent?: string } {
  const match = INTENT_SUFFIX.exec(text);
  if (!match?.[1]) return { text };
  return { text: text.slice(0, match.index).trim(), intent: match[1] };
}

export function cleanText(text: string): string {
  return text
    .replace(/[^\S\n]+/g, ' ')
    .replace(/ *\n */g, '\n')
    .trim();
}

function sessionOf(
  message: z.infer<typeof RobotMessage>,
  now: Date,
): { url: string; expiresAt: number } | undefined {
  if (!message.sessionWebhook || message.sessionWebhookExpiredTime === undefined) return undefined;
  if (message.sessionWebhookExpiredTime <= now.getTime()) return undefined;
  return { url: message.sessionWebhook, expiresAt: message.sessionWebhookExpiredTime };
}

function actorOf(staffId: string, name?: string): ChatUser {
  return { platform: 'dingtalk', id: staffId, ...(name ? { name } : {}) };
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
