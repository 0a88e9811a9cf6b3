import type { Catalog } from './types.ts';

/**
 * Deploys and rollbacks of Lambda aliases: the replies to their chat commands
 * (webhooks/commands/deploy.ts) and how a deploy or rollback ended, for its requester
 * (tasks/notify-deployment.ts, tasks/deploy-deps.ts).
 */
export const DEPLOY_MESSAGES = {
  deployChooseEnvironment: {
    en: 'Deploy to which environment?',
    'zh-Hans': '部署到哪个环境？',
    'zh-Hant': '佈署到哪個環境？',
    ja: 'どの環境にデプロイしますか？',
  },
  deployUnknownEnvironment: {
    en: 'There is no deploy target named "{env}".',
    'zh-Hans': '没有这个部署环境：「{env}」。',
    'zh-Hant': '沒有這個佈署環境：「{env}」。',
    ja: 'その名前のデプロイ先はありません：「{env}」。',
  },
  deploySourceEnvironment: {
    en: '{env} is the start of the chain: nothing deploys to it. Choose one of:',
    'zh-Hans': '{env} 是环境链的起点，不能部署到它。请选择：',
    'zh-Hant': '{env} 是環境鏈的起點，不能佈署到它。請選擇：',
    ja: '{env} はチェーンの起点なのでデプロイ先になりません。次から選んでください：',
  },
  deployRequested: {
    en: 'Deploy requested: {source} → {env}',
    'zh-Hans': '已提出部署请求：{source} → {env}',
    'zh-Hant': '已提出佈署請求：{source} → {env}',
    ja: 'デプロイを依頼しました：{source} → {env}',
  },
  deployExplain: {
    en: 'Signoff compares the aliases now; if anything differs, the approval card lists every change. Approvers: {approvers}. id {id}',
    'zh-Hans': 'Signoff 正在比较别名；如有差异，审批卡片会列出每一项变更。审批人：{approvers}。ID {id}',
    'zh-Hant': 'Signoff 正在比較別名；如有差異，審批卡片會列出每一項變更。審批人：{approvers}。ID {id}',
    ja: 'Signoff がエイリアスを比較します。差分があれば承認カードにすべての変更が表示されます。承認者：{approvers}。ID {id}',
  },
  deployNotSetUp: {
    en: 'Deploys are not set up in this Signoff.',
    'zh-Hans': '这个 Signoff 没有配置部署。',
    'zh-Hant': '這個 Signoff 沒有設定佈署。',
    ja: 'この Signoff ではデプロイが設定されていません。',
  },
  rollbackListTitle: {
    en: 'Recent deployments: choose one to roll back',
    'zh-Hans': '最近的部署：选择要回滚的一项',
    'zh-Hant': '最近的佈署：選擇要退版的一項',
    ja: '最近のデプロイ：ロールバックするものを選んでください',
  },
  rollbackNoDeployments: {
    en: 'There is no completed deployment to roll back.',
    'zh-Hans': '没有可以回滚的已完成部署。',
    'zh-Hant': '沒有可以退版的已完成佈署。',
    ja: 'ロールバックできる完了済みのデプロイはありません。',
  },
  rollbackUnknownDeployment: {
    en: 'There is no deployment "{id}".',
    'zh-Hans': '没有这个部署：「{id}」。',
    'zh-Hant': '沒有這個佈署：「{id}」。',
    ja: 'そのデプロイはありません：「{id}」。',
  },
  rollbackNotRollbackable: {
    en: '{id} cannot be rolled back: it is {status}.',
    'zh-Hans': '{id} 不能回滚，状态：{status}。',
    'zh-Hant': '{id} 不能退版，狀態：{status}。',
    ja: '{id} はロールバックできません。状態：{status}。',
  },
  rollbackRequested: {
    en: 'Rollback requested: {id} ({env})',
    'zh-Hans': '已提出回滚请求：{id}（{env}）',
    'zh-Hant': '已提出退版請求：{id}（{env}）',
    ja: 'ロールバックを依頼しました：{id}（{env}）',
  },
  rollbackExplain: {
    en: 'Each alias goes back to the version it had before, once approved. Approvers: {approvers}. id {id}',
    'zh-Hans': '批准后，每个别名会指回部署前的版本。审批人：{approvers}。ID {id}',
    'zh-Hant': '批准後，每個別名會指回佈署前的版本。審批人：{approvers}。ID {id}',
    ja: '承認されると、各エイリアスはデプロイ前のバージョンに戻ります。承認者：{approvers}。ID {id}',
  },
  lastDeployersTitle: {
    en: 'Last deployment per environment',
    'zh-Hans': '各环境最新部署人员',
    'zh-Hant': '各環境最新佈署人員',
    ja: '環境ごとの最新デプロイ担当者',
  },
  lastDeployersNone: {
    en: 'no deployment yet',
    'zh-Hans': '还没有部署',
    'zh-Hant': '還沒有佈署',
    ja: 'まだデプロイはありません',
  },
  deploymentRolledBack: {
    en: 'rolled back',
    'zh-Hans': '已回滚',
    'zh-Hant': '已退版',
    ja: 'ロールバック済み',
  },
  deploymentApprovedBy: {
    en: 'approved by {names}',
    'zh-Hans': '批准人 {names}',
    'zh-Hant': '批准人 {names}',
    ja: '承認者 {names}',
  },

  subjectDeploy: {
    en: 'Deploy {id} ({source} → {env})',
    'zh-Hans': '部署 {id}（{source} → {env}）',
    'zh-Hant': '部署 {id}（{source} → {env}）',
    ja: 'デプロイ {id}（{source} → {env}）',
  },
  subjectRollback: {
    en: 'Rollback of {id} in {env}',
    'zh-Hans': '{env} 中 {id} 的回滚',
    'zh-Hant': '{env} 中 {id} 的回滾',
    ja: '{env} の {id} のロールバック',
  },
  deployDone: {
    en: '{what} was approved by {by} and done: {changes}.',
    'zh-Hans': '{what}已由 {by} 批准并完成：{changes}。',
    'zh-Hant': '{what}已由 {by} 核准並完成：{changes}。',
    ja: '{what}は {by} が承認し、完了しました: {changes}。',
  },
  deployNothing: {
    en: "Nothing to deploy to {env}: every function's {env} alias already points at the {source} version.",
    'zh-Hans': '没有需要部署到 {env} 的内容：每个函数的 {env} 别名已经指向 {source} 的版本。',
    'zh-Hant': '沒有需要部署到 {env} 的內容：每個函式的 {env} 別名已經指向 {source} 的版本。',
    ja: '{env} にデプロイするものはありません: すべての関数の {env} エイリアスはすでに {source} のバージョンを指しています。',
  },
  deploySkipped: {
    en: 'Skipped: {list}.',
    'zh-Hans': '已跳过：{list}。',
    'zh-Hant': '已略過：{list}。',
    ja: 'スキップ: {list}。',
  },
  rollbackNothing: {
    en: '{what}: nothing to roll back, every alias already points at its version from before the deployment.',
    'zh-Hans': '{what}：没有需要回滚的内容，每个别名都已指向部署前的版本。',
    'zh-Hant': '{what}：沒有需要回滾的內容，每個別名都已指向部署前的版本。',
    ja: '{what}: ロールバックするものはありません。すべてのエイリアスはすでにデプロイ前のバージョンを指しています。',
  },
  deployMovedUnrecorded: {
    en: 'The aliases were moved ({changes}); only the record of it failed.',
    'zh-Hans': '别名已经移动（{changes}）；只是记录失败了。',
    'zh-Hant': '別名已經移動（{changes}）；只是記錄失敗了。',
    ja: 'エイリアスは移動済みです（{changes}）。記録だけが失敗しました。',
  },
  restoreFailedToo: {
    en: 'Restoring the aliases failed too ({error}): check them by hand.',
    'zh-Hans': '恢复别名也失败了（{error}）：请手动检查。',
    'zh-Hant': '恢復別名也失敗了（{error}）：請手動檢查。',
    ja: 'エイリアスの復元も失敗しました（{error}）。手動で確認してください。',
  },
  restoreNothingMoved: {
    en: 'No alias had moved: every alias is as it was.',
    'zh-Hans': '没有别名被移动：每个别名都保持原样。',
    'zh-Hant': '沒有別名被移動：每個別名都維持原樣。',
    ja: '移動したエイリアスはありません。すべてのエイリアスは元のままです。',
  },
  restoreRestored: {
    en: 'restored {restored}.',
    'zh-Hans': '已恢复 {restored}。',
    'zh-Hant': '已恢復 {restored}。',
    ja: '{restored} を復元しました。',
  },
  restoreLeftAlone: {
    en: 'left as someone else set them: {left}.',
    'zh-Hans': '保留他人设置的：{left}。',
    'zh-Hant': '保留他人設定的：{left}。',
    ja: '他の人が設定したままにしました: {left}。',
  },
  restoreRestoredLeftAlone: {
    en: 'restored {restored}; left as someone else set them: {left}.',
    'zh-Hans': '已恢复 {restored}；保留他人设置的：{left}。',
    'zh-Hant': '已恢復 {restored}；保留他人設定的：{left}。',
    ja: '{restored} を復元しました。他の人が設定したままにしました: {left}。',
  },
  restoreWhole: {
    en: 'Every alias is as it was.',
    'zh-Hans': '每个别名都已恢复原样。',
    'zh-Hant': '每個別名都已恢復原樣。',
    ja: 'すべてのエイリアスは元どおりです。',
  },
} satisfies Catalog;
