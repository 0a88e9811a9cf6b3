/**
 * Platform-neutral cards and notices as Lark/Feishu card JSON 2.0. Pure functions.
 *
 * Buttons carry only `{approvalId, decision}` (or `{command}` on notices): never a task token.
 * Untrusted text (titles, field values, reasons) goes into plain_text or escaped markdown, so a
 * merge request title cannot add mentions (`<at id=all>`), links or formatting.
 */
import { confirmLabel, confirmNote, describeState } from '../../core/cards.ts';
import type { Card, CardState, Notice } from '../../core/chat.ts';
import { type Translate, translator } from '../../core/messages/index.ts';
import { REASON_FIELD } from './parse.ts';

/** Lark refuses card messages over 30 KB (send, PATCH and callback answers alike). */
export const LARK_CARD_MAX_BYTES = 30 * 1024;
/** Our budget for the card as sent: JSON inside a JSON string, with room to spare. */
const BUDGET_BYTES = LARK_CARD_MAX_BYTES - 2 * 1024;
const MAX_FIELDS = 40;
const MAX_LINKS = 10;
const MAX_CHOICES = 20;
const TITLE_CHARS = 200;
const LABEL_CHARS = 80;

export type LarkTemplateColour = 'blue' | 'green' | 'red' | 'grey' | 'orange' | 'wathet';

export interface LarkCardJson {
  schema: '2.0';
  config: { update_multi: true };
  header?: { title: PlainText; template: LarkTemplateColour };
  body: { elements: LarkElement[] };
}

export type LarkElement = Record<string, unknown>;
type PlainText = { tag: 'plain_text'; content: string };

export interface LarkToast {
  type: 'info' | 'success' | 'error' | 'warning';
  content: string;
}

/** The HTTP answer to a `card.action.trigger` callback. */
export interface LarkCallbackAnswer {
  toast?: LarkToast;
  card?: { type: 'raw'; data: LarkCardJson };
}

const COLOUR: Record<CardState['kind'], LarkTemplateColour> = {
  pending: 'blue',
  approved: 'green',
  rejected: 'red',
  expired: 'grey',
  cancelled: 'grey',
};

/** An approval card; while pending it has a reason input and Approve / Reject buttons. */
export function renderLarkCard(card: Card): LarkCardJson {
  let limits = { value: 2000, summary: 4000, fields: MAX_FIELDS };
  let rendered = buildCard(card, limits);
  // Shrink the free text first, then drop trailing fields, until the card fits.
  while (cardBytes(rendered) > BUDGET_BYTES && (limits.value > 60 || limits.summary > 60)) {
    limits = {
      ...limits,
      value: Math.max(60, limits.value >> 1),
      summary: Math.max(60, limits.summary >> 1),
    };
    rendered = buildCard(card, limits);
  }
  while (cardBytes(rendered) > BUDGET_BYTES && limits.fields > 0) {
    limits = { ...limits, fields: limits.fields - 1 };
    rendered = buildCard(card, limits);
  }
  return rendered;
}

/** A notice: text, optional command buttons (`{command}` callbacks) and links. */
export function renderLarkNotice(notice: Notice): LarkCardJson {
  let textLimit = 8000;
  let rendered = buildNotice(notice, textLimit);
  while (cardBytes(rendered) > BUDGET_BYTES && textLimit > 60) {
    textLimit >>= 1;
    rendered = buildNotice(notice, textLimit);
  }
  return rendered;
}

/** The answer to a 2.0 card callback: the card to show in place of the clicked one, and/or a toast. */
export function renderLarkCallbackAnswer(
  card: Card | undefined,
  toast?: { kind: 'success' | 'error' | 'info'; text: string },
): LarkCallbackAnswer {
  return {
    ...(toast ? { toast: { type: toast.kind, content: truncate(toast.text, 200) } } : {}),
    ...(card ? { card: { type: 'raw' as const, data: renderLarkCard(card) } } : {}),
  };
}

/** The answer to a legacy (pre-2.0) card callback: the bare card, no wrapper, no toast. */
export function renderLegacyCallbackAnswer(card: Card): LarkCardJson {
  return renderLarkCard(card);
}

/** Size of the card as it travels: JSON serialised into the `content` string of a request. */
export function cardBytes(card: object): number {
  return Buffer.byteLength(JSON.stringify(JSON.stringify(card)), 'utf8');
}

function buildCard(card: Card, limits: { value: number; summary: number; fields: number }): LarkCardJson {
  const language = card.language ?? 'en';
  const t = translator(language);
  const elements: LarkElement[] = [];
  if (card.summary) elements.push(plainDiv(truncate(card.summary, limits.summary)));

  const shown = card.fields.slice(0, limits.fields);
  if (shown.length > 0) {
    const lines = shown.map(
      (f) =>
        `**${escapeMarkdown(oneLine(truncate(f.label, LABEL_CHARS)))}**: ${escapeMarkdown(oneLine(truncate(f.value, limits.value)))}`,
    );
    const hidden = card.fields.length - shown.length;
    if (hidden > 0) lines.push(hidden === 1 ? t('moreFieldsOne') : t('moreFields', { n: hidden }));
    elements.push(markdown(lines.join('\n')));
  }

  const links = linkLine(card.links);
  if (links) elements.push(markdown(links));

  elements.push({ tag: 'hr' });
  elements.push(
    markdown(`**${escapeMarkdown(oneLine(truncate(describeState(card.state, language), limits.summary)))}**`),
  );

  if (card.state.kind === 'pending') {
    const confirm = card.confirmUrl ? safeUrl(card.confirmUrl) : undefined;
    if (confirm) elements.push(markdown(escapeMarkdown(confirmNote(language))), confirmButton(confirm, t));
    else if (!card.confirmUrl) elements.push(decisionForm(card.approvalId, t));
  }

  return {
    schema: '2.0',
    config: { update_multi: true },
    header: { title: plain(oneLine(truncate(card.title, TITLE_CHARS))), template: COLOUR[card.state.kind] },
    body: { elements },
  };
}

/** Step-up: the button opens the console's confirmation page (a link, not a callback). */
function confirmButton(url: string, t: Translate): LarkElement {
  return {
    tag: 'button',
    name: 'confirm',
    text: plain(confirmLabel(t.language)),
    type: 'primary_filled',
    behaviors: [{ type: 'open_url', default_url: url }],
  };
}

function decisionForm(approvalId: string, t: Translate): LarkElement {
  const button = (label: string, type: string, decision: 'approve' | 'reject') => ({
    tag: 'column',
    width: 'auto',
    elements: [
      {
        tag: 'button',
        name: decision,
        text: plain(label),
        type,
        form_action_type: 'submit',
        behaviors: [{ type: 'callback', value: { approvalId, decision } }],
      },
    ],
  });
  return {
    tag: 'form',
    name: 'signoff_decision',
    elements: [
      {
        tag: 'input',
        name: REASON_FIELD,
        placeholder: plain(t('reasonOptional')),
        max_length: 500,
      },
      {
        tag: 'column_set',
        columns: [button(t('approve'), 'primary_filled', 'approve'), button(t('reject'), 'danger', 'reject')],
      },
    ],
  };
}

function buildNotice(notice: Notice, textLimit: number): LarkCardJson {
  const elements: LarkElement[] = [plainDiv(truncate(notice.text, textLimit))];
  (notice.choices ?? []).slice(0, MAX_CHOICES).forEach((choice, i) => {
    elements.push({
      tag: 'button',
      name: `choice_${i}`,
      text: plain(oneLine(truncate(choice.label, LABEL_CHARS))),
      type: 'default',
      behaviors: [
        { type: 'callback', value: { command: choice.command, ...(choice.key ? { key: choice.key } : {}) } },
      ],
    });
  });
  const links = linkLine(notice.links ?? []);
  if (links) elements.push(markdown(links));
  return {
    schema: '2.0',
    config: { update_multi: true },
    ...(notice.title
      ? { header: { title: plain(oneLine(truncate(notice.title, TITLE_CHARS))), template: 'wathet' } }
      : {}),
    body: { elements },
  };
}

function linkLine(links: Array<{ label: string; url: string }>): string | undefined {
  const parts = links
    .slice(0, MAX_LINKS)
    .map((l) => {
      const url = safeUrl(l.url);
      return url ? `[${escapeMarkdown(oneLine(truncate(l.label, LABEL_CHARS)))}](${url})` : undefined;
    })
    .filter((p): p is string => p !== undefined);
  return parts.length > 0 ? parts.join(' · ') : undefined;
}

/** http(s) only, with the characters that would end a markdown link target percent-encoded. */
function safeUrl(url: string): string | undefined {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return undefined;
  }
  if (parsed.protocol !== 'https:' && parsed.protocol !== 'http:') return undefined;
  if (parsed.href.length > 2000) return undefined;
  return parsed.href.replace(
    /[()<> ]/g,
    (c) => `%${c.charCodeAt(0).toString(16).toUpperCase().padStart(2, '0')}`,
  );
}

const MARKDOWN_ESCAPES: Record<string, string> = {
  '&': '&amp;',
  '<': '&lt;',
  '>': '&gt;',
  '*': '&#42;',
  _: '&#95;',
  '~': '&#126;',
  '`': '&#96;',
  '[': '&#91;',
  ']': '&#93;',
  '(': '&#40;',
  ')': '&#41;',
  '#': '&#35;',
  '\\': '&#92;',
};

/** HTML entities for everything Lark markdown would interpret (tags such as `<at>`, emphasis, links). */
export function escapeMarkdown(text: string): string {
  return text.replace(/[&<>*_~`[\]()#\\]/g, (c) => MARKDOWN_ESCAPES[c] ?? c);
}

function oneLine(text: string): string {
  return text.replace(/\s*[\r\n]+\s*/g, ' ');
}

/** Cuts at a code point boundary and marks the cut. */
function truncate(text: string, max: number): string {
  if (text.length <= max) return text;
  return `${Array.from(text.slice(0, max))
    .slice(0, max - 1)
    .join('')}…`;
}

function plain(content: string): PlainText {
  return { tag: 'plain_text', content };
}

function plainDiv(content: string): LarkElement {
  return { tag: 'div', text: plain(content) };
}

function markdown(content: string): LarkElement {
  return { tag: 'markdown', content };
}
