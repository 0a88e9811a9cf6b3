import { LANGUAGES, type Language } from '../core/commands.ts';

/** Each language as the console's language picker names it, in that language. */
export const LANGUAGE_NAMES: Record<Language, string> = {
  en: 'English',
  'zh-Hans': '简体中文',
  'zh-Hant': '繁體中文',
  ja: '日本語',
};

/** The cookie that keeps a language chosen with `?lang=`. */
export const LANG_COOKIE = 'signoff_lang';

export type { MessageKey, Translate } from '../core/messages/index.ts';
/**
 * The translation function of a locale: `t('approvalsOf', { n: 1, m: 2 })`. Every console
 * string comes from the one message catalog (core/messages/console.ts), so a page is in one
 * language throughout, cards and refusals included.
 */
export { translator } from '../core/messages/index.ts';

/** A supported locale for a tag (`zh-TW` → zh-Hant, `zh-CN` → zh-Hans, `ja-JP` → ja), or undefined. */
export function matchLocale(tag: string): Language | undefined {
  const lower = tag.trim().toLowerCase();
  if (!lower) return undefined;
  if (lower.startsWith('zh')) {
    if (/^zh-(hant|tw|hk|mo)\b/.test(lower)) return 'zh-Hant';
    return 'zh-Hans';
  }
  if (lower === 'ja' || lower.startsWith('ja-')) return 'ja';
  if (lower === 'en' || lower.startsWith('en-')) return 'en';
  return undefined;
}

/** The best locale for an Accept-Language header, by q-value; English when nothing matches. */
export function localeFromAcceptLanguage(header: string | undefined): Language {
  if (!header) return 'en';
  const ranked = header
    .split(',')
    .slice(0, 20)
    .map((part, index) => {
      const [tag = '', ...params] = part.split(';');
      const q = params.map((p) => p.trim()).find((p) => p.startsWith('q='));
      const weight = q ? Number(q.slice(2)) : 1;
      return { tag, weight: Number.isFinite(weight) ? weight : 0, index };
    })
    .filter((entry) => entry.weight > 0)
    .sort((a, b) => b.weight - a.weight || a.index - b.index);
  for (const entry of ranked) {
    const locale = matchLocale(entry.tag);
    if (locale) return locale;
  }
  return 'en';
}

/** `?lang=` wins, then the cookie, then Accept-Language. */
export function pickLocale(input: { query?: string; cookie?: string; acceptLanguage?: string }): Language {
  for (const candidate of [input.query, input.cookie]) {
    if (candidate && (LANGUAGES as readonly string[]).includes(candidate)) return candidate as Language;
  }
  return localeFromAcceptLanguage(input.acceptLanguage);
}
