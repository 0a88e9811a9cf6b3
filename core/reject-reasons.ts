import type { Language } from './commands.ts';
import { translate } from './messages/index.ts';

/**
 * The common reject reasons a chat offers when a Reject button cannot carry typed text (LINE's
 * quick replies), by the key their buttons carry, and the catalog message each stands for.
 */
export const REJECT_REASONS = {
  'not-now': 'reasonNotNow',
  'needs-changes': 'reasonNeedsChanges',
  'wrong-target': 'reasonWrongTarget',
} as const;

export type RejectReasonKey = keyof typeof REJECT_REASONS;

export const REJECT_REASON_KEYS = Object.keys(REJECT_REASONS) as RejectReasonKey[];

export function isRejectReasonKey(key: string): key is RejectReasonKey {
  return Object.hasOwn(REJECT_REASONS, key);
}

/** The reason a quick reply stands for, in the language it was offered in. */
export function rejectReasonText(key: RejectReasonKey, language: Language): string {
  return translate(language, REJECT_REASONS[key]);
}
