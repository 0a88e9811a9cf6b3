import type { Catalog } from './types.ts';

/**
 * Asking for a reject reason in chat (LINE: webhooks/routes/chat.ts, chat/line/reason-prompt.ts),
 * the common reasons offered as quick replies (core/reject-reasons.ts), and the Roll back button
 * on a deploy's or release's result (tasks/). Quick-reply and button labels stay within LINE's 20
 * characters.
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
} satisfies Catalog;
