import type { Decision, MessageRef } from './approvals/types.ts';
import type { Language } from './commands.ts';
import type { Platform } from './config.ts';
import type { RejectReasonKey } from './reject-reasons.ts';

/** Where a message goes: one person, or a group chat. */
export type Recipient = { kind: 'user'; id: string } | { kind: 'chat'; id: string };

/** Who did something on a chat platform, as the platform identifies them. */
export interface ChatUser {
  platform: Platform;
  /** The platform's stable id (Lark open_id, LINE userId, Slack user id, …). */
  id: string;
  name?: string;
}

/** The state an approval card shows. */
export type CardState =
  | { kind: 'pending'; approvals: number; required: number; approvedBy: string[] }
  | { kind: 'approved'; by: string[] }
  | { kind: 'rejected'; by: string[]; reason?: string }
  | { kind: 'expired' }
  | { kind: 'cancelled'; reason?: string };

/**
 * A platform-neutral approval card. Renderers turn it into each platform's JSON; it never
 * holds a task token, only the opaque approval id the buttons carry.
 *
 * @example { approvalId: 'k3…', title: 'Merge !7: Fix login', fields: [], links: [], state: { kind: 'expired' } }
 */
export interface Card {
  approvalId: string;
  title: string;
  summary?: string;
  fields: Array<{ label: string; value: string }>;
  links: Array<{ label: string; url: string }>;
  state: CardState;
  /**
   * The approval's policy wants a signed-in confirmation: while pending, the card's button
   * opens this console page instead of deciding (a click in chat is refused).
   */
  confirmUrl?: string;
  /** The language of its reader (the approver, or the group chat's configured one); English when absent. */
  language?: Language;
}

/** A short message that is not an approval card: notices to requesters, command replies. */
export interface Notice {
  title?: string;
  text: string;
  /** The language the notice is written in, for the words a renderer adds; English when absent. */
  language?: Language;
  /**
   * Buttons that send a command back when clicked (e.g. "choose an environment"). `key` is the
   * offer's idempotency key (set by the command runner): the same button tapped twice, or one
   * tap delivered twice, carries the same key and has one effect.
   */
  choices?: Array<{ label: string; command: string; key?: string }>;
  links?: Array<{ label: string; url: string }>;
}

/** What one inbound request asks for, once verified and parsed. */
export type Inbound =
  | {
      kind: 'decision';
      approvalId: string;
      actor: ChatUser;
      decision: Decision;
      comment?: string;
      /** The clicked message, when the platform says which (its card is answered in the response). */
      message?: MessageRef;
      /** Platform event id for de-duplication, when it has one. */
      eventId?: string;
      /** Where the click happened (for replies on platforms that reply rather than update). */
      where?: Recipient;
      replyToken?: string;
      /** The platform's older callback format, whose answer has another shape (Lark's legacy card callback). */
      legacy?: boolean;
      /**
       * Where an answer only the actor sees goes (Slack's `response_url`: 30 minutes, a few
       * uses). A secret of sorts: never logged or stored.
       */
      responseUrl?: string;
      /** The decision came from a form the platform shows (Slack's reject-reason modal); its answer closes or keeps that form. */
      modal?: boolean;
      /**
       * A Reject whose button cannot carry typed text (LINE): nothing is decided yet; the clicker
       * is asked why (common reasons, or type one), and the reason decides.
       */
      askReason?: boolean;
    }
  | {
      kind: 'command';
      actor: ChatUser;
      /** The text with bot mentions removed, trimmed. */
      text: string;
      where: Recipient;
      eventId?: string;
      replyToken?: string;
      /** The idempotency key of the button that sent this command (absent for typed text). */
      intent?: string;
      /** Where an answer only the actor sees goes (Slack's `response_url`); never logged or stored. */
      responseUrl?: string;
      /** A slash command (Slack): its answer is the HTTP response itself. */
      slash?: boolean;
    }
  /** A response the platform expects as-is (URL verification challenges, pings). */
  | { kind: 'reply'; status: 200; body: unknown }
  | { kind: 'ignored'; reason: string };

/** A verified, parsed request in one platform's hands. */
export interface RawRequest {
  body: string;
  header(name: string): string | undefined;
  now: Date;
}

/**
 * What an adapter may ask while it receives, before the route sees the items: the language a
 * chat user reads (their configured user's; the configuration's `language` for strangers and
 * when there is no user, as for a group). Slack's reason form is opened inside `receive`, within
 * the 3 s its trigger id lives; LINE answers events it does not act on there.
 */
export interface ReceiveContext {
  languageOf(user: ChatUser | undefined): Promise<Language>;
}

/** A click on an approval card, as `receive` parsed it. */
export type DecisionItem = Extract<Inbound, { kind: 'decision' }>;
/** A chat command (typed, or a notice's button), as `receive` parsed it. */
export type CommandItem = Extract<Inbound, { kind: 'command' }>;

/**
 * Asking the clicker why they reject (where a button cannot carry typed text): the question,
 * and the common reasons, each of which rejects with itself when tapped. Their next text within
 * the window is the reason too.
 */
export interface ReasonPrompt {
  approvalId: string;
  text: string;
  language: Language;
  reasons: Array<{ key: RejectReasonKey; label: string }>;
}

/** A short answer to the clicker: what happened, or why nothing did. */
export interface Toast {
  kind: 'success' | 'error' | 'info';
  text: string;
}

/**
 * What the use cases made of one inbound item, for the adapter to answer in its platform's
 * way. `duplicate`: the platform delivered this event before, and it had its effect then.
 */
export type Handled =
  | {
      kind: 'decision';
      item: DecisionItem;
      card?: Card;
      toast?: Toast;
      duplicate?: boolean;
      /** Instead of a decision: the question why (the item asked for a reason). */
      prompt?: ReasonPrompt;
    }
  | { kind: 'command'; item: CommandItem; notice?: Notice; duplicate?: boolean }
  | { kind: 'reply'; body: unknown }
  | { kind: 'ignored' };

/** The platform's HTTP answer, and replies that could not be sent (the route logs them; the platform still gets its 200). */
export interface ChatAnswer {
  body: unknown;
  failed: string[];
}

/** The card or chat an answer already shows a decision in (a MessageRef's id, or its chat), so it is not updated twice. */
export interface AnsweredRef {
  platform: Platform;
  id?: string;
  to?: string;
}

/**
 * One chat platform. `receive` verifies (throwing UnauthenticatedError / InvalidInputError)
 * and parses; `send` and `update` deliver platform-neutral cards and notices.
 *
 * @example const lark = createLarkAdapter(config); const inbound = await lark.receive(request);
 */
export interface ChatAdapter {
  readonly platform: Platform;
  /** The content types the platform posts to its webhook (default `application/json` only; Slack also sends forms). */
  readonly contentTypes?: readonly string[];
  receive(request: RawRequest, context?: ReceiveContext): Promise<Inbound[]>;
  send(to: Recipient, card: Card): Promise<MessageRef>;
  /** Show a card's new state in place (or, where messages cannot be edited, as a new message). */
  update(ref: MessageRef, card: Card): Promise<void>;
  notify(to: Recipient, notice: Notice, replyToken?: string): Promise<void>;
  /**
   * Where the answer to this click shows the new state: the clicked card where the callback
   * response replaces it (Lark), the clicker's chat where the answer is a reply (LINE), nothing
   * where the answer is only an acknowledgement (the card is then updated like the others).
   */
  answeredBy(item: DecisionItem): AnsweredRef | undefined;
  /**
   * Answer the request in the platform's way once its items are handled: the card in the
   * response body (Lark), a reply by token (LINE), an empty acknowledgement and a
   * `chat.update` (Slack), a card instance update (DingTalk). Sends what it must out of band;
   * never throws for a reply it could not send (it reports it in `failed`).
   */
  answer(handled: Handled[]): Promise<ChatAnswer>;
  /** Map a user configured by email to the platform id, when the platform offers a lookup. */
  lookupByEmail?(email: string): Promise<string | undefined>;
}
