import type { Catalog } from './types.ts';

/**
 * What approval cards say on every chat platform: the state line, buttons, notes (core/cards.ts,
 * chat/<platform>/render.ts). Button labels stay within LINE's 20 characters.
 */
export const CARD_MESSAGES = {
  statePending: {
    en: 'Waiting for approval: {n} of {m}',
    'zh-Hans': '等待审批：{n} / {m}',
    'zh-Hant': '等待審批：{n} / {m}',
    ja: '承認待ち: {n} / {m}',
  },
  statePendingBy: {
    en: 'Waiting for approval: {n} of {m} (approved by {names})',
    'zh-Hans': '等待审批：{n} / {m}（已批准：{names}）',
    'zh-Hant': '等待審批：{n} / {m}（已核准：{names}）',
    ja: '承認待ち: {n} / {m}（承認済み: {names}）',
  },
  progress: {
    en: '{n} of {m} approved',
    'zh-Hans': '已批准 {n} / {m}',
    'zh-Hant': '已核准 {n} / {m}',
    ja: '承認 {n} / {m}',
  },
  progressBy: {
    en: '{n} of {m} approved: {names}',
    'zh-Hans': '已批准 {n} / {m}：{names}',
    'zh-Hant': '已核准 {n} / {m}：{names}',
    ja: '承認 {n} / {m}: {names}',
  },
  stateApproved: {
    en: 'Approved by {names}',
    'zh-Hans': '已由 {names} 批准',
    'zh-Hant': '已由 {names} 核准',
    ja: '{names} が承認しました',
  },
  stateRejected: {
    en: 'Rejected by {names}',
    'zh-Hans': '已由 {names} 拒绝',
    'zh-Hant': '已由 {names} 拒絕',
    ja: '{names} が却下しました',
  },
  stateRejectedReason: {
    en: 'Rejected by {names}: {reason}',
    'zh-Hans': '已由 {names} 拒绝：{reason}',
    'zh-Hant': '已由 {names} 拒絕：{reason}',
    ja: '{names} が却下しました: {reason}',
  },
  stateExpired: {
    en: 'Expired: nobody decided in time',
    'zh-Hans': '已过期：没有人及时决定',
    'zh-Hant': '已過期：沒有人及時決定',
    ja: '期限切れ: 期限内に誰も判断しませんでした',
  },
  stateCancelled: {
    en: 'Cancelled',
    'zh-Hans': '已取消',
    'zh-Hant': '已取消',
    ja: '取り下げられました',
  },
  stateCancelledReason: {
    en: 'Cancelled: {reason}',
    'zh-Hans': '已取消：{reason}',
    'zh-Hant': '已取消：{reason}',
    ja: '取り下げられました: {reason}',
  },
  cardConfirmNote: {
    en: 'Needs a signed-in confirmation: open it in the Signoff console and sign in to decide (a click in chat does not count).',
    'zh-Hans': '需要登录后确认：请在 Signoff 控制台中打开并登录后决定（聊天中的点击无效）。',
    'zh-Hant': '需要登入後確認：請在 Signoff 主控台中開啟並登入後決定（聊天中的點擊無效）。',
    ja: 'サインインしての確認が必要です: Signoff コンソールで開き、サインインして判断してください（チャットでのクリックは無効です）。',
  },
  cardConfirmButton: {
    en: 'Confirm in console',
    'zh-Hans': '在控制台确认',
    'zh-Hant': '在主控台確認',
    ja: 'コンソールで確認',
  },
  approvalNeeded: {
    en: 'Approval needed: {title}',
    'zh-Hans': '需要审批：{title}',
    'zh-Hant': '需要審批：{title}',
    ja: '承認が必要です: {title}',
  },
  approveThis: {
    en: 'Approve: {title}',
    'zh-Hans': '批准：{title}',
    'zh-Hant': '核准：{title}',
    ja: '承認: {title}',
  },
  rejectThis: {
    en: 'Reject: {title}',
    'zh-Hans': '拒绝：{title}',
    'zh-Hant': '拒絕：{title}',
    ja: '却下: {title}',
  },
  moreFieldsOne: {
    en: '… 1 more field not shown',
    'zh-Hans': '… 还有 1 个字段未显示',
    'zh-Hant': '… 還有 1 個欄位未顯示',
    ja: '… ほか 1 項目は表示していません',
  },
  moreFields: {
    en: '… {n} more fields not shown',
    'zh-Hans': '… 还有 {n} 个字段未显示',
    'zh-Hant': '… 還有 {n} 個欄位未顯示',
    ja: '… ほか {n} 項目は表示していません',
  },
  moreNotShown: {
    en: '… {n} more not shown',
    'zh-Hans': '… 还有 {n} 项未显示',
    'zh-Hant': '… 還有 {n} 項未顯示',
    ja: '… ほか {n} 件は表示していません',
  },
  typeOneOf: {
    en: 'Type one of these:',
    'zh-Hans': '请输入以下之一：',
    'zh-Hant': '請輸入以下其中之一：',
    ja: '次のいずれかを入力してください:',
  },
  approval: {
    en: 'Approval',
    'zh-Hans': '审批',
    'zh-Hant': '審批',
    ja: '承認',
  },
  pipeline: {
    en: 'Pipeline',
    'zh-Hans': '流水线',
    'zh-Hant': '管線',
    ja: 'パイプライン',
  },
  voterFor: {
    en: '{voter} (for {approver})',
    'zh-Hans': '{voter}（代 {approver}）',
    'zh-Hant': '{voter}（代 {approver}）',
    ja: '{voter}（{approver} の代理）',
  },
  voteRecorded: {
    en: 'recorded',
    'zh-Hans': '已记录',
    'zh-Hant': '已記錄',
    ja: '記録しました',
  },
} satisfies Catalog;
