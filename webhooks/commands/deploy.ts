import type { Notice } from '../../core/chat.ts';
import type { Language } from '../../core/commands.ts';
import type { Deployment } from '../../core/deployments.ts';
import { translate } from '../../core/messages/index.ts';
import { deployTargets, deployTrigger } from '../../workflows/deploy.ts';
import { rollbackTrigger } from '../../workflows/rollback.ts';
import type { AppDeps } from '../deps.ts';
import { approversText, commandIn, requesterOf } from './shared.ts';
import type { ChatCommand } from './types.ts';

/** Reply texts of the deploy commands, in the four command languages. */
const TEXT = {
  chooseEnvironment: {
    en: 'Deploy to which environment?',
    'zh-Hans': '部署到哪个环境？',
    'zh-Hant': '佈署到哪個環境？',
    ja: 'どの環境にデプロイしますか？',
  },
  unknownEnvironment: {
    en: 'There is no deploy target named',
    'zh-Hans': '没有这个部署环境：',
    'zh-Hant': '沒有這個佈署環境：',
    ja: 'その名前のデプロイ先はありません：',
  },
  sourceEnvironment: {
    en: 'is the start of the chain: nothing deploys to it. Choose one of:',
    'zh-Hans': '是环境链的起点，不能部署到它。请选择：',
    'zh-Hant': '是環境鏈的起點，不能佈署到它。請選擇：',
    ja: 'はチェーンの起点なのでデプロイ先になりません。次から選んでください：',
  },
  deployRequested: {
    en: 'Deploy requested',
    'zh-Hans': '已提出部署请求',
    'zh-Hant': '已提出佈署請求',
    ja: 'デプロイを依頼しました',
  },
  deployExplain: {
    en: 'Signoff compares the aliases now; if anything differs, the approval card lists every change. Approvers:',
    'zh-Hans': 'Signoff 正在比较别名；如有差异，审批卡片会列出每一项变更。审批人：',
    'zh-Hant': 'Signoff 正在比較別名；如有差異，審批卡片會列出每一項變更。審批人：',
    ja: 'Signoff がエイリアスを比較します。差分があれば承認カードにすべての変更が表示されます。承認者：',
  },
  alreadyRequested: {
    en: 'This request was already received:',
    'zh-Hans': '这个请求已经收到：',
    'zh-Hant': '這個請求已經收到：',
    ja: 'この依頼はすでに受け付けています：',
  },
  notSetUp: {
    en: 'Deploys are not set up in this Signoff.',
    'zh-Hans': '这个 Signoff 没有配置部署。',
    'zh-Hant': '這個 Signoff 沒有設定佈署。',
    ja: 'この Signoff ではデプロイが設定されていません。',
  },
  rollbackTitle: {
    en: 'Recent deployments: choose one to roll back',
    'zh-Hans': '最近的部署：选择要回滚的一项',
    'zh-Hant': '最近的佈署：選擇要退版的一項',
    ja: '最近のデプロイ：ロールバックするものを選んでください',
  },
  noDeployments: {
    en: 'There is no completed deployment to roll back.',
    'zh-Hans': '没有可以回滚的已完成部署。',
    'zh-Hant': '沒有可以退版的已完成佈署。',
    ja: 'ロールバックできる完了済みのデプロイはありません。',
  },
  unknownDeployment: {
    en: 'There is no deployment',
    'zh-Hans': '没有这个部署：',
    'zh-Hant': '沒有這個佈署：',
    ja: 'そのデプロイはありません：',
  },
  notRollbackable: {
    en: 'cannot be rolled back: it is',
    'zh-Hans': '不能回滚，状态：',
    'zh-Hant': '不能退版，狀態：',
    ja: 'はロールバックできません。状態：',
  },
  rollbackRequested: {
    en: 'Rollback requested',
    'zh-Hans': '已提出回滚请求',
    'zh-Hant': '已提出退版請求',
    ja: 'ロールバックを依頼しました',
  },
  rollbackExplain: {
    en: 'Each alias goes back to the version it had before, once approved. Approvers:',
    'zh-Hans': '批准后，每个别名会指回部署前的版本。审批人：',
    'zh-Hant': '批准後，每個別名會指回佈署前的版本。審批人：',
    ja: '承認されると、各エイリアスはデプロイ前のバージョンに戻ります。承認者：',
  },
  lastTitle: {
    en: 'Last deployment per environment',
    'zh-Hans': '各环境最新部署人员',
    'zh-Hant': '各環境最新佈署人員',
    ja: '環境ごとの最新デプロイ担当者',
  },
  nobodyYet: {
    en: 'no deployment yet',
    'zh-Hans': '还没有部署',
    'zh-Hant': '還沒有佈署',
    ja: 'まだデプロイはありません',
  },
  rolledBack: { en: 'rolled back', 'zh-Hans': '已回滚', 'zh-Hant': '已退版', ja: 'ロールバック済み' },
  approvedBy: { en: 'approved by', 'zh-Hans': '批准人', 'zh-Hant': '批准人', ja: '承認者' },
} satisfies Record<string, Record<Language, string>>;

function tx(key: keyof typeof TEXT, language: Language): string {
  return TEXT[key][language];
}

const DEPLOY_KEYWORDS: Record<Language, string[]> = {
  en: ['deploy', 'deploy to', 'deploy list', 'environments'],
  'zh-Hans': ['部署', '部署到', '环境部署清单', '环境部署'],
  'zh-Hant': ['佈署', '佈署到', '環境佈署清單', '環境部署清單', '環境佈署'],
  ja: ['デプロイ', 'デプロイ先', '環境デプロイ一覧'],
};

const ROLLBACK_KEYWORDS: Record<Language, string[]> = {
  en: ['rollback', 'roll back', 'rollback list', 'rollbacks'],
  'zh-Hans': ['回滚', '退版清单', '回滚清单', '退版'],
  'zh-Hant': ['回滾', '退版清單', '回滾清單'],
  ja: ['ロールバック', 'ロールバック一覧', '切り戻し'],
};

function environmentChoices(deps: AppDeps, language: Language): Notice['choices'] {
  return deployTargets(deps.config).map((t) => ({
    label: `${t.environment} (${t.source} → ${t.environment})`,
    command: commandIn(DEPLOY_KEYWORDS, language, t.environment),
  }));
}

/** `2025-05-01 12:34 UTC`. */
function when(iso: string): string {
  return `${iso.slice(0, 16).replace('T', ' ')} UTC`;
}

const deploy: ChatCommand = {
  definition: { name: 'deploy', keywords: DEPLOY_KEYWORDS, takesArgument: true },
  workflows: ['deploy'],
  help: {
    en: 'deploy <environment> — promote Lambda aliases to an environment (without one: choose)',
    'zh-Hans': '部署 <环境> — 把 Lambda 别名升级到某个环境（不带环境：选择）',
    'zh-Hant': '佈署 <環境> / 環境佈署清單 — 把 Lambda 別名升級到某個環境（不帶環境：選擇）',
    ja: 'デプロイ <環境> — Lambda エイリアスを環境に昇格（環境なし：選択）',
  },
  needsUser: true,
  startsWorkflow: true,
  async run(context) {
    const { deps, argument, language, eventId } = context;
    const environment = argument.split(/\s+/)[0] ?? '';
    if (!environment) {
      return {
        title: tx('chooseEnvironment', language),
        text: chainText(deps),
        choices: environmentChoices(deps, language),
      };
    }
    const requester = requesterOf(context);
    const trigger = deployTrigger(deps.config, requester, environment, eventId);
    if (trigger.action === 'refuse') {
      const text =
        trigger.reason === 'source-environment'
          ? `${environment} ${tx('sourceEnvironment', language)}`
          : `${tx('unknownEnvironment', language)} "${environment.slice(0, 64)}". ${tx('chooseEnvironment', language)}`;
      return { text, choices: environmentChoices(deps, language) };
    }
    const { deploy: request } = trigger.input;
    const result = await deps.signoff.startWorkflow({
      kind: 'deploy',
      name: trigger.name,
      input: trigger.input,
      by: requester,
      detail: { deployId: request.id, environment: request.environment, source: request.source },
    });
    const links = [{ label: translate(language, 'execution'), url: deps.executionUrl(result.executionArn) }];
    if (!result.started) return { text: `${tx('alreadyRequested', language)} ${trigger.name}`, links };
    deps.log('info', 'deploy requested', {
      executionArn: result.executionArn,
      environment: request.environment,
    });
    return {
      title: `${tx('deployRequested', language)}: ${request.source} → ${request.environment}`,
      text: `${tx('deployExplain', language)} ${approversText(deps, 'deploy', request.environment, language)}. id ${request.id}`,
      links,
    };
  },
};

function chainText(deps: AppDeps): string {
  return deps.config.deploy.environments.join(' → ');
}

function deploymentLine(d: Deployment): string {
  const changes = d.functions.map((f) => `${f.functionName} ${f.fromVersion}→${f.toVersion}`).join(', ');
  return `• ${d.environment} — ${d.deployId} — ${d.requester.name}, ${when(d.finishedAt)}: ${changes}`;
}

const rollback: ChatCommand = {
  definition: { name: 'rollback', keywords: ROLLBACK_KEYWORDS, takesArgument: true },
  workflows: ['rollback'],
  help: {
    en: 'rollback — recent deployments to roll back (rollback <deploy id> to ask for one)',
    'zh-Hans': '回滚 / 退版清单 — 最近可回滚的部署',
    'zh-Hant': '退版清單 — 最近可退版的佈署',
    ja: 'ロールバック — ロールバックできる最近のデプロイ',
  },
  needsUser: true,
  startsWorkflow: true,
  async run(context) {
    const { deps, argument, language, eventId } = context;
    const deployments = deps.deployments;
    if (!deployments) return { text: tx('notSetUp', language) };
    const deployId = argument.split(/\s+/)[0] ?? '';
    if (!deployId) {
      const recent = await deployments.withStatus('deployed', { limit: 10 });
      if (recent.length === 0) return { text: tx('noDeployments', language) };
      return {
        title: tx('rollbackTitle', language),
        text: recent.map(deploymentLine).join('\n'),
        choices: recent.map((d) => ({
          label: `${d.environment}: ${d.deployId.slice(0, 40)} (${d.requester.name}, ${when(d.finishedAt)})`,
          command: commandIn(ROLLBACK_KEYWORDS, language, d.deployId),
        })),
      };
    }
    const deployment = /^[A-Za-z0-9_-]{1,80}$/.test(deployId) ? await deployments.get(deployId) : undefined;
    if (!deployment) return { text: `${tx('unknownDeployment', language)} "${deployId.slice(0, 80)}".` };
    if (deployment.status !== 'deployed') {
      return { text: `${deployment.deployId} ${tx('notRollbackable', language)} ${deployment.status}.` };
    }
    const requester = requesterOf(context);
    const trigger = rollbackTrigger(deps.config, requester, deployment, eventId);
    const result = await deps.signoff.startWorkflow({
      kind: 'rollback',
      name: trigger.name,
      input: trigger.input,
      by: requester,
      detail: { deployId: deployment.deployId, environment: deployment.environment },
    });
    const links = [{ label: translate(language, 'execution'), url: deps.executionUrl(result.executionArn) }];
    if (!result.started) return { text: `${tx('alreadyRequested', language)} ${trigger.name}`, links };
    deps.log('info', 'rollback requested', {
      executionArn: result.executionArn,
      deployId: deployment.deployId,
    });
    return {
      title: `${tx('rollbackRequested', language)}: ${deployment.deployId} (${deployment.environment})`,
      text: `${tx('rollbackExplain', language)} ${approversText(deps, 'rollback', deployment.environment, language)}. id ${trigger.name}`,
      links,
    };
  },
};

const lastDeployers: ChatCommand = {
  definition: {
    name: 'last-deployers',
    keywords: {
      en: ['last deployers', 'last deployer', 'deployers', 'last deploys'],
      'zh-Hans': ['环境最新部署人员', '最新部署人员', '部署人员'],
      'zh-Hant': ['環境最新佈署人員', '環境最新部署人員', '最新佈署人員', '佈署人員'],
      ja: ['最新デプロイ担当者', 'デプロイ担当者', '最終デプロイ'],
    },
    takesArgument: false,
  },
  help: {
    en: 'last deployers — who deployed last to each environment, when, and the deploy id',
    'zh-Hans': '环境最新部署人员 — 各环境最近一次部署的人、时间和部署 ID',
    'zh-Hant': '環境最新佈署人員 — 各環境最近一次佈署的人、時間和佈署 ID',
    ja: '最新デプロイ担当者 — 環境ごとの最新デプロイの担当者・日時・ID',
  },
  needsUser: true,
  async run({ deps, language }) {
    const deployments = deps.deployments;
    if (!deployments) return { text: tx('notSetUp', language) };
    const environments = deployTargets(deps.config).map((t) => t.environment);
    const last = await deployments.lastPerEnvironment(environments);
    const lines = environments.map((environment) => {
      const d = last[environment];
      if (!d) return `• ${environment} — ${tx('nobodyYet', language)}`;
      const approvers = d.approvers.map((a) => a.name).join(', ');
      const rolledBack = d.status === 'rolled-back' ? ` (${tx('rolledBack', language)})` : '';
      return `• ${environment} — ${d.requester.name}, ${when(d.finishedAt)}, ${d.deployId}${rolledBack}; ${tx('approvedBy', language)} ${approvers}`;
    });
    return { title: tx('lastTitle', language), text: lines.join('\n') };
  },
};

/** Deploy, rollback list and last deployers: the deploy workflow's chat commands. */
export const DEPLOY_COMMANDS: ChatCommand[] = [deploy, rollback, lastDeployers];
