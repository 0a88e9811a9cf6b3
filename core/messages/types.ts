import type { Language } from '../commands.ts';

/** Messages by key, each in every language; `{name}` marks a placeholder. */
export type Catalog = Record<string, Record<Language, string>>;
