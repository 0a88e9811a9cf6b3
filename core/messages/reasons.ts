import type { Catalog } from './types.ts';

/**
 * Asking for a reject reason in chat (LINE: webhooks/routes/chat.ts, chat/line/reason-prompt.ts),
 * the common reasons offered as quick replies (core/reject-reasons.ts), and the Roll back button
 * on a deploy's or release's result (tasks/), and Slack's reason form (chat/slack/). Quick-reply
 * and button labels stay within LINE's 20 characters; the form's title within Slack's 24.
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
  reasonModalTitle: {
    en: 'Reject request',
    'zh-Hans': '拒绝请求',
    'zh-Hant': '拒絕請求',
    ja: 'リクエストを却下',
  },
  reasonModalCancel: { en: 'Cancel', 'zh-Hans': '取消', 'zh-Hant': '取消', ja: 'キャンセル' },
  reasonModalLabel: {
    en: 'Why do you reject it?',
    'zh-Hans': '为什么拒绝？',
    'zh-Hant': '為什麼拒絕？',
    ja: '却下する理由は？',
  },
  reasonModalPlaceholder: {
    en: 'The reason is shown to the requester and kept in the audit log',
    'zh-Hans': '理由会告诉申请人，并记录在审计日志中',
    'zh-Hant': '理由會告訴申請人，並記錄在稽核日誌中',
    ja: '理由は申請者に伝えられ、監査ログに残ります',
  },
  reasonModalEmpty: {
    en: 'Please say why you reject this request.',
    'zh-Hans': '请写下拒绝这个请求的理由。',
    'zh-Hant': '請寫下拒絕這個請求的理由。',
    ja: 'このリクエストを却下する理由を書いてください。',
  },
  reasonFormFailed: {
    en: 'Slack did not let me open the form for your reason (the click may have taken too long). Nothing was changed; please click Reject again.',
    'zh-Hans': 'Slack 没能打开填写理由的表单（点击可能超时了）。没有做任何更改；请再点一次「拒绝」。',
    'zh-Hant': 'Slack 沒能開啟填寫理由的表單（點擊可能逾時了）。沒有做任何變更；請再點一次「拒絕」。',
    ja: 'Slack で理由の入力フォームを開けませんでした（クリックから時間がかかりすぎた可能性があります）。何も変更していません。もう一度「却下」をクリックしてください。',
  },
} satisfies Catalog;
