import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
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

  it('reads each person once per LANGUAGE_CACHE_MS, sees its own writes at once, and writes every remembered language', async () => {
    const calls: string[] = [];
    const client = new DynamoDBClient({
      region: 'us-east-1',
      endpoint: dynamo.endpoint,
      credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
    });
    client.middlewareStack.add(
      (next, context) => (args) => {
        calls.push(String(context.commandName));
        return next(args);
      },
      { step: 'initialize' },
    );
    const store = createLanguageStore(client, dynamo.tableName, { cacheMs: 200 });
    const other = createLanguageStore(dynamo.client, dynamo.tableName);
    try {
      expect(await store.lastCommand('dave')).toBeUndefined();
      expect(await store.lastCommand('dave')).toBeUndefined();
      expect(calls).toEqual(['GetItemCommand']);
      await store.remember('dave', 'ja');
      await store.remember('dave', 'ja');
      expect(await store.lastCommand('dave')).toBe('ja');
      expect(calls).toEqual(['GetItemCommand', 'UpdateItemCommand', 'UpdateItemCommand']);
      // Another process's write: seen once the cached read is older than cacheMs.
      await other.remember('dave', 'zh-Hant');
      expect(await store.lastCommand('dave')).toBe('ja');
      await new Promise((resolve) => setTimeout(resolve, 250));
      expect(await store.lastCommand('dave')).toBe('zh-Hant');
      expect(calls).toEqual(['GetItemCommand', 'UpdateItemCommand', 'UpdateItemCommand', 'GetItemCommand']);
      // cacheMs 0: every read asks.
      const uncached = createLanguageStore(client, dynamo.tableName, { cacheMs: 0 });
      await uncached.lastCommand('dave');
      await uncached.lastCommand('dave');
      expect(calls.filter((name) => name === 'GetItemCommand')).toHaveLength(4);
    } finally {
      client.destroy();
    }
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
