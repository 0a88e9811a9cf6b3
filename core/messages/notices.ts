import type { Catalog } from './types.ts';

/** Notices to people about their requests and the approvals waiting on them (core/app.ts, tasks/). */
export const NOTICE_MESSAGES = {
  requestSent: {
    en: 'Your request "{title}" was sent to {approvers} for approval.',
    'zh-Hans': '你的请求「{title}」已发送给 {approvers} 审批。',
    'zh-Hant': '你的請求「{title}」已傳送給 {approvers} 審批。',
    ja: 'リクエスト「{title}」を {approvers} に承認依頼しました。',
  },
  reminderTitle: { en: 'Reminder', 'zh-Hans': '提醒', 'zh-Hant': '提醒', ja: 'リマインダー' },
  stillWaiting: {
    en: 'Still waiting:',
    'zh-Hans': '仍在等待：',
    'zh-Hant': '仍在等待：',
    ja: 'まだ判断待ちです:',
  },
  asksAgain: {
    en: '{who} asks again:',
    'zh-Hans': '{who} 再次提醒：',
    'zh-Hant': '{who} 再次提醒：',
    ja: '{who} さんからの再依頼です:',
  },
  waitingNotice: {
    en: '{why} "{title}" (id {id}) is waiting for your decision; the card is in your chat and in the console.',
    'zh-Hans': '{why}「{title}」（ID {id}）正在等待你的决定；卡片在你的聊天和控制台中。',
    'zh-Hant': '{why}「{title}」（ID {id}）正在等待你的決定；卡片在你的聊天和主控台中。',
    ja: '{why}「{title}」（ID {id}）があなたの判断を待っています。カードはチャットとコンソールにあります。',
  },
  escalatedTitle: {
    en: 'Escalated',
    'zh-Hans': '已升级',
    'zh-Hant': '已升級',
    ja: 'エスカレーションしました',
  },
  escalatedText: {
    en: 'Nobody has decided "{title}" yet, so it was also sent to {names}.',
    'zh-Hans': '还没有人决定「{title}」，所以也发送给了 {names}。',
    'zh-Hant': '還沒有人決定「{title}」，所以也傳送給了 {names}。',
    ja: '「{title}」はまだ誰も判断していないため、{names} にも送りました。',
  },
  forgedTitle: {
    en: 'Stopped: resumed without approval',
    'zh-Hans': '已停止：未经审批就被恢复执行',
    'zh-Hant': '已停止：未經審批就被恢復執行',
    ja: '停止しました: 承認なしで再開されました',
  },
  forgedText: {
    en: `"{title}" was resumed to {decision} without a granted approval, so Signoff did nothing and stopped it. Someone holding the workflow's task token resumed it outside Signoff: check who can call states:SendTaskSuccess.`,
    'zh-Hans':
      '「{title}」在没有获批的情况下被恢复执行（{decision}），因此 Signoff 没有执行任何操作并停止了它。有人在 Signoff 之外用工作流的任务令牌恢复了它：请检查谁可以调用 states:SendTaskSuccess。',
    'zh-Hant':
      '「{title}」在沒有獲准的情況下被恢復執行（{decision}），因此 Signoff 沒有執行任何操作並停止了它。有人在 Signoff 之外用工作流程的任務權杖恢復了它：請檢查誰可以呼叫 states:SendTaskSuccess。',
    ja: '「{title}」が承認なしで再開されました（{decision}）。Signoff は何も実行せずに停止しました。Signoff の外でワークフローのタスクトークンを使って再開した人がいます: states:SendTaskSuccess を呼べる人を確認してください。',
  },
  verbApprove: { en: 'approve', 'zh-Hans': '批准', 'zh-Hant': '核准', ja: '承認' },
  verbReject: { en: 'reject', 'zh-Hans': '拒绝', 'zh-Hant': '拒絕', ja: '却下' },
  nobody: { en: 'nobody', 'zh-Hans': '无人', 'zh-Hant': '無人', ja: 'なし' },
  endMerged: {
    en: '{what} was approved by {by} and merged.',
    'zh-Hans': '{what}已由 {by} 批准并合并。',
    'zh-Hant': '{what}已由 {by} 核准並合併。',
    ja: '{what}は {by} が承認し、マージされました。',
  },
  endRejected: {
    en: '{what} was rejected by {by}.',
    'zh-Hans': '{what}已被 {by} 拒绝。',
    'zh-Hant': '{what}已被 {by} 拒絕。',
    ja: '{what}は {by} に却下されました。',
  },
  endRejectedReason: {
    en: '{what} was rejected by {by}: {reason}',
    'zh-Hans': '{what}已被 {by} 拒绝：{reason}',
    'zh-Hant': '{what}已被 {by} 拒絕：{reason}',
    ja: '{what}は {by} に却下されました: {reason}',
  },
  endCancelled: {
    en: '{what} no longer waits for approval.',
    'zh-Hans': '{what}不再等待审批。',
    'zh-Hant': '{what}不再等待審批。',
    ja: '{what}は承認待ちではなくなりました。',
  },
  endCancelledReason: {
    en: '{what} no longer waits for approval: {reason}',
    'zh-Hans': '{what}不再等待审批：{reason}',
    'zh-Hant': '{what}不再等待審批：{reason}',
    ja: '{what}は承認待ちではなくなりました: {reason}',
  },
  endExpired: {
    en: '{what} expired: nobody decided in time.',
    'zh-Hans': '{what}已过期：没有人及时决定。',
    'zh-Hant': '{what}已過期：沒有人及時決定。',
    ja: '{what}は期限切れです: 期限内に誰も判断しませんでした。',
  },
  endFailed: {
    en: '{what} failed{error}.',
    'zh-Hans': '{what}失败了{error}。',
    'zh-Hant': '{what}失敗了{error}。',
    ja: '{what}は失敗しました{error}。',
  },
  endFailedBecause: {
    en: '{what} failed{error}: {cause}',
    'zh-Hans': '{what}失败了{error}：{cause}',
    'zh-Hant': '{what}失敗了{error}：{cause}',
    ja: '{what}は失敗しました{error}: {cause}',
  },
  subjectMergeRequest: {
    en: 'Merge request !{iid} in {project}',
    'zh-Hans': '{project} 的合并请求 !{iid}',
    'zh-Hant': '{project} 的合併請求 !{iid}',
    ja: '{project} のマージリクエスト !{iid}',
  },
  subjectYourRequest: {
    en: 'Your {kind} request',
    'zh-Hans': '你的{kind}请求',
    'zh-Hant': '你的{kind}請求',
    ja: 'あなたの{kind}リクエスト',
  },
  kindMergeRequest: {
    en: 'merge-request',
    'zh-Hans': '合并请求',
    'zh-Hant': '合併請求',
    ja: 'マージリクエスト',
  },
  kindDeploy: { en: 'deploy', 'zh-Hans': '部署', 'zh-Hant': '部署', ja: 'デプロイ' },
  kindRollback: { en: 'rollback', 'zh-Hans': '回滚', 'zh-Hant': '回滾', ja: 'ロールバック' },
  kindSupportCase: {
    en: 'support-case',
    'zh-Hans': '支持工单',
    'zh-Hant': '支援案件',
    ja: 'サポートケース',
  },
  kindRelease: { en: 'release', 'zh-Hans': '发布', 'zh-Hant': '發佈', ja: 'リリース' },
} satisfies Catalog;
