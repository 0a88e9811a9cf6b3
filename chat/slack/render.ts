/**
 * Platform-neutral cards and notices as Slack Block Kit. Pure functions; @slack/types only
 * for the types (nothing of it runs).
 *
 * Buttons carry only the approval id (or a notice's command): never a task token. Untrusted
 * text (titles, field values, reasons) goes into plain_text, or into mrkdwn with `& < >`
 * escaped, so a merge request title cannot add mentions (`<!channel>`), links or user pings.
 * Limits (Block Kit): header 150 characters, section text 3000, a field 2000, 10 fields per
 * section, 50 blocks per message, button text 75, button value 2000, modal title 24.
 */
import type { ActionsBlock, Button, KnownBlock, ModalView, SectionBlock } from '@slack/types';
import { confirmLabel, confirmNote, describeState } from '../../core/cards.ts';
import type { Card, CardState, Notice } from '../../core/chat.ts';
import type { Language } from '../../core/commands.ts';
import { translate, translator } from '../../core/messages/index.ts';
import {
  APPROVE_ACTION,
  COMMAND_ACTION,
  commandValue,
  REASON_BLOCK,
  REASON_INPUT,
  REASON_VIEW,
  REJECT_ACTION,
} from './parse.ts';

/** A message as chat.postMessage / chat.update / response_url take it. */
export interface SlackMessage {
  /** The notification and screen-reader text. */
  text: string;
  blocks: KnownBlock[];
}

const MAX_FIELDS = 20;
const MAX_LINKS = 10;
const MAX_CHOICES = 20;

const ICON: Record<CardState['kind'], string> = {
  pending: ':hourglass_flowing_sand:',
  approved: ':white_check_mark:',
  rejected: ':x:',
  expired: ':alarm_clock:',
  cancelled: ':no_entry_sign:',
};

/** The progress line of a card: "1 of 2 approved: Bob", "Approved by Bob", … */
export function slackStateLine(state: CardState, language: Language = 'en'): string {
  if (state.kind === 'pending') {
    const counts = { n: state.approvals, m: state.required };
    return state.approvedBy.length > 0
      ? translate(language, 'progressBy', { ...counts, names: state.approvedBy.join(', ') })
      : translate(language, 'progress', counts);
  }
  return describeState(state, language);
}

/** The step-up link button's action id: Slack reports its click, which parse ignores (not ours). */
const CONFIRM_ACTION = 'signoff_confirm';

/** An approval card; while pending it has Approve and Reject buttons (the reason is asked in a modal). */
export function renderSlackCard(card: Card): SlackMessage {
  const language = card.language ?? 'en';
  const blocks: KnownBlock[] = [{ type: 'header', text: plain(card.title, 150) }];
  if (card.summary) blocks.push(section(escapeText(cut(card.summary, 2900))));
  const fields = card.fields.slice(0, MAX_FIELDS);
  for (let i = 0; i < fields.length; i += 10) {
    blocks.push({
      type: 'section',
      fields: fields.slice(i, i + 10).map((f) => ({
        type: 'mrkdwn',
        text: cut(`*${escapeText(cut(f.label, 100))}*\n${escapeText(f.value)}`, 2000),
      })),
    });
  }
  const links = linksLine(card.links);
  if (links) blocks.push({ type: 'context', elements: [{ type: 'mrkdwn', text: links }] });
  const line = `${ICON[card.state.kind]} ${escapeText(slackStateLine(card.state, language))}`;
  blocks.push({ type: 'section', block_id: 'state', text: { type: 'mrkdwn', text: cut(line, 2900) } });
  const confirm =
    card.confirmUrl && /^https?:\/\/[^\s<>|]+$/i.test(card.confirmUrl) && card.confirmUrl.length <= 3000
      ? card.confirmUrl
      : undefined;
  if (card.state.kind === 'pending' && card.confirmUrl) {
    // Step-up: a link button to the console's confirmation page (its click decides nothing).
    blocks.push({ type: 'context', elements: [{ type: 'mrkdwn', text: escapeText(confirmNote(language)) }] });
    if (confirm)
      blocks.push({
        type: 'actions',
        block_id: 'confirm',
        elements: [
          { ...button(confirmLabel(language), CONFIRM_ACTION, card.approvalId, 'primary'), url: confirm },
        ],
      });
  } else if (card.state.kind === 'pending') {
    const actions: ActionsBlock = {
      type: 'actions',
      block_id: 'decision',
      elements: [
        button(translate(language, 'approve'), APPROVE_ACTION, card.approvalId, 'primary'),
        button(translate(language, 'reject'), REJECT_ACTION, card.approvalId, 'danger'),
      ],
    };
    blocks.push(actions);
  }
  return { text: cut(`${card.title}: ${slackStateLine(card.state, language)}`, 3000), blocks };
}

/** A notice: text, optional command buttons and links. */
export function renderSlackNotice(notice: Notice): SlackMessage {
  const blocks: KnownBlock[] = [];
  const body = notice.title
    ? `*${escapeText(notice.title)}*\n${escapeText(notice.text)}`
    : escapeText(notice.text);
  // Long help texts: one section per 2900 characters, at most 40.
  for (let i = 0; i < body.length && blocks.length < 40; i += 2900)
    blocks.push(section(body.slice(i, i + 2900)));
  if (blocks.length === 0) blocks.push(section(' '));
  const choices = (notice.choices ?? []).slice(0, MAX_CHOICES).flatMap((choice, index) => {
    const value = commandValue(choice.command, choice.key);
    return value ? [button(choice.label, `${COMMAND_ACTION}:${index}`, value)] : [];
  });
  for (let i = 0; i < choices.length; i += 5)
    blocks.push({ type: 'actions', elements: choices.slice(i, i + 5) });
  const links = linksLine(notice.links ?? []);
  if (links) blocks.push({ type: 'context', elements: [{ type: 'mrkdwn', text: links }] });
  const text = notice.title ? `${notice.title}\n${notice.text}` : notice.text;
  return { text: cut(text, 3000), blocks };
}

/**
 * The modal a Reject click opens: the request's title and a required reason, in the clicker's
 * `language`, which the modal carries (private metadata) so its answers are in it too.
 */
export function renderReasonModal(
  card: { approvalId: string; title?: string },
  metadata: { channel?: string; ts?: string },
  language: Language = 'en',
): ModalView {
  const t = translator(language);
  return {
    type: 'modal',
    callback_id: REASON_VIEW,
    private_metadata: JSON.stringify({ approvalId: card.approvalId, ...metadata, language }),
    title: plain(t('reasonModalTitle'), 24),
    submit: plain(t('reject'), 24),
    close: plain(t('reasonModalCancel'), 24),
    blocks: [
      ...(card.title ? [section(`*${escapeText(cut(card.title, 2800))}*`)] : []),
      {
        type: 'input',
        block_id: REASON_BLOCK,
        label: plain(t('reasonModalLabel'), 2000),
        element: {
          type: 'plain_text_input',
          action_id: REASON_INPUT,
          multiline: true,
          max_length: 2000,
          placeholder: plain(t('reasonModalPlaceholder'), 150),
        },
      },
    ],
  };
}

/** An ephemeral answer to one person (through response_url): plain text, nothing replaced. */
export function renderSlackEphemeral(text: string): SlackMessage & {
  response_type: 'ephemeral';
  replace_original: false;
} {
  return {
    response_type: 'ephemeral',
    replace_original: false,
    text: cut(text, 3000),
    blocks: [section(escapeText(cut(text, 2900)))],
  };
}

/** `& < >` escaped, as Slack asks for text that must not become markup. */
export function escapeText(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

function linksLine(links: Array<{ label: string; url: string }>): string | undefined {
  const safe = links
    .slice(0, MAX_LINKS)
    .filter((l) => /^https?:\/\/[^\s<>|]+$/i.test(l.url))
    .map((l) => `<${l.url}|${escapeText(cut(l.label, 80)).replace(/\|/g, '¦')}>`);
  return safe.length > 0 ? cut(safe.join('  ·  '), 2900) : undefined;
}

function button(label: string, actionId: string, value: string, style?: 'primary' | 'danger'): Button {
  return { type: 'button', text: plain(label, 75), action_id: actionId, value, ...(style ? { style } : {}) };
}

function section(text: string): SectionBlock {
  return { type: 'section', text: { type: 'mrkdwn', text } };
}

function plain(text: string, max: number): { type: 'plain_text'; text: string; emoji: true } {
  return { type: 'plain_text', text: cut(text.trim() || '-', max), emoji: true };
}

function cut(text: string, max: number): string {
  const chars = [...text];
  if (chars.length <= max) return text;
  // Never end inside an escaped entity (`&am…`): Slack would show it half.
  return `${chars
    .slice(0, max - 1)
    .join('')
    .replace(/&[a-z]{0,3}$/, '')}…`;
}
