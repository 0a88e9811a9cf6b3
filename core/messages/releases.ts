import type { Catalog } from './types.ts';

/**
 * Releases (GitLab pipelines): the replies to their chat commands (webhooks/commands/release.ts),
 * the pipeline's progress on the card's Pipeline field, and how a release ended, for its
 * requester (tasks/trigger-pipeline.ts, tasks/report-release.ts).
 */
export const RELEASE_MESSAGES = {
  releaseChoose: {
    en: 'Release which one?',
    'zh-Hans': '发布哪一个？',
    'zh-Hant': '發佈哪一個？',
    ja: 'どれをリリースしますか？',
  },
  releaseNone: {
    en: 'No releases are configured (releases in signoff.config.json).',
    'zh-Hans': '没有配置发布（signoff.config.json 的 releases）。',
    'zh-Hant': '沒有設定發佈（signoff.config.json 的 releases）。',
    ja: 'リリースが設定されていません（signoff.config.json の releases）。',
  },
  releaseUnknown: {
    en: 'There is no release named "{name}".',
    'zh-Hans': '没有这个发布：「{name}」。',
    'zh-Hant': '沒有這個發佈：「{name}」。',
    ja: 'その名前のリリースはありません：「{name}」。',
  },
  releaseRequested: {
    en: 'Release requested: {name} ({target})',
    'zh-Hans': '已提出发布请求：{name}（{target}）',
    'zh-Hant': '已提出發佈請求：{name}（{target}）',
    ja: 'リリースを依頼しました：{name}（{target}）',
  },
  releaseExplain: {
    en: 'The card shows the commit and what changed since the last release; once approved, the GitLab pipeline runs and the card follows it. Approvers: {approvers}. id {id}',
    'zh-Hans':
      '卡片会显示要构建的提交及上次发布以来的变更；批准后运行 GitLab 流水线，卡片会跟进进度。审批人：{approvers}。ID {id}',
    'zh-Hant':
      '卡片會顯示要建置的提交及上次發佈以來的變更；批准後執行 GitLab 管線，卡片會跟進進度。審批人：{approvers}。ID {id}',
    ja: 'カードにコミットと前回リリース以降の変更が表示されます。承認されると GitLab パイプラインが実行され、カードが進捗を表示します。承認者：{approvers}。ID {id}',
  },
  releaseRollbackChoose: {
    en: 'Earlier successful runs: choose one to run again at its commit',
    'zh-Hans': '之前成功的发布：选择一个在其提交上重新运行',
    'zh-Hant': '之前成功的發佈：選擇一個在其提交上重新執行',
    ja: '過去の成功したリリース：そのコミットで再実行するものを選んでください',
  },
  releaseNoRuns: {
    en: 'This release has no earlier successful run to go back to.',
    'zh-Hans': '这个发布没有可以回滚到的成功记录。',
    'zh-Hant': '這個發佈沒有可以退版到的成功紀錄。',
    ja: 'このリリースには戻せる過去の成功した実行がありません。',
  },
  releaseUnknownRun: {
    en: 'That is not a successful run of this release: {run}',
    'zh-Hans': '这不是这个发布的成功记录：{run}',
    'zh-Hant': '這不是這個發佈的成功紀錄：{run}',
    ja: 'このリリースの成功した実行ではありません：{run}',
  },

  subjectRelease: {
    en: 'Release {name} ({target})',
    'zh-Hans': '发布 {name}（{target}）',
    'zh-Hant': '發佈 {name}（{target}）',
    ja: 'リリース {name}（{target}）',
  },
  releasePipelineEnded: {
    en: '{what}: pipeline {status}.',
    'zh-Hans': '{what}：流水线 {status}。',
    'zh-Hant': '{what}：管線 {status}。',
    ja: '{what}: パイプライン {status}。',
  },
  releaseTimedOut: {
    en: '{what}: the pipeline did not finish within {seconds} s; Signoff asked GitLab to cancel it.',
    'zh-Hans': '{what}：流水线没有在 {seconds} 秒内完成；Signoff 已请 GitLab 取消它。',
    'zh-Hant': '{what}：管線沒有在 {seconds} 秒內完成；Signoff 已請 GitLab 取消它。',
    ja: '{what}: パイプラインが {seconds} 秒以内に終わらなかったため、Signoff が GitLab にキャンセルを依頼しました。',
  },
  pipelineRunning: {
    en: '#{id} running',
    'zh-Hans': '#{id} 运行中',
    'zh-Hant': '#{id} 執行中',
    ja: '#{id} 実行中',
  },
  pipelinePassed: {
    en: '#{id} passed',
    'zh-Hans': '#{id} 成功',
    'zh-Hant': '#{id} 成功',
    ja: '#{id} 成功',
  },
  pipelineFailed: {
    en: '#{id} failed',
    'zh-Hans': '#{id} 失败',
    'zh-Hant': '#{id} 失敗',
    ja: '#{id} 失敗',
  },
  pipelineCanceled: {
    en: '#{id} canceled',
    'zh-Hans': '#{id} 已取消',
    'zh-Hant': '#{id} 已取消',
    ja: '#{id} キャンセル',
  },
  pipelineSkipped: {
    en: '#{id} skipped',
    'zh-Hans': '#{id} 已跳过',
    'zh-Hant': '#{id} 已略過',
    ja: '#{id} スキップ',
  },
  pipelineTook: {
    en: 'in {took}',
    'zh-Hans': '，用时 {took}',
    'zh-Hant': '，用時 {took}',
    ja: '（所要時間 {took}）',
  },
  pipelineFailedJob: {
    en: 'at job "{job}"',
    'zh-Hans': '，失败的作业：「{job}」',
    'zh-Hant': '，失敗的作業：「{job}」',
    ja: '（失敗したジョブ:「{job}」）',
  },
  pipelineUnconfirmed: {
    en: '(GitLab reports {gitlab}; the hook said {hook})',
    'zh-Hans': '（GitLab 报告 {gitlab}；webhook 报告 {hook}）',
    'zh-Hant': '（GitLab 回報 {gitlab}；webhook 回報 {hook}）',
    ja: '（GitLab の状態は {gitlab}、webhook は {hook}）',
  },
  pipelineTimedOut: {
    en: '#{id} timed out (canceled by Signoff)',
    'zh-Hans': '#{id} 超时（已由 Signoff 取消）',
    'zh-Hant': '#{id} 逾時（已由 Signoff 取消）',
    ja: '#{id} タイムアウト（Signoff がキャンセル）',
  },
} satisfies Catalog;
