import type { Catalog } from './types.ts';

/**
 * Why a click changed nothing (core/approvals/decide.ts), as the clicker reads it. The English
 * texts are the refusal's `message` (API errors and logs keep it).
 */
export const REFUSAL_MESSAGES = {
  refusedNotFound: {
    en: 'no such approval',
    'zh-Hans': '找不到这个审批',
    'zh-Hant': '找不到這個審批',
    ja: 'その承認は見つかりません',
  },
  refusedNotApprover: {
    en: 'you are not an approver for {what}',
    'zh-Hans': '你不是{what}的审批人',
    'zh-Hant': '你不是{what}的審批人',
    ja: 'あなたは{what}の承認者ではありません',
  },
  refusedSelfApproval: {
    en: 'you cannot approve your own request (four-eyes rule)',
    'zh-Hans': '不能批准自己的请求（四眼原则）',
    'zh-Hant': '不能核准自己的請求（四眼原則）',
    ja: '自分のリクエストは承認できません（4 アイ原則）',
  },
  refusedExcluded: {
    en: 'you {because} (four-eyes rule)',
    'zh-Hans': '你{because}（四眼原则）',
    'zh-Hant': '你{because}（四眼原則）',
    ja: 'あなたは{because}（4 アイ原則）',
  },
  refusedSelfApprovalInPlace: {
    en: "you cannot approve {name}'s own request in their place (four-eyes rule)",
    'zh-Hans': '不能代 {name} 批准其本人的请求（四眼原则）',
    'zh-Hant': '不能代 {name} 核准其本人的請求（四眼原則）',
    ja: '{name} 本人のリクエストを代わりに承認することはできません（4 アイ原則）',
  },
  refusedExcludedInPlace: {
    en: '{name} {because}, so you cannot approve it in their place (four-eyes rule)',
    'zh-Hans': '{name}{because}，因此你不能代其批准（四眼原则）',
    'zh-Hant': '{name}{because}，因此你不能代其核准（四眼原則）',
    ja: '{name} は{because}ため、代わりに承認することはできません（4 アイ原則）',
  },
  refusedSeatAlreadyVoted: {
    en: '{name} has already voted on this request',
    'zh-Hans': '{name} 已经对这个请求投过票',
    'zh-Hant': '{name} 已經對這個請求投過票',
    ja: '{name} はこのリクエストにすでに投票しています',
  },
  becauseOpenedMergeRequest: {
    en: 'opened this merge request',
    'zh-Hans': '发起了这个合并请求',
    'zh-Hant': '發起了這個合併請求',
    ja: 'このマージリクエストを作成しました',
  },
  becauseAddedCommits: {
    en: 'added commits to this merge request',
    'zh-Hans': '向这个合并请求提交了代码',
    'zh-Hant': '向這個合併請求提交了程式碼',
    ja: 'このマージリクエストにコミットを追加しました',
  },
  refusedAlreadyVoted: {
    en: 'you have already voted on this request',
    'zh-Hans': '你已经对这个请求投过票了',
    'zh-Hant': '你已經對這個請求投過票了',
    ja: 'このリクエストにはすでに投票済みです',
  },
  refusedAlreadyVotedFor: {
    en: 'you have already voted on this request (for {name})',
    'zh-Hans': '你已经代 {name} 对这个请求投过票了',
    'zh-Hant': '你已經代 {name} 對這個請求投過票了',
    ja: 'このリクエストには {name} の代理としてすでに投票済みです',
  },
  refusedVotedInYourPlace: {
    en: '{name} already voted in your place',
    'zh-Hans': '{name} 已经代你投过票了',
    'zh-Hant': '{name} 已經代你投過票了',
    ja: '{name} があなたの代理としてすでに投票しました',
  },
  refusedAlreadyDecided: {
    en: 'already {status}',
    'zh-Hans': '已经结束：{status}',
    'zh-Hant': '已經結束：{status}',
    ja: 'すでに終了しています: {status}',
  },
  refusedAlreadyDecidedBy: {
    en: 'already {status} by {names}',
    'zh-Hans': '已经结束：{status}（{names}）',
    'zh-Hant': '已經結束：{status}（{names}）',
    ja: 'すでに終了しています: {status}（{names}）',
  },
  refusedExpired: {
    en: 'this request has expired',
    'zh-Hans': '这个请求已过期',
    'zh-Hant': '這個請求已過期',
    ja: 'このリクエストは期限切れです',
  },
  refusedBusy: {
    en: 'too many people are deciding at once; try again',
    'zh-Hans': '同时决定的人太多，请再试一次',
    'zh-Hant': '同時決定的人太多，請再試一次',
    ja: '同時に判断している人が多すぎます。もう一度お試しください',
  },
  refusedConfirmSignedIn: {
    en: 'this request needs a signed-in confirmation: open it in the Signoff console, sign in and decide there',
    'zh-Hans': '这个请求需要登录后确认：请在 Signoff 控制台中打开，登录后在那里决定',
    'zh-Hant': '這個請求需要登入後確認：請在 Signoff 主控台中開啟，登入後在那裡決定',
    ja: 'このリクエストはサインインしての確認が必要です: Signoff コンソールで開き、サインインしてそこで判断してください',
  },
  refusedSignInAgain: {
    en: 'this request needs a recent sign-in: sign in again with your identity provider, then confirm',
    'zh-Hans': '这个请求需要最近的登录：请重新通过身份提供方登录，然后再确认',
    'zh-Hant': '這個請求需要最近的登入：請重新透過身分提供者登入，然後再確認',
    ja: 'このリクエストには直近のサインインが必要です: ID プロバイダーでサインインし直してから確認してください',
  },
  statusPending: { en: 'pending', 'zh-Hans': '待审批', 'zh-Hant': '待審批', ja: '承認待ち' },
  statusApproved: { en: 'approved', 'zh-Hans': '已批准', 'zh-Hant': '已核准', ja: '承認済み' },
  statusRejected: { en: 'rejected', 'zh-Hans': '已拒绝', 'zh-Hant': '已拒絕', ja: '却下' },
  statusExpired: { en: 'expired', 'zh-Hans': '已过期', 'zh-Hant': '已過期', ja: '期限切れ' },
  statusCancelled: { en: 'cancelled', 'zh-Hans': '已取消', 'zh-Hant': '已取消', ja: '取り下げ' },
  kindsMergeRequest: {
    en: 'merge requests',
    'zh-Hans': '合并请求',
    'zh-Hant': '合併請求',
    ja: 'マージリクエスト',
  },
  kindsDeploy: { en: 'deploys', 'zh-Hans': '部署', 'zh-Hant': '部署', ja: 'デプロイ' },
  kindsRollback: { en: 'rollbacks', 'zh-Hans': '回滚', 'zh-Hant': '回滾', ja: 'ロールバック' },
  kindsSupportCase: {
    en: 'support cases',
    'zh-Hans': '支持工单',
    'zh-Hant': '支援案件',
    ja: 'サポートケース',
  },
  kindsRelease: { en: 'releases', 'zh-Hans': '发布', 'zh-Hant': '發佈', ja: 'リリース' },
} satisfies Catalog;
