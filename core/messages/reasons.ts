import type { Language } from '../commands.ts';

/**
 * Asking for a reject reason in chat (LINE: webhooks/routes/chat.ts, chat/line/render.ts), the
 * common reasons offered as quick replies, and the result's Roll back button (tasks/). Quick-reply
 * and button labels stay within LINE's 20 characters.
 */
export const REASON_MESSAGES = {
  reasonPrompt: {
    en: 'Why reject "{title}"? Tap a reason below, or type your own within {minutes} min. (A command you type still runs as a command.)',
    'zh-Hans':
      '为什么拒绝「{title}」？请点选下方的理由，或在 {minutes} 分钟内输入你自己的理由。（输入的指令仍会作为指令执行。）',
    'zh-Hant':
      '為什麼拒絕「{title}」？請點選下方的理由，或在 {minutes} 分鐘內輸入你自己的理由。（輸入的指令仍會當作指令執行。）',
    ja: '「{title}」を却下する理由は？下の理由をタップするか、{minutes} 分以内に理由を入力してください。（コマンドを入力した場合はコマンドとして実行されます。）',
  },
  reasonPromptGroup: {
    en: 'Why reject "{title}"? Tap a reason below, or mention me with your own within {minutes} min. (A command still runs as a command.)',
    'zh-Hans':
      '为什么拒绝「{title}」？请点选下方的理由，或在 {minutes} 分钟内 @我 并写下理由。（指令仍会作为指令执行。）',
    'zh-Hant':
      '為什麼拒絕「{title}」？請點選下方的理由，或在 {minutes} 分鐘內 @我 並寫下理由。（指令仍會當作指令執行。）',
    ja: '「{title}」を却下する理由は？下の理由をタップするか、{minutes} 分以内に私をメンションして理由を書いてください。（コマンドはコマンドとして実行されます。）',
  },
  reasonNotNow: { en: 'Not now', 'zh-Hans': '现在不行', 'zh-Hant': '現在不行', ja: '今は不可' },
  reasonNeedsChanges: { en: 'Needs changes', 'zh-Hans': '需要修改', 'zh-Hant': '需要修改', ja: '修正が必要' },
  reasonWrongTarget: { en: 'Wrong target', 'zh-Hans': '目标不对', 'zh-Hant': '目標不對', ja: '対象が違う' },
  rollBack: { en: 'Roll back', 'zh-Hans': '回滚', 'zh-Hant': '退版', ja: 'ロールバック' },
} satisfies Record<string, Record<Language, string>>;

export type ReasonMessageKey = keyof typeof REASON_MESSAGES;

/** A message in a language, with `{name}` placeholders filled in. */
export function reasonMessage(
  key: ReasonMessageKey,
  language: Language,
  values: Record<string, string | number> = {},
): string {
  return REASON_MESSAGES[key][language].replace(/\{(\w+)\}/g, (all, name: string) =>
    name in values ? String(values[name]) : all,
  );
}

/** The common reject reasons offered as quick replies, by the key their buttons carry. */
export const REJECT_REASONS = {
  'not-now': 'reasonNotNow',
  'needs-changes': 'reasonNeedsChanges',
  'wrong-target': 'reasonWrongTarget',
} as const satisfies Record<string, ReasonMessageKey>;

export type RejectReasonKey = keyof typeof REJECT_REASONS;

export function isRejectReasonKey(key: string): key is RejectReasonKey {
  return Object.hasOwn(REJECT_REASONS, key);
}

/** The reason a quick reply stands for, in the language it was offered in. */
export function rejectReasonText(key: RejectReasonKey, language: Language): string {
  return reasonMessage(REJECT_REASONS[key], language);
}
