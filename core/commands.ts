/**
 * Signoff's four languages: commands are recognised and replies written in each, and the console
 * is translated into each.
 */
export const LANGUAGES = ['en', 'zh-Hans', 'zh-Hant', 'ja'] as const;
export type Language = (typeof LANGUAGES)[number];

/** A chat command, recognised from free text. */
export interface CommandDefinition {
  name: string;
  /** Words that start the command, in any of the four languages (matched case-insensitively). */
  keywords: Record<Language, string[]>;
  /** Whether the command takes the rest of the text as its argument. */
  takesArgument: boolean;
}

export interface ParsedCommand {
  name: string;
  /** The text after the keyword (trimmed; multi-line text keeps its lines). */
  argument: string;
  language: Language;
}

/** Full-width letters, digits and colons become ASCII; runs of spaces collapse (per line). */
export function normalizeCommandText(text: string): string {
  return text
    .normalize('NFKC')
    .split('\n')
    .map((line) => line.replace(/[ \t\u3000]+/g, ' ').trim())
    .join('\n')
    .trim();
}

/**
 * Recognise a command: the longest keyword that starts the text, followed by the end, a
 * space, a colon or a new line. Unrecognised text is `undefined` (the caller answers with
 * help, never silence).
 */
export function parseCommand(text: string, commands: CommandDefinition[]): ParsedCommand | undefined {
  const normalized = normalizeCommandText(text);
  const lower = normalized.toLowerCase();
  let best: { command: CommandDefinition; keyword: string; language: Language } | undefined;
  for (const command of commands) {
    for (const [language, keywords] of Object.entries(command.keywords) as Array<[Language, string[]]>) {
      for (const keyword of keywords) {
        const k = keyword.toLowerCase();
        if (!lower.startsWith(k)) continue;
        const next = lower.charAt(k.length);
        // ASCII keywords need a boundary; CJK keywords may run straight into their argument.
        const boundary = next === '' || /[\s:：]/.test(next) || !/^[a-z?]/.test(k);
        if (boundary && (!best || k.length > best.keyword.length)) best = { command, keyword: k, language };
      }
    }
  }
  if (!best) return undefined;
  const argument = normalized
    .slice(best.keyword.length)
    .replace(/^[\s:：]+/, '')
    .trim();
  if (!best.command.takesArgument && argument !== '') return undefined;
  return { name: best.command.name, argument, language: best.language };
}

/** Guess a reply language from free text: kana → Japanese, CJK → Chinese (Traditional when it uses Traditional-only forms). */
export function guessLanguage(text: string): Language {
  if (/[\u3040-\u30ff]/.test(text)) return 'ja';
  if (/[\u4e00-\u9fff]/.test(text))
    return /[們這個與說審請環現開關點機後來應誰對]/.test(text) ? 'zh-Hant' : 'zh-Hans';
  return 'en';
}
