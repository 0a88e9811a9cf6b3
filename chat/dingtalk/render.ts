/**
 * Platform-neutral cards and notices as DingTalk payloads. Pure functions.
 *
 * - With a card template (DINGTALK_CARD_TEMPLATE_ID), a card is the template's `cardParamMap`:
 *   string variables only (docs/dingtalk-card-template.json declares them). The buttons show
 *   while `pending` is "true" and carry `{action: "approve"|"reject", reason}` back; the
 *   approval id is in our `outTrackId`, never in anything the clicker could edit.
 * - Without a template, a card is a robot ActionCard whose buttons open the console (links
 *   only: DingTalk ActionCard buttons cannot call back) — the weaker option, docs/dingtalk.md.
 * - A notice is a markdown message; its choices are `dtmd://` links that send the command as
 *   a message from the person who taps them (ending in ` #<key>`, the offer's idempotency key,
 *   so a second tap acts once), with the command shown for typing by hand.
 *
 * Untrusted text (titles, field values, reasons) is rendered so that it cannot add links,
 * images or HTML: `[`, `]`, `<`, `>` become their full-width forms; single-line values lose
 * their line breaks.
 */
import { confirmLabel, confirmNote, describeState } from '../../core/cards.ts';
import type { Card, CardState, Notice, Toast } from '../../core/chat.ts';
import { translate } from '../../core/messages/index.ts';
import { commandWithIntent } from './parse.ts';

/** The most text we put in one markdown message (DingTalk's limit is larger; [unverified]). */
export const DINGTALK_TEXT_MAX = 5000;
const VALUE_MAX = 1000;
const MAX_FIELDS = 30;
const MAX_LINKS = 5;

/** The variables of the approval card template, every one a string. */
export interface DingTalkCardParams extends Record<string, string> {
  approvalId: string;
  title: string;
  summary: string;
  fields: string;
  links: string;
  status: CardState['kind'];
  statusText: string;
  pending: 'true' | 'false';
}

/** A robot message: `msgKey` + `msgParam` for the OpenAPI, `msgtype` JSON for a session webhook. */
export interface DingTalkMessage {
  msgKey: string;
  msgParam: Record<string, string>;
  session: Record<string, unknown>;
}

const ICON: Record<CardState['kind'], string> = {
  pending: '⏳',
  approved: '✅',
  rejected: '❌',
  expired: '⌛',
  cancelled: '🚫',
};

/** A pending card whose policy wants a signed-in confirmation in the console. */
function confirming(card: Card): boolean {
  return card.state.kind === 'pending' && card.confirmUrl !== undefined;
}

/** The card template's variables for a card. */
export function renderDingTalkCardParams(card: Card): DingTalkCardParams {
  return {
    approvalId: card.approvalId,
    title: line(card.title),
    summary: block(card.summary ?? ''),
    fields: card.fields
      .slice(0, MAX_FIELDS)
      .map((f) => `**${line(f.label)}**: ${line(f.value)}`)
      .join('  \n'),
    links: linksMarkdown(
      confirming(card) && card.confirmUrl
        ? [{ label: confirmLabel(card.language), url: card.confirmUrl }, ...card.links]
        : card.links,
    ),
    status: card.state.kind,
    statusText: `${ICON[card.state.kind]} ${line(describeState(card.state, card.language))}${confirming(card) ? `  \n${line(confirmNote(card.language))}` : ''}`,
    // Step-up: the template's callback buttons stay hidden; the link opens the confirmation page.
    pending: card.state.kind === 'pending' && !card.confirmUrl ? 'true' : 'false',
  };
}

/**
 * The card as a robot ActionCard when no template is configured: while pending, Approve and
 * Reject open the console's decision page (`consoleUrl`), or the card says to decide there.
 */
export function renderDingTalkActionCard(card: Card, consoleUrl?: string): DingTalkMessage {
  const title = cut(`${ICON[card.state.kind]} ${line(card.title)}`, 100);
  const text = cardMarkdown(card);
  if (confirming(card) && card.confirmUrl && isHttpUrl(card.confirmUrl)) {
    const session = {
      msgtype: 'actionCard',
      actionCard: {
        title,
        text: cut(`${text}\n\n${line(confirmNote(card.language))}`, DINGTALK_TEXT_MAX),
        singleTitle: confirmLabel(card.language),
        singleURL: card.confirmUrl,
      },
    };
    return {
      msgKey: 'sampleActionCard',
      msgParam: {
        title,
        text: session.actionCard.text,
        singleTitle: confirmLabel(card.language),
        singleURL: card.confirmUrl,
      },
      session,
    };
  }
  const page = consoleUrl ? decisionPage(consoleUrl, card.approvalId) : undefined;
  if (card.state.kind === 'pending' && page) {
    const approve = translate(card.language ?? 'en', 'approve');
    const reject = translate(card.language ?? 'en', 'reject');
    const msgParam = {
      title,
      text,
      actionTitle1: approve,
      actionURL1: page,
      actionTitle2: reject,
      actionURL2: page,
    };
    return {
      msgKey: 'sampleActionCard2',
      msgParam,
      session: {
        msgtype: 'actionCard',
        actionCard: {
          title,
          text,
          btnOrientation: '1',
          btns: [
            { title: approve, actionURL: page },
            { title: reject, actionURL: page },
          ],
        },
      },
    };
  }
  const extra =
    card.state.kind === 'pending'
      ? '\n\nDecide in the Signoff console (no card template is configured).'
      : '';
  return markdown(title, cut(text + extra, DINGTALK_TEXT_MAX));
}

/** A card's new state as a message of its own (robot messages cannot be edited). */
export function renderDingTalkStateUpdate(card: Card): DingTalkMessage {
  const title = cut(`${ICON[card.state.kind]} ${line(card.title)}`, 100);
  return markdown(
    title,
    `${ICON[card.state.kind]} ${line(describeState(card.state, card.language))}: **${line(card.title)}**`,
  );
}

/** A notice as a markdown message; choices become tap-to-send links with the command shown. */
export function renderDingTalkNotice(notice: Notice): DingTalkMessage {
  const title = cut(line(notice.title ?? notice.text.split('\n')[0] ?? 'Signoff'), 100) || 'Signoff';
  const parts: string[] = [];
  if (notice.title) parts.push(`**${line(notice.title)}**`);
  parts.push(block(notice.text));
  for (const choice of notice.choices ?? []) {
    // The link's message carries the offer's key (parse.ts), so a second tap acts once; the
    // command is shown without it, for typing by hand.
    const sent = commandWithIntent(choice.command, choice.key);
    parts.push(`- [${line(choice.label)}](${sendMessageLink(sent)}) — \`${line(choice.command)}\``);
  }
  const links = linksMarkdown(notice.links ?? []);
  if (links) parts.push(links);
  return markdown(title, cut(parts.join('\n\n'), DINGTALK_TEXT_MAX));
}

/** The card callback's answer: a clicker-only line on the card (the template's private `notice`). */
export function renderDingTalkCallbackAnswer(toast?: Toast): Record<string, unknown> {
  if (!toast) return {};
  return {
    cardUpdateOptions: { updatePrivateDataByKey: true },
    userPrivateData: { cardParamMap: { notice: cut(line(toast.text), VALUE_MAX) } },
  };
}

/** The console page where an approval is decided (sign-in there, then Approve or Reject). */
export function decisionPage(consoleUrl: string, approvalId: string): string {
  return `${consoleUrl.replace(/\/+$/, '')}/console/?approval=${encodeURIComponent(approvalId)}`;
}

function cardMarkdown(card: Card): string {
  const parts = [`**${line(card.title)}**`];
  if (card.summary) parts.push(block(card.summary));
  const fields = card.fields.slice(0, MAX_FIELDS).map((f) => `**${line(f.label)}**: ${line(f.value)}`);
  if (fields.length) parts.push(fields.join('  \n'));
  const links = linksMarkdown(card.links);
  if (links) parts.push(links);
  parts.push(`${ICON[card.state.kind]} ${line(describeState(card.state, card.language))}`);
  return cut(parts.join('\n\n'), DINGTALK_TEXT_MAX);
}

function markdown(title: string, text: string): DingTalkMessage {
  return {
    msgKey: 'sampleMarkdown',
    msgParam: { title, text },
    session: { msgtype: 'markdown', markdown: { title, text } },
  };
}

function linksMarkdown(links: Array<{ label: string; url: string }>): string {
  return links
    .filter((l) => isHttpUrl(l.url))
    .slice(0, MAX_LINKS)
    .map((l) => `[${line(l.label)}](${l.url.replace(/[()\s]/g, encodeURIComponent)})`)
    .join('  \n');
}

/** DingTalk's in-client link that sends `text` as a message from whoever taps it [unverified]. */
function sendMessageLink(text: string): string {
  return `dtmd://dingtalkclient/sendMessage?content=${encodeURIComponent(text)}`;
}

/** Untrusted text on one line, unable to open a link, an image or a tag. */
export function line(text: string): string {
  return cut(neutral(text).replace(/\s+/g, ' ').trim(), VALUE_MAX);
}

/** Untrusted text over several lines (markdown line breaks), unable to open a link or a tag. */
function block(text: string): string {
  return cut(
    neutral(text)
      .split('\n')
      .map((l) => l.trim())
      .join('  \n'),
    2000,
  );
}

function neutral(text: string): string {
  return text.replace(/\[/g, '［').replace(/\]/g, '］').replace(/</g, '＜').replace(/>/g, '＞');
}

function cut(text: string, max: number): string {
  const chars = [...text];
  return chars.length <= max ? text : `${chars.slice(0, max - 1).join('')}…`;
}

function isHttpUrl(url: string): boolean {
  try {
    const parsed = new URL(url);
    return parsed.protocol === 'https:' || parsed.protocol === 'http:';
  } catch {
    return false;
  }
}
