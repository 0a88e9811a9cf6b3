/**
 * Turns a verified Slack request into what Signoff acts on. Pure: no I/O, no clock.
 *
 * One URL takes three kinds of request (platforms.md §3, docs/slack.md):
 * - Events API (JSON): `url_verification` is answered with its challenge; `event_callback`
 *   with an `app_mention` (in a channel) or a `message` in a direct message (`channel_type: im`)
 *   is a command. Bot messages and message subtypes (edits, joins, our own posts) are ignored,
 *   so the bot never answers itself. `event_id` is the de-duplication key (Slack retries).
 * - Interactivity (form, one `payload` field of JSON): `block_actions` on our buttons (Approve:
 *   a decision; Reject: asks for a reason in a modal; a notice's choice: a command) and
 *   `view_submission` of the reason modal (a reject with its reason).
 * - Slash commands (form): `/signoff <text>`, the same commands as typed text.
 *
 * Who acted is only ever the verified payload's user (`user.id`, `user_id`, `event.user`);
 * button values carry the approval id (or a notice's command) and nothing else is read from them.
 */
import { z } from 'zod';
import type { ChatUser, Inbound, Recipient } from '../../core/chat.ts';
import { LANGUAGES } from '../../core/commands.ts';
import { InvalidInputError } from '../../core/errors.ts';
import { translate } from '../../core/messages/index.ts';

export const APPROVE_ACTION = 'signoff_approve';
export const REJECT_ACTION = 'signoff_reject';
/** A notice's choice buttons: `signoff_command:<n>` (action ids must be unique in a message). */
export const COMMAND_ACTION = 'signoff_command';
/** The reason modal: its callback id, and the input block and element holding the reason. */
export const REASON_VIEW = 'signoff_reject_reason';
export const REASON_BLOCK = 'reason';
export const REASON_INPUT = 'reason_input';
/** Slack's limit on a button value. */
export const SLACK_VALUE_MAX = 2000;

const APPROVAL_ID = /^[A-Za-z0-9_-]{1,64}$/;
const INTENT_KEY = /^[A-Za-z0-9_-]{8,32}$/;
const SLACK_ID = /^[A-Z0-9][A-Z0-9_-]{1,40}$/i;

/** What a Reject click needs: a modal opened with its trigger id (valid ~3 s) asking for the reason. */
export interface ReasonRequest {
  triggerId: string;
  approvalId: string;
  actor: ChatUser;
  /** The clicked card (`channel`, `ts`), carried through the modal's private metadata. */
  message?: { channel: string; ts: string };
  /** The clicked card's title (its header block), shown in the modal. */
  title?: string;
  responseUrl?: string;
}

/** One parsed request: the item for the route, and a reason to ask for (a Reject click). */
export interface SlackParsed {
  item: Inbound;
  askReason?: ReasonRequest;
}

const id = z.string().regex(SLACK_ID);

const UserRef = z.object({ id, name: z.string().optional(), username: z.string().optional() }).loose();

const BlockActions = z
  .object({
    type: z.literal('block_actions'),
    user: UserRef,
    trigger_id: z.string().min(1).max(200).optional(),
    response_url: z.string().max(500).optional(),
    channel: z.object({ id }).loose().optional(),
    container: z
      .object({ channel_id: id.optional(), message_ts: z.string().max(40).optional() })
      .loose()
      .optional(),
    message: z
      .object({ ts: z.string().max(40), blocks: z.array(z.unknown()).optional() })
      .loose()
      .optional(),
    actions: z
      .array(
        z
          .object({ action_id: z.string().max(255), value: z.string().max(SLACK_VALUE_MAX).optional() })
          .loose(),
      )
      .min(1),
  })
  .loose();

const ViewSubmission = z
  .object({
    type: z.literal('view_submission'),
    user: UserRef,
    view: z
      .object({
        id: z.string().min(1).max(100),
        callback_id: z.string().max(255).optional(),
        private_metadata: z.string().max(3000).optional(),
        state: z
          .object({
            values: z.record(
              z.string(),
              z.record(z.string(), z.object({ value: z.string().nullable().optional() }).loose()),
            ),
          })
          .loose(),
      })
      .loose(),
  })
  .loose();

const ReasonMetadata = z.object({
  approvalId: z.string().regex(APPROVAL_ID),
  channel: id.optional(),
  ts: z.string().max(40).optional(),
  /** The clicker's language the modal was written in (older modals carry none: English). */
  language: z.enum(LANGUAGES).optional(),
});

const SlashCommand = z.object({
  command: z.string().min(1).max(100),
  text: z.string().max(4000).default(''),
  user_id: id,
  user_name: z.string().optional(),
  channel_id: id,
  response_url: z.string().max(500).optional(),
  trigger_id: z.string().min(1).max(200).optional(),
});

const EventEnvelope = z
  .object({
    type: z.literal('event_callback'),
    event_id: z.string().min(1).max(100),
    authorizations: z.array(z.object({ user_id: z.string().optional() }).loose()).optional(),
    event: z.object({ type: z.string() }).loose(),
  })
  .loose();

const MessageEvent = z
  .object({
    type: z.enum(['app_mention', 'message']),
    user: id.optional(),
    text: z.string().max(40_000).default(''),
    channel: id,
    channel_type: z.string().optional(),
    subtype: z.string().optional(),
    bot_id: z.string().optional(),
  })
  .loose();

/**
 * Parses one verified request by its content type. Throws InvalidInputError (400) for a body
 * that is not one of Slack's shapes; what is well formed but not for us is `ignored`.
 */
export function parseSlackRequest(contentType: string, body: string): SlackParsed {
  const type = contentType.split(';')[0]?.trim().toLowerCase();
  if (type === 'application/json') return { item: parseEvent(parseJson(body, 'the body')) };
  if (type !== 'application/x-www-form-urlencoded')
    throw new InvalidInputError('slack: expected a JSON or form-encoded body');
  const form = new URLSearchParams(body);
  const payload = form.get('payload');
  if (payload !== null) return parseInteraction(parseJson(payload, 'the payload field'));
  if (form.has('command')) return { item: parseSlashCommand(form) };
  throw new InvalidInputError('slack: a form post without a payload or a command');
}

function parseInteraction(payload: unknown): SlackParsed {
  const type = (payload as { type?: unknown }).type;
  if (type === 'block_actions') return parseBlockActions(payload);
  if (type === 'view_submission') return { item: parseViewSubmission(payload) };
  if (typeof type !== 'string') throw new InvalidInputError('slack: the payload has no type');
  return { item: ignored(`slack ${type.slice(0, 40)} interaction is not handled`) };
}

function parseBlockActions(payload: unknown): SlackParsed {
  const parsed = BlockActions.safeParse(payload);
  if (!parsed.success) throw invalid('block_actions', parsed.error);
  const p = parsed.data;
  const action = p.actions[0] as { action_id: string; value?: string };
  const actor = actorOf(p.user);
  const channel = p.container?.channel_id ?? p.channel?.id;
  const ts = p.container?.message_ts ?? p.message?.ts;
  const where: Recipient | undefined = channel ? { kind: 'chat', id: channel } : undefined;
  const common = {
    actor,
    ...(where ? { where } : {}),
    ...(p.trigger_id ? { eventId: `action.${p.trigger_id}` } : {}),
    ...(p.response_url ? { responseUrl: p.response_url } : {}),
  };
  if (action.action_id === APPROVE_ACTION || action.action_id === REJECT_ACTION) {
    const approvalId = action.value ?? '';
    if (!APPROVAL_ID.test(approvalId))
      return { item: ignored('slack: a decision button without an approval id') };
    if (action.action_id === REJECT_ACTION) {
      if (!p.trigger_id) return { item: ignored('slack: a reject click without a trigger_id') };
      return {
        item: ignored('slack reject click: the reason is asked for in a modal'),
        askReason: {
          triggerId: p.trigger_id,
          approvalId,
          actor,
          ...(channel && ts ? { message: { channel, ts } } : {}),
          ...(p.response_url ? { responseUrl: p.response_url } : {}),
          ...headerOf(p.message?.blocks),
        },
      };
    }
    return {
      item: {
        kind: 'decision',
        approvalId,
        decision: 'approve',
        ...common,
        ...(channel && ts ? { message: { platform: 'slack', id: ts, to: channel } } : {}),
      },
    };
  }
  if (action.action_id.startsWith(`${COMMAND_ACTION}:`)) {
    const choice = readCommandValue(action.value ?? '');
    if (!choice) return { item: ignored('slack: a command button whose value is not ours') };
    if (!where) return { item: ignored('slack: a command button outside a conversation') };
    return {
      item: {
        kind: 'command',
        text: choice.command,
        ...common,
        where,
        ...(choice.key ? { intent: choice.key } : {}),
      },
    };
  }
  return { item: ignored(`slack: action ${action.action_id.slice(0, 60)} is not ours`) };
}

function parseViewSubmission(payload: unknown): Inbound {
  const parsed = ViewSubmission.safeParse(payload);
  if (!parsed.success) throw invalid('view_submission', parsed.error);
  const { user, view } = parsed.data;
  if (view.callback_id !== REASON_VIEW) return ignored('slack: a view submission that is not ours');
  let metadata: unknown;
  try {
    metadata = JSON.parse(view.private_metadata ?? '');
  } catch {
    throw new InvalidInputError('slack: the reason modal has no metadata');
  }
  const meta = ReasonMetadata.safeParse(metadata);
  if (!meta.success) throw new InvalidInputError('slack: the reason modal metadata is not ours');
  const reason = view.state.values[REASON_BLOCK]?.[REASON_INPUT]?.value?.trim() ?? '';
  if (reason === '') {
    // Slack requires the input, but only trims nothing: answer in the modal, under the field.
    const language = meta.data.language ?? 'en';
    return { kind: 'reply', status: 200, body: reasonErrors(translate(language, 'reasonModalEmpty')) };
  }
  const { approvalId, channel, ts } = meta.data;
  return {
    kind: 'decision',
    approvalId,
    decision: 'reject',
    comment: reason.slice(0, 2000),
    actor: actorOf(user),
    eventId: `view.${view.id}`,
    modal: true,
    ...(channel ? { where: { kind: 'chat', id: channel } } : {}),
    ...(channel && ts ? { message: { platform: 'slack', id: ts, to: channel } } : {}),
  };
}

function parseSlashCommand(form: URLSearchParams): Inbound {
  const parsed = SlashCommand.safeParse(Object.fromEntries(form));
  if (!parsed.success) throw invalid('slash command', parsed.error);
  const c = parsed.data;
  return {
    kind: 'command',
    actor: { platform: 'slack', id: c.user_id, ...(c.user_name ? { name: c.user_name } : {}) },
    text: cleanText(c.text) || 'help',
    where: { kind: 'chat', id: c.channel_id },
    ...(c.trigger_id ? { eventId: `command.${c.trigger_id}` } : {}),
    ...(c.response_url ? { responseUrl: c.response_url } : {}),
    slash: true,
  };
}

function parseEvent(body: unknown): Inbound {
  const type = (body as { type?: unknown }).type;
  if (type === 'url_verification') {
    const challenge = (body as { challenge?: unknown }).challenge;
    if (typeof challenge !== 'string' || challenge === '' || challenge.length > 200)
      throw new InvalidInputError('slack: url_verification without a challenge');
    return { kind: 'reply', status: 200, body: { challenge } };
  }
  if (type !== 'event_callback') {
    if (typeof type !== 'string') throw new InvalidInputError('slack: the event body has no type');
    return ignored(`slack ${type.slice(0, 40)} request is not handled`);
  }
  const envelope = EventEnvelope.safeParse(body);
  if (!envelope.success) throw invalid('event_callback', envelope.error);
  const { event, event_id: eventId, authorizations } = envelope.data;
  if (event.type !== 'app_mention' && event.type !== 'message')
    return ignored(`slack ${event.type.slice(0, 40)} event is not handled`);
  const message = MessageEvent.safeParse(event);
  if (!message.success) throw invalid(event.type, message.error);
  const m = message.data;
  if (m.bot_id || m.subtype) return ignored('slack: a bot message or a message change, not a command');
  if (!m.user) return ignored('slack: a message without a user');
  if (m.type === 'message' && m.channel_type !== 'im')
    return ignored('slack: a channel message that does not mention the bot');
  const bots = (authorizations ?? []).flatMap((a) => (a.user_id ? [a.user_id] : []));
  return {
    kind: 'command',
    actor: { platform: 'slack', id: m.user },
    text: cleanText(stripBotMentions(m.text, bots)),
    where: { kind: 'chat', id: m.channel },
    eventId,
  };
}

/** Removes mentions of the bot (`<@U…>`; the first leading mention when Slack names no bot). */
export function stripBotMentions(text: string, botUserIds: string[]): string {
  if (botUserIds.length === 0) return text.replace(/^\s*<@[A-Z0-9]+(?:\|[^>]*)?>/i, ' ');
  let out = text;
  for (const bot of botUserIds)
    out = out.split(new RegExp(`<@${escapeRegExp(bot)}(?:\\|[^>]*)?>`, 'g')).join(' ');
  return out;
}

/**
 * Slack's markup as the person typed it: `<url|label>` → label, `<url>` → url, `<@U1>` kept as
 * the id, `&lt; &gt; &amp;` unescaped; spaces squeezed, lines kept (a support case needs them).
 */
export function cleanText(text: string): string {
  return text
    .replace(/<([^<>|]+)\|([^<>]*)>/g, (_, _target: string, label: string) => label)
    .replace(/<([^<>]+)>/g, (_, target: string) => target)
    .replace(/&lt;/g, '<')
    .replace(/&gt;/g, '>')
    .replace(/&amp;/g, '&')
    .replace(/[^\S\n]+/g, ' ')
    .replace(/ *\n */g, '\n')
    .trim();
}

/** A notice choice's button value: `{"c": command, "k"?: key}`, or undefined when too long. */
export function commandValue(command: string, key?: string): string | undefined {
  const text = command.trim();
  if (text === '') return undefined;
  if (key !== undefined && !INTENT_KEY.test(key)) throw new Error('slack: intent key is not base64url');
  const value = JSON.stringify(key ? { c: text, k: key } : { c: text });
  return value.length <= SLACK_VALUE_MAX ? value : undefined;
}

/** What a choice button's value asks for, or undefined when it is not something we sent. */
export function readCommandValue(value: string): { command: string; key?: string } | undefined {
  let parsed: unknown;
  try {
    parsed = JSON.parse(value);
  } catch {
    return undefined;
  }
  const shape = z
    .object({ c: z.string().trim().min(1), k: z.string().regex(INTENT_KEY).optional() })
    .strict();
  const result = shape.safeParse(parsed);
  if (!result.success) return undefined;
  return { command: result.data.c, ...(result.data.k ? { key: result.data.k } : {}) };
}

/** The answer to a reason modal that keeps it open with `message` under the reason field. */
export function reasonErrors(message: string): { response_action: 'errors'; errors: Record<string, string> } {
  return { response_action: 'errors', errors: { [REASON_BLOCK]: message.slice(0, 2000) } };
}

/** The text of a message's first header block (our card's title), if any. */
function headerOf(blocks: unknown[] | undefined): { title?: string } {
  const first = blocks?.[0] as { type?: unknown; text?: { text?: unknown } } | undefined;
  const text = first?.type === 'header' ? first.text?.text : undefined;
  return typeof text === 'string' && text !== '' ? { title: text.slice(0, 150) } : {};
}

function actorOf(user: { id: string; name?: string | undefined; username?: string | undefined }): ChatUser {
  const name = user.name ?? user.username;
  return { platform: 'slack', id: user.id, ...(name ? { name } : {}) };
}

function parseJson(text: string, what: string): Record<string, unknown> {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw new InvalidInputError(`slack: ${what} is not valid JSON`);
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value))
    throw new InvalidInputError(`slack: ${what} is not a JSON object`);
  return value as Record<string, unknown>;
}

function invalid(what: string, error: z.ZodError): InvalidInputError {
  const issue = error.issues[0];
  const path = issue ? issue.path.map(String).join('.') : '';
  return new InvalidInputError(
    `slack: the ${what} is malformed${path ? ` at ${path}` : ''}: ${issue?.message ?? 'invalid'}`,
  );
}

function ignored(reason: string): Inbound {
  return { kind: 'ignored', reason };
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
