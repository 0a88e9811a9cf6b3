/**
 * Platform-neutral cards and notices as LINE messages. Pure functions.
 *
 * - A card is a Flex bubble: title, summary, fields, links (uri buttons), a state line and,
 *   while pending, Approve / Reject postback buttons whose `data` is `a=<approvalId>&d=…` only.
 * - A notice is a text message, or a Flex bubble when it has choices (postback `c=<command>`)
 *   or links.
 * - A state change is a NEW text message (LINE messages cannot be edited).
 *
 * Flex and text messages have no markup, so untrusted text (titles, field values, reasons)
 * cannot add mentions, links or formatting. Limits (platforms.md §2): altText ≤ 400 and text
 * ≤ 5000 UTF-16 code units, action labels ≤ 20 grapheme clusters, postback data ≤ 300,
 * displayText ≤ 300, a bubble ≤ 30 KB of JSON.
 */
import type { messagingApi } from '@line/bot-sdk';
import { confirmLabel, confirmNote, describeState } from '../../core/cards.ts';
import type { Card, CardState, Notice } from '../../core/chat.ts';
import { translate, translator } from '../../core/messages/index.ts';
import { commandData, decisionData } from './postback.ts';

export const LINE_ALT_TEXT_MAX = 400;
export const LINE_TEXT_MAX = 5000;
export const LINE_LABEL_MAX = 20;
export const LINE_DISPLAY_TEXT_MAX = 300;
export const LINE_URI_MAX = 1000;
/** LINE refuses a bubble whose JSON is over 30 KB. */
export const LINE_BUBBLE_MAX_BYTES = 30 * 1024;
/** Our budget, with room to spare for what LINE counts differently. */
const BUDGET_BYTES = LINE_BUBBLE_MAX_BYTES - 2 * 1024;
const MAX_FIELDS = 30;
const MAX_LINKS = 5;
const MAX_CHOICES = 20;

type FlexComponent = messagingApi.FlexComponent;
type FlexBox = messagingApi.FlexBox;
type FlexBubble = messagingApi.FlexBubble;

const COLOUR: Record<CardState['kind'], string> = {
  pending: '#1E6FD9',
  approved: '#06C755',
  rejected: '#D93025',
  expired: '#888888',
  cancelled: '#888888',
};

const ICON: Record<CardState['kind'], string> = {
  pending: '⏳',
  approved: '✅',
  rejected: '❌',
  expired: '⌛',
  cancelled: '🚫',
};

/** An approval card as a Flex message; while pending it has Approve / Reject buttons. */
export function renderLineCard(card: Card): messagingApi.FlexMessage {
  let limits = { value: 1000, summary: 2000, fields: MAX_FIELDS };
  let bubble = cardBubble(card, limits);
  // Shrink the free text first, then drop trailing fields, until the bubble fits.
  while (jsonBytes(bubble) > BUDGET_BYTES && (limits.value > 60 || limits.summary > 60)) {
    limits = {
      ...limits,
      value: Math.max(60, limits.value >> 1),
      summary: Math.max(60, limits.summary >> 1),
    };
    bubble = cardBubble(card, limits);
  }
  while (jsonBytes(bubble) > BUDGET_BYTES && limits.fields > 0) {
    limits = { ...limits, fields: limits.fields - 1 };
    bubble = cardBubble(card, limits);
  }
  const language = card.language ?? 'en';
  const alt =
    card.state.kind === 'pending'
      ? translate(language, 'approvalNeeded', { title: card.title })
      : `${describeState(card.state, language)}: ${card.title}`;
  return { type: 'flex', altText: altText(alt), contents: bubble };
}

/** A notice: a text message, or a Flex bubble with choice buttons (`c=<command>`) and links. */
export function renderLineNotice(notice: Notice): messagingApi.Message[] {
  const links = (notice.links ?? []).filter((l) => isHttpUrl(l.url));
  const choices = notice.choices ?? [];
  if (choices.length === 0 && links.length === 0) {
    const text = notice.title ? `${notice.title}\n\n${notice.text}` : notice.text;
    return [{ type: 'text', text: truncateUnits(nonEmpty(text), LINE_TEXT_MAX) }];
  }
  let textLimit = 2000;
  let bubble = noticeBubble(notice, textLimit);
  while (jsonBytes(bubble) > BUDGET_BYTES && textLimit > 60) {
    textLimit >>= 1;
    bubble = noticeBubble(notice, textLimit);
  }
  return [{ type: 'flex', altText: altText(notice.title ?? notice.text), contents: bubble }];
}

/** The new message that shows a card's new state (sent instead of editing the old card). */
export function renderLineStateUpdate(card: Card): messagingApi.TextMessage {
  const text = `${ICON[card.state.kind]} ${describeState(card.state, card.language)}\n${card.title}`;
  return { type: 'text', text: truncateUnits(text, LINE_TEXT_MAX) };
}

/** A plain text message, truncated to LINE's 5000 code units. */
export function renderLineText(text: string): messagingApi.TextMessage {
  return { type: 'text', text: truncateUnits(nonEmpty(text), LINE_TEXT_MAX) };
}

function cardBubble(card: Card, limits: { value: number; summary: number; fields: number }): FlexBubble {
  const t = translator(card.language ?? 'en');
  const body: FlexComponent[] = [];
  if (card.summary)
    body.push(text(truncateUnits(card.summary, limits.summary), { size: 'sm', color: '#555555' }));

  const shown = card.fields.slice(0, limits.fields);
  if (shown.length > 0) {
    if (body.length > 0) body.push({ type: 'separator', margin: 'md' });
    for (const field of shown) {
      body.push({
        type: 'box',
        layout: 'baseline',
        spacing: 'sm',
        margin: 'sm',
        contents: [
          text(truncateUnits(oneLine(field.label), 80), { size: 'sm', color: '#888888', flex: 2 }),
          text(truncateUnits(field.value, limits.value), { size: 'sm', flex: 5 }),
        ],
      });
    }
    const hidden = card.fields.length - shown.length;
    if (hidden > 0) {
      body.push(
        text(hidden === 1 ? t('moreFieldsOne') : t('moreFields', { n: hidden }), {
          size: 'xs',
          color: '#888888',
        }),
      );
    }
  }
  const { buttons: linkButtons, lines: linkLines } = links(card.links);
  body.push(...linkLines);

  const footer: FlexComponent[] = [
    text(`${ICON[card.state.kind]} ${describeState(card.state, t.language)}`, {
      size: 'sm',
      color: COLOUR[card.state.kind],
      weight: 'bold',
    }),
  ];
  const confirm =
    card.state.kind === 'pending' && card.confirmUrl && isHttpUrl(card.confirmUrl)
      ? card.confirmUrl.length <= LINE_URI_MAX
        ? card.confirmUrl
        : undefined
      : undefined;
  if (card.state.kind === 'pending' && card.confirmUrl) {
    // Step-up: a link to the console's confirmation page instead of postback buttons.
    footer.push(text(confirmNote(t.language), { size: 'xs', color: '#888888' }));
    if (confirm)
      footer.push({
        type: 'button',
        style: 'primary',
        height: 'sm',
        action: { type: 'uri', label: label(confirmLabel(t.language)), uri: confirm },
      });
  } else if (card.state.kind === 'pending') {
    const shortTitle = truncateGraphemes(oneLine(card.title), 200);
    footer.push({
      type: 'box',
      layout: 'horizontal',
      spacing: 'sm',
      margin: 'md',
      contents: [
        {
          type: 'button',
          style: 'primary',
          color: COLOUR.approved,
          height: 'sm',
          action: {
            type: 'postback',
            label: label(t('approve')),
            data: decisionData(card.approvalId, 'approve'),
            displayText: truncateGraphemes(t('approveThis', { title: shortTitle }), LINE_DISPLAY_TEXT_MAX),
          },
        },
        {
          type: 'button',
          style: 'primary',
          color: COLOUR.rejected,
          height: 'sm',
          action: {
            type: 'postback',
            label: label(t('reject')),
            data: decisionData(card.approvalId, 'reject'),
            displayText: truncateGraphemes(t('rejectThis', { title: shortTitle }), LINE_DISPLAY_TEXT_MAX),
          },
        },
      ],
    });
  }
  footer.push(...linkButtons);

  return {
    type: 'bubble',
    size: 'mega',
    header: box([text(truncateUnits(card.title, 300), { weight: 'bold', size: 'md' })], {
      backgroundColor: '#F5F7FA',
    }),
    ...(body.length > 0 ? { body: box(body, { spacing: 'sm' }) } : {}),
    footer: box(footer, { spacing: 'sm' }),
  };
}

function noticeBubble(notice: Notice, textLimit: number): FlexBubble {
  const t = translator(notice.language ?? 'en');
  const body: FlexComponent[] = [text(truncateUnits(notice.text, textLimit), { size: 'sm' })];
  const footer: FlexComponent[] = [];
  const typed: string[] = [];
  const choices = notice.choices ?? [];
  for (const choice of choices.slice(0, MAX_CHOICES)) {
    const data = commandData(choice.command, choice.key);
    if (!data) {
      // Too long for a postback: show it to type instead.
      if (choice.command.trim()) typed.push(`• ${oneLine(choice.label)}: ${oneLine(choice.command)}`);
      continue;
    }
    footer.push({
      type: 'button',
      style: 'secondary',
      height: 'sm',
      action: {
        type: 'postback',
        label: label(choice.label),
        data,
        displayText: truncateGraphemes(oneLine(choice.label) || choice.command, LINE_DISPLAY_TEXT_MAX),
      },
    });
  }
  if (choices.length > MAX_CHOICES) typed.push(t('moreNotShown', { n: choices.length - MAX_CHOICES }));
  if (typed.length > 0) {
    body.push(
      text(`${t('typeOneOf')}\n${truncateUnits(typed.join('\n'), 2000)}`, { size: 'xs', color: '#555555' }),
    );
  }
  const { buttons, lines } = links(notice.links ?? []);
  body.push(...lines);
  footer.push(...buttons);
  return {
    type: 'bubble',
    size: 'mega',
    ...(notice.title
      ? { header: box([text(truncateUnits(notice.title, 300), { weight: 'bold', size: 'md' })]) }
      : {}),
    body: box(body, { spacing: 'sm' }),
    ...(footer.length > 0 ? { footer: box(footer, { spacing: 'sm' }) } : {}),
  };
}

/** http(s) links up to LINE's URI limit become buttons; the rest are shown as text (never opened). */
function links(items: Array<{ label: string; url: string }>): {
  buttons: FlexComponent[];
  lines: FlexComponent[];
} {
  const buttons: FlexComponent[] = [];
  const lines: FlexComponent[] = [];
  for (const link of items.slice(0, MAX_LINKS)) {
    if (isHttpUrl(link.url) && link.url.length <= LINE_URI_MAX) {
      buttons.push({
        type: 'button',
        style: 'link',
        height: 'sm',
        action: { type: 'uri', label: label(link.label || 'Open'), uri: link.url },
      });
    } else {
      lines.push(
        text(`${oneLine(link.label)}: ${truncateUnits(link.url, 300)}`, { size: 'xs', color: '#888888' }),
      );
    }
  }
  return { buttons, lines };
}

function text(
  content: string,
  style: Partial<Pick<messagingApi.FlexText, 'size' | 'color' | 'weight' | 'flex'>> = {},
): messagingApi.FlexText {
  return { type: 'text', text: nonEmpty(content), wrap: true, ...style };
}

function box(contents: FlexComponent[], extra: Partial<FlexBox> = {}): FlexBox {
  return { type: 'box', layout: 'vertical', contents, ...extra };
}

/** An action label: one line, at most 20 grapheme clusters (LINE counts labels that way). */
export function label(value: string): string {
  return truncateGraphemes(nonEmpty(oneLine(value)), LINE_LABEL_MAX);
}

function altText(value: string): string {
  return truncateUnits(nonEmpty(oneLine(value)), LINE_ALT_TEXT_MAX);
}

const segmenter = new Intl.Segmenter(undefined, { granularity: 'grapheme' });

/** At most `max` grapheme clusters, ending in `…` when cut. */
export function truncateGraphemes(value: string, max: number): string {
  const graphemes = [...segmenter.segment(value)].map((s) => s.segment);
  if (graphemes.length <= max) return value;
  return `${graphemes.slice(0, max - 1).join('')}…`;
}

/** At most `max` UTF-16 code units (LINE's count for text), never splitting a surrogate pair. */
export function truncateUnits(value: string, max: number): string {
  if (value.length <= max) return value;
  let cut = max - 1;
  const last = value.charCodeAt(cut - 1);
  if (last >= 0xd800 && last <= 0xdbff) cut -= 1;
  return `${value.slice(0, cut)}…`;
}

function oneLine(value: string): string {
  return value.replace(/\s+/g, ' ').trim();
}

/** LINE refuses empty text components and labels. */
function nonEmpty(value: string): string {
  return value.trim() === '' ? '-' : value;
}

function isHttpUrl(value: string): boolean {
  try {
    const url = new URL(value);
    return url.protocol === 'https:' || url.protocol === 'http:';
  } catch {
    return false;
  }
}

function jsonBytes(value: object): number {
  return Buffer.byteLength(JSON.stringify(value), 'utf8');
}
