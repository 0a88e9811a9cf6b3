import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_CONFIG_INPUT, parseConfig } from '../../core/config.ts';
import { createLanguageStore, readerLanguage } from '../../core/languages.ts';
import { startTestDynamo, type TestDynamo } from '../support/dynamo.ts';

let dynamo: TestDynamo;
beforeAll(async () => {
  dynamo = await startTestDynamo();
});
afterAll(async () => {
  await dynamo?.close();
});

const config = parseConfig({
  ...DEFAULT_CONFIG_INPUT,
  language: 'zh-Hant',
  users: { ...DEFAULT_CONFIG_INPUT.users, bob: { name: 'Bob', language: 'ja' } },
});

describe('readerLanguage', () => {
  it('reads users.<key>.language, then the last command, then the configured language', async () => {
    const store = createLanguageStore(dynamo.client, dynamo.tableName);
    const languageOf = readerLanguage(config, store);
    expect(await languageOf('alice')).toBe('zh-Hant');
    await store.remember('alice', 'en');
    await store.remember('bob', 'zh-Hans');
    expect(await languageOf('alice')).toBe('en');
    // The configured language of a person wins over their last command.
    expect(await languageOf('bob')).toBe('ja');
    // Group chats and unknown people: the configured language.
    expect(await languageOf(undefined)).toBe('zh-Hant');
  });

  it('keeps the last command language in the table, for every instance that reads it', async () => {
    await createLanguageStore(dynamo.client, dynamo.tableName).remember('carol', 'ja');
    await createLanguageStore(dynamo.client, dynamo.tableName).remember('carol', 'zh-Hans');
    expect(await createLanguageStore(dynamo.client, dynamo.tableName).lastCommand('carol')).toBe('zh-Hans');
  });

  it('falls back to the configured language when the table cannot be read', async () => {
    const broken = createLanguageStore(dynamo.client, 'no-such-table');
    expect(await readerLanguage(config, broken)('alice')).toBe('zh-Hant');
  });

  it('defaults the configured language to English', () => {
    expect(parseConfig(DEFAULT_CONFIG_INPUT).language).toBe('en');
    expect(() => parseConfig({ ...DEFAULT_CONFIG_INPUT, language: 'fr' })).toThrow(/language/);
  });
});
