import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { GetCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { LRUCache } from 'lru-cache';
import type { Language } from './commands.ts';
import type { Config } from './config.ts';
import { documentClient } from './db.ts';
import { asLanguage } from './messages/index.ts';

/**
 * The language each person last wrote a chat command in, kept on their user record
 * (`USER#<key>` / `PROFILE`) so that it outlives a restart and is shared by every Lambda.
 *
 * @example await languages.remember('alice', 'ja'); await languages.lastCommand('alice') // 'ja'
 */
export interface LanguageStore {
  lastCommand(user: string): Promise<Language | undefined>;
  remember(user: string, language: Language): Promise<void>;
}

/**
 * How long a read language is reused without asking DynamoDB again. Every card and notice asks
 * for its reader's language, so the same few people are read again and again (issue #22: two
 * reads per merge request). A language written through this store is seen at once; one written
 * by another process (another Lambda) within this time may be read old once: a notice in the
 * language the person used before, never a wrong decision.
 */
export const LANGUAGE_CACHE_MS = 30_000;

export function createLanguageStore(
  client: DynamoDBClient,
  tableName: string,
  options: { cacheMs?: number } = {},
): LanguageStore {
  const db = documentClient(client);
  const key = (user: string) => ({ pk: `USER#${user}`, sk: 'PROFILE' });
  const cacheMs = options.cacheMs ?? LANGUAGE_CACHE_MS;
  // `none`: read, and the person has no language on record.
  const cache =
    cacheMs > 0 ? new LRUCache<string, Language | 'none'>({ max: 10_000, ttl: cacheMs }) : undefined;
  return {
    async lastCommand(user) {
      const cached = cache?.get(user);
      if (cached) return cached === 'none' ? undefined : cached;
      const out = await db.send(new GetCommand({ TableName: tableName, Key: key(user) }));
      const language = asLanguage(out.Item?.language);
      cache?.set(user, language ?? 'none');
      return language;
    },
    async remember(user, language) {
      // Written every time, even when the cache already says so: another process may have written
      // another language since this one read it.
      await db.send(
        new UpdateCommand({
          TableName: tableName,
          Key: key(user),
          UpdateExpression: 'SET #language = :language',
          ExpressionAttributeNames: { '#language': 'language' },
          ExpressionAttributeValues: { ':language': language },
        }),
      );
      cache?.set(user, language);
    },
  };
}

/** Finds the language a configured user reads (languageOf); undefined means "not a configured user". */
export type LanguageOf = (user: string | undefined) => Promise<Language>;

/**
 * The language a person reads: their `users.<key>.language`, else the language of their last
 * chat command, else the configuration's `language`. Group chats and unknown people get the
 * configuration's `language`.
 */
export function readerLanguage(config: Config, store?: LanguageStore): LanguageOf {
  return async (user) => {
    if (!user) return config.language;
    const configured = config.users[user]?.language;
    if (configured) return configured;
    // A card or notice still goes out when the record cannot be read: in the default language.
    const last = await store?.lastCommand(user).catch(() => undefined);
    return last ?? config.language;
  };
}
