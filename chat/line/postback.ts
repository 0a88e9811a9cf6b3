/**
 * The `data` our LINE postback buttons carry. LINE allows 300 characters (counted in UTF-16
 * code units) and shows none of it to the user; a task token (up to 2048 characters) could never
 * fit, and it never goes here: only the opaque approval id and the action (platforms.md §2).
 *
 * Two shapes, told apart by their first two characters:
 *
 * - `a=<approvalId>&d=approve` / `a=<approvalId>&d=reject`: a decision on an approval card (a
 *   Reject asks for the reason before it decides);
 * - `a=<approvalId>&d=reject&r=<reason key>&l=<language>`: a reason quick reply under that
 *   question, which rejects with that common reason (in the language it was offered in);
 * - `c=<command text>`: a choice button on a notice, run as if the clicker had typed the text.
 *   Everything after `c=` is the command, verbatim (no URL encoding: CJK commands would triple
 *   in length);
 * - `k=<key>&c=<command text>`: the same, with the idempotency key of the notice's buttons
 *   (one effect per tap, however often LINE delivers it or the person taps).
 *
 * Anything else is not ours (or from a future version) and is answered, never acted on.
 */
import type { Decision } from '../../core/approvals/types.ts';
import { asLanguage, type Language } from '../../core/messages/index.ts';
import { isRejectReasonKey, type RejectReasonKey } from '../../core/reject-reasons.ts';

/** LINE's limit on postback `data`, in UTF-16 code units. */
export const LINE_POSTBACK_DATA_MAX = 300;

/** Approval ids are base64url (22 characters today); anything else in `a=` is refused. */
const APPROVAL_ID = /^[A-Za-z0-9_-]{1,64}$/;

export type LinePostbackAction =
  | { kind: 'decision'; approvalId: string; decision: Decision }
  | { kind: 'reason'; approvalId: string; reason: RejectReasonKey; language: Language }
  | { kind: 'command'; command: string; key?: string };

/** The idempotency key of a notice's buttons (core/ids.ts intentKey). */
const INTENT_KEY = /^[A-Za-z0-9_-]{8,32}$/;

/** `a=<approvalId>&d=<decision>`; throws on an approval id that is not base64url (a bug upstream). */
export function decisionData(approvalId: string, decision: Decision): string {
  if (!APPROVAL_ID.test(approvalId))
    throw new Error(`line: approval id ${JSON.stringify(approvalId)} is not base64url`);
  return `a=${approvalId}&d=${decision}`;
}

/** `a=<approvalId>&d=reject&r=<reason>&l=<language>`: a quick reply that rejects with a common reason. */
export function reasonData(approvalId: string, reason: RejectReasonKey, language: Language): string {
  return `${decisionData(approvalId, 'reject')}&r=${reason}&l=${language}`;
}

/** `[k=<key>&]c=<command>`, or undefined when the command is empty or would not fit in 300 characters. */
export function commandData(command: string, key?: string): string | undefined {
  const text = command.trim();
  if (text === '') return undefined;
  if (key !== undefined && !INTENT_KEY.test(key)) throw new Error('line: intent key is not base64url');
  const data = `${key ? `k=${key}&` : ''}c=${text}`;
  return data.length <= LINE_POSTBACK_DATA_MAX ? data : undefined;
}

/** What a postback's `data` asks for, or undefined when it is not something we sent. */
export function readPostbackData(data: string): LinePostbackAction | undefined {
  if (data.length > LINE_POSTBACK_DATA_MAX) return undefined;
  if (data.startsWith('c=')) {
    const command = data.slice(2).trim();
    return command === '' ? undefined : { kind: 'command', command };
  }
  const keyed = /^k=([A-Za-z0-9_-]{8,32})&c=/.exec(data);
  if (keyed) {
    const command = data.slice(keyed[0].length).trim();
    return command === '' ? undefined : { kind: 'command', command, key: keyed[1] as string };
  }
  if (!data.startsWith('a=')) return undefined;
  const params = new URLSearchParams(data);
  const keys = [...params.keys()].join('&');
  const approvalId = params.get('a') ?? '';
  const decision = params.get('d');
  if (!APPROVAL_ID.test(approvalId)) return undefined;
  if (keys === 'a&d') {
    if (decision !== 'approve' && decision !== 'reject') return undefined;
    return { kind: 'decision', approvalId, decision };
  }
  const reason = params.get('r') ?? '';
  const language = asLanguage(params.get('l'));
  if (keys !== 'a&d&r&l' || decision !== 'reject' || !isRejectReasonKey(reason) || !language)
    return undefined;
  return { kind: 'reason', approvalId, reason, language };
}
