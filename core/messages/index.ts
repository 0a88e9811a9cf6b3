import { LANGUAGES, type Language } from '../commands.ts';
import { CARD_MESSAGES } from './cards.ts';
import { COMMAND_MESSAGES } from './commands.ts';
import { CONSOLE_MESSAGES } from './console.ts';
import { DELEGATION_MESSAGES } from './delegation.ts';
import { DEPLOY_MESSAGES } from './deploys.ts';
import { NOTICE_MESSAGES } from './notices.ts';
import { REASON_MESSAGES } from './reasons.ts';
import { REFUSAL_MESSAGES } from './refusals.ts';
import { RELEASE_MESSAGES } from './releases.ts';
import { SUPPORT_MESSAGES } from './support.ts';
import type { Catalog } from './types.ts';
import { WORKFLOW_MESSAGES } from './workflows.ts';

export type { Catalog } from './types.ts';
export { LANGUAGES, type Language };

/**
 * Every word Signoff shows a person, by section: one catalog. A key is unique across sections
 * (test/core/messages.test.ts), and each message exists in all four languages with the same
 * `{placeholders}`.
 */
export const SECTIONS = {
  cards: CARD_MESSAGES,
  commands: COMMAND_MESSAGES,
  console: CONSOLE_MESSAGES,
  delegation: DELEGATION_MESSAGES,
  deploys: DEPLOY_MESSAGES,
  notices: NOTICE_MESSAGES,
  reasons: REASON_MESSAGES,
  refusals: REFUSAL_MESSAGES,
  releases: RELEASE_MESSAGES,
  support: SUPPORT_MESSAGES,
  workflows: WORKFLOW_MESSAGES,
} as const;

export const MESSAGES = {
  ...CARD_MESSAGES,
  ...COMMAND_MESSAGES,
  ...CONSOLE_MESSAGES,
  ...DELEGATION_MESSAGES,
  ...DEPLOY_MESSAGES,
  ...NOTICE_MESSAGES,
  ...REASON_MESSAGES,
  ...REFUSAL_MESSAGES,
  ...RELEASE_MESSAGES,
  ...SUPPORT_MESSAGES,
  ...WORKFLOW_MESSAGES,
} satisfies Catalog;

export type MessageKey = keyof typeof MESSAGES;
export type MessageVars = Record<string, string | number>;

/** A message in one language, with a `language` to build more in the same one. */
export type Translate = ((key: MessageKey, vars?: MessageVars) => string) & { readonly language: Language };

/** A message in a language, its `{placeholders}` filled in (an unknown one is left as written). */
export function translate(language: Language, key: MessageKey, vars?: MessageVars): string {
  const text = MESSAGES[key][language];
  if (!vars) return text;
  return text.replace(/\{(\w+)\}/g, (whole, name: string) => (name in vars ? String(vars[name]) : whole));
}

/** The messages of one language: `const t = translator('ja'); t('approvalsOf', { n: 1, m: 2 })`. */
export function translator(language: Language): Translate {
  return Object.assign((key: MessageKey, vars?: MessageVars) => translate(language, key, vars), {
    language,
  });
}

/** A value of unknown origin (config, a stored record, a query string) as a language, if it is one. */
export function asLanguage(value: unknown): Language | undefined {
  return (LANGUAGES as readonly unknown[]).includes(value) ? (value as Language) : undefined;
}

/**
 * Sentences as one text: a space between them in English; in Chinese and Japanese none, and a
 * full stop after one that ends without its own (an error message, a URL). Empty parts are left out.
 */
export function sentences(language: Language, parts: ReadonlyArray<string | undefined>): string {
  const shown = parts.filter((part): part is string => Boolean(part));
  if (language === 'en') return shown.join(' ');
  return shown
    .map((part, i) => (i < shown.length - 1 && !/[。！？」）)]$/.test(part) ? `${part}。` : part))
    .join('');
}

/** Parts of one phrase (`#12 failed` `in 1m 5s` `at job "test"`): spaced in English, joined as written in Chinese and Japanese. */
export function phrases(language: Language, parts: ReadonlyArray<string | undefined>): string {
  return parts.filter((part): part is string => Boolean(part)).join(language === 'en' ? ' ' : '');
}
