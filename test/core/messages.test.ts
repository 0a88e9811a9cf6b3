import { describe, expect, it } from 'vitest';
import { LANGUAGES, MESSAGES, SECTIONS, translate, translator } from '../../core/messages/index.ts';

const placeholders = (text: string) => [...text.matchAll(/\{(\w+)\}/g)].map((m) => m[1]).sort();

describe('the message catalog', () => {
  it('has every key in all four languages, none empty', () => {
    const missing: string[] = [];
    for (const [key, texts] of Object.entries(MESSAGES)) {
      for (const language of LANGUAGES) {
        const text = (texts as Record<string, unknown>)[language];
        if (typeof text !== 'string' || text.trim() === '') missing.push(`${key}.${language}`);
      }
      const extra = Object.keys(texts).filter((l) => !(LANGUAGES as readonly string[]).includes(l));
      missing.push(...extra.map((l) => `${key}: unknown language ${l}`));
    }
    expect(missing).toEqual([]);
  });

  it('uses the same placeholders in every language of a message', () => {
    const mismatched: string[] = [];
    for (const [key, texts] of Object.entries(MESSAGES)) {
      const english = placeholders(texts.en);
      for (const language of LANGUAGES) {
        const found = placeholders(texts[language]);
        if (found.join() !== english.join())
          mismatched.push(`${key}.${language}: {${found.join('},{')}} vs en {${english.join('},{')}}`);
      }
    }
    expect(mismatched).toEqual([]);
  });

  it('has each key in one section only (a later section would silently replace it)', () => {
    const seen = new Map<string, string>();
    const twice: string[] = [];
    for (const [section, messages] of Object.entries(SECTIONS)) {
      for (const key of Object.keys(messages)) {
        const first = seen.get(key);
        if (first) twice.push(`${key}: ${first} and ${section}`);
        seen.set(key, section);
      }
    }
    expect(twice).toEqual([]);
  });

  it('keeps button labels within LINE’s 20 characters', () => {
    for (const key of ['approve', 'reject', 'cardConfirmButton'] as const) {
      for (const language of LANGUAGES) expect([...translate(language, key)].length).toBeLessThanOrEqual(20);
    }
  });

  it('fills placeholders and leaves unknown ones as written', () => {
    const t = translator('ja');
    expect(t.language).toBe('ja');
    expect(t('stateApproved', { names: 'Bob' })).toBe('Bob が承認しました');
    expect(translate('en', 'statePending', { n: 1 })).toBe('Waiting for approval: 1 of {m}');
  });
});
