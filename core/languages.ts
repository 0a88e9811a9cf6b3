import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { GetCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
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

export function createLanguageStore(client: DynamoDBClient, tableName: string): LanguageStore {
  const db = documentClient(client);
  const key = (user: string) => ({ pk: `USER#${user}`, sk: 'PROFILE' });
  return {
    async lastCommand(user) {
      const out = await db.send(new GetCommand({ TableName: tableName, Key: key(user) }));
      return asLanguage(out.Item?.language);
    },
    async remember(user, language) {
      await db.send(
        new UpdateCommand({
          TableName: tableName,
          Key: key(user),
          UpdateExpression: 'SET #language = :language',
          ExpressionAttributeNames: { '#language': 'language' },
          ExpressionAttributeValues: { ':language': language },
        }),
      );
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
