import type { Language } from '../../core/commands.ts';
import { type MessageKey, type MessageVars, translate } from '../../core/messages/index.ts';

/**
 * A command reply in a language. The texts live in the one message catalog
 * (core/messages/commands.ts); add new ones there, in all four languages.
 */
export function t(key: MessageKey, language: Language, vars?: MessageVars): string {
  return translate(language, key, vars);
}

export type TextKey = MessageKey;
