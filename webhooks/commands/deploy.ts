import type { Notice } from '../../core/chat.ts';
import type { Language } from '../../core/commands.ts';
import type { Deployment } from '../../core/deployments.ts';
import { sentences, translate } from '../../core/messages/index.ts';
import { deployTargets, deployTrigger } from '../../workflows/deploy.ts';
import { rollbackTrigger } from '../../workflows/rollback.ts';
import type { AppDeps } from '../deps.ts';
import { approversText, commandIn, requesterOf } from './shared.ts';
import type { ChatCommand } from './types.ts';

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
        title: translate(language, 'deployChooseEnvironment'),
        text: chainText(deps),
        choices: environmentChoices(deps, language),
      };
    }
    const requester = requesterOf(context);
    const trigger = deployTrigger(deps.config, requester, environment, eventId);
    if (trigger.action === 'refuse') {
      const text =
        trigger.reason === 'source-environment'
          ? translate(language, 'deploySourceEnvironment', { env: environment })
          : sentences(language, [
              translate(language, 'deployUnknownEnvironment', { env: environment.slice(0, 64) }),
              translate(language, 'deployChooseEnvironment'),
            ]);
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
    if (!result.started) return { text: translate(language, 'requestReceived', { id: trigger.name }), links };
    deps.log('info', 'deploy requested', {
      executionArn: result.executionArn,
      environment: request.environment,
    });
    return {
      title: translate(language, 'deployRequested', { source: request.source, env: request.environment }),
      text: translate(language, 'deployExplain', {
        approvers: approversText(deps, 'deploy', request.environment, language),
        id: request.id,
      }),
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
    if (!deployments) return { text: translate(language, 'deployNotSetUp') };
    const deployId = argument.split(/\s+/)[0] ?? '';
    if (!deployId) {
      const recent = await deployments.withStatus('deployed', { limit: 10 });
      if (recent.length === 0) return { text: translate(language, 'rollbackNoDeployments') };
      return {
        title: translate(language, 'rollbackListTitle'),
        text: recent.map(deploymentLine).join('\n'),
        choices: recent.map((d) => ({
          label: `${d.environment}: ${d.deployId.slice(0, 40)} (${d.requester.name}, ${when(d.finishedAt)})`,
          command: commandIn(ROLLBACK_KEYWORDS, language, d.deployId),
        })),
      };
    }
    const deployment = /^[A-Za-z0-9_-]{1,80}$/.test(deployId) ? await deployments.get(deployId) : undefined;
    if (!deployment)
      return { text: translate(language, 'rollbackUnknownDeployment', { id: deployId.slice(0, 80) }) };
    if (deployment.status !== 'deployed') {
      return {
        text: translate(language, 'rollbackNotRollbackable', {
          id: deployment.deployId,
          status: deployment.status,
        }),
      };
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
    if (!result.started) return { text: translate(language, 'requestReceived', { id: trigger.name }), links };
    deps.log('info', 'rollback requested', {
      executionArn: result.executionArn,
      deployId: deployment.deployId,
    });
    return {
      title: translate(language, 'rollbackRequested', {
        id: deployment.deployId,
        env: deployment.environment,
      }),
      text: translate(language, 'rollbackExplain', {
        approvers: approversText(deps, 'rollback', deployment.environment, language),
        id: trigger.name,
      }),
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
    if (!deployments) return { text: translate(language, 'deployNotSetUp') };
    const environments = deployTargets(deps.config).map((t) => t.environment);
    const last = await deployments.lastPerEnvironment(environments);
    const lines = environments.map((environment) => {
      const d = last[environment];
      if (!d) return `• ${environment} — ${translate(language, 'lastDeployersNone')}`;
      const names = d.approvers.map((a) => a.name).join(', ');
      const rolledBack =
        d.status === 'rolled-back' ? ` (${translate(language, 'deploymentRolledBack')})` : '';
      return `• ${environment} — ${d.requester.name}, ${when(d.finishedAt)}, ${d.deployId}${rolledBack}; ${translate(language, 'deploymentApprovedBy', { names })}`;
    });
    return { title: translate(language, 'lastDeployersTitle'), text: lines.join('\n') };
  },
};

/** Deploy, rollback list and last deployers: the deploy workflow's chat commands. */
export const DEPLOY_COMMANDS: ChatCommand[] = [deploy, rollback, lastDeployers];
