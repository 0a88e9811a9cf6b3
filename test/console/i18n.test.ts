import { describe, expect, it } from 'vitest';
import { localeFromAcceptLanguage, pickLocale, translator } from '../../console/i18n.ts';

describe('localeFromAcceptLanguage', () => {
  it('maps Chinese scripts and regions, Japanese and English', () => {
    expect(localeFromAcceptLanguage('zh-TW,zh;q=0.9')).toBe('zh-Hant');
    expect(localeFromAcceptLanguage('zh-Hant-HK')).toBe('zh-Hant');
    expect(localeFromAcceptLanguage('zh-CN,zh;q=0.9,en;q=0.8')).toBe('zh-Hans');
    expect(localeFromAcceptLanguage('ja-JP')).toBe('ja');
    expect(localeFromAcceptLanguage('en-GB')).toBe('en');
  });

  it('follows q-values and skips unsupported languages', () => {
    expect(localeFromAcceptLanguage('fr;q=1, ja;q=0.4, en;q=0.6')).toBe('en');
    expect(localeFromAcceptLanguage('de, ko')).toBe('en');
    expect(localeFromAcceptLanguage(undefined)).toBe('en');
    expect(localeFromAcceptLanguage(';;;,,q=x')).toBe('en');
  });
});

describe('pickLocale', () => {
  it('prefers ?lang=, then the cookie, then the header, ignoring unknown values', () => {
    expect(pickLocale({ query: 'ja', cookie: 'zh-Hans', acceptLanguage: 'en' })).toBe('ja');
    expect(pickLocale({ query: 'xx', cookie: 'zh-Hans', acceptLanguage: 'en' })).toBe('zh-Hans');
    expect(pickLocale({ cookie: 'evil', acceptLanguage: 'zh-TW' })).toBe('zh-Hant');
  });
});

describe('translator', () => {
  it('fills placeholders in every language', () => {
    for (const locale of ['en', 'zh-Hans', 'zh-Hant', 'ja'] as const) {
      const text = translator(locale)('approvalsOf', { n: 1, m: 2 });
      expect(text).toContain('1');
      expect(text).toContain('2');
      expect(text).not.toContain('{');
    }
  });
});
