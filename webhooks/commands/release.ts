import type { Notice } from '../../core/chat.ts';
import type { Language } from '../../core/commands.ts';
import { sentences, translate } from '../../core/messages/index.ts';
import { releaseNames, releaseTrigger, shortSha } from '../../workflows/release.ts';
import type { AppDeps } from '../deps.ts';
import { approversText, requesterOf } from './shared.ts';
import type { ChatCommand, CommandContext } from './types.ts';

const RELEASE_KEYWORDS: Record<Language, string[]> = {
  en: ['release', 'releases'],
  'zh-Hans': ['发布'],
  'zh-Hant': ['發佈', '發布'],
  ja: ['リリース'],
};

const ROLLBACK_RELEASE_KEYWORDS: Record<Language, string[]> = {
  en: ['rollback release', 'roll back release'],
  'zh-Hans': ['回滚发布', '回滚 发布'],
  'zh-Hant': ['回滾發佈', '退版發佈', '回滾 發佈'],
  ja: ['リリースをロールバック', 'ロールバック リリース'],
};

function releaseChoices(deps: AppDeps, language: Language): Notice['choices'] {
  return releaseNames(deps.config).map((name) => {
    const target = deps.config.releases[name];
    return {
      label: `${name} (${target?.project}@${target?.ref})`,
      command: `${RELEASE_KEYWORDS[language][0] ?? 'release'} ${name}`,
    };
  });
}

function listText(deps: AppDeps, language: Language): Notice {
  const names = releaseNames(deps.config);
  if (names.length === 0) return { text: translate(language, 'releaseNone') };
  return {
    title: translate(language, 'releaseChoose'),
    text: names.join(', '),
    choices: releaseChoices(deps, language),
  };
}

const release: ChatCommand = {
  definition: { name: 'release', keywords: RELEASE_KEYWORDS, takesArgument: true },
  workflows: ['release'],
  help: {
    en: 'release <name> — run a GitLab pipeline after approval (without a name: choose)',
    'zh-Hans': '发布 <名称> — 审批后运行 GitLab 流水线（不带名称：选择）',
    'zh-Hant': '發佈 <名稱> — 審批後執行 GitLab 管線（不帶名稱：選擇）',
    ja: 'リリース <名前> — 承認後に GitLab パイプラインを実行（名前なし：選択）',
  },
  needsUser: true,
  startsWorkflow: true,
  async run(context) {
    const { deps, argument, language, eventId } = context;
    const name = argument.split(/\s+/)[0] ?? '';
    if (!name) return listText(deps, language);
    const requester = requesterOf(context);
    const trigger = releaseTrigger(deps.config, requester, name, eventId);
    if (trigger.action === 'refuse') {
      const list = listText(deps, language);
      const unknown = translate(language, 'releaseUnknown', { name: name.slice(0, 64) });
      return { ...list, text: sentences(language, [unknown, list.text]) };
    }
    return start(context, trigger.name, trigger.input, 'release');
  },
};

async function start(
  context: CommandContext & { user: string },
  execution: string,
  input: Extract<ReturnType<typeof releaseTrigger>, { action: 'start' }>['input'],
  policy: 'release' | 'rollback',
): Promise<Notice> {
  const { deps, language } = context;
  const { release: request } = input;
  const result = await deps.signoff.startWorkflow({
    kind: 'release',
    name: execution,
    input,
    by: input.requester,
    detail: {
      release: request.name,
      project: String(request.project),
      ref: request.ref,
      ...(request.rollbackOf ? { rollbackOf: request.rollbackOf.pipelineId } : {}),
    },
  });
  const links = [{ label: translate(language, 'execution'), url: deps.executionUrl(result.executionArn) }];
  if (!result.started) return { text: translate(language, 'requestReceived', { id: execution }), links };
  deps.log('info', 'release requested', { executionArn: result.executionArn, release: request.name });
  return {
    title: translate(language, 'releaseRequested', {
      name: request.name,
      target: `${request.project}@${request.ref}`,
    }),
    text: translate(language, 'releaseExplain', {
      approvers: approversText(deps, policy, request.name, language),
      id: execution,
    }),
    links,
  };
}

const rollbackRelease: ChatCommand = {
  definition: { name: 'rollback-release', keywords: ROLLBACK_RELEASE_KEYWORDS, takesArgument: true },
  workflows: ['release', 'rollback'],
  help: {
    en: 'rollback release <name> — earlier successful runs as buttons; the chosen one runs again at its commit',
    'zh-Hans': '回滚发布 <名称> — 列出之前成功的发布；选中的在其提交上重新运行',
    'zh-Hant': '回滾發佈 <名稱> — 列出之前成功的發佈；選中的在其提交上重新執行',
    ja: 'リリースをロールバック <名前> — 過去の成功した実行を一覧し、選んだものをそのコミットで再実行',
  },
  needsUser: true,
  startsWorkflow: true,
  async run(context) {
    const { deps, argument, language, eventId } = context;
    const [name = '', pick = ''] = argument.split(/\s+/);
    if (!name) return listText(deps, language);
    const requester = requesterOf(context);
    const check = releaseTrigger(deps.config, requester, name, eventId);
    if (check.action === 'refuse' || !deps.pipelines) return listText(deps, language);
    const runs = (await deps.pipelines.successes(check.input.release.name, 10)).filter(Boolean);
    if (!pick) {
      if (runs.length === 0) return { text: translate(language, 'releaseNoRuns') };
      const keyword = ROLLBACK_RELEASE_KEYWORDS[language][0] ?? 'rollback release';
      return {
        title: translate(language, 'releaseRollbackChoose'),
        text: runs
          .map(
            (r) =>
              `• #${r.pipelineId} ${shortSha(r.sha)} — ${r.finishedAt.slice(0, 16).replace('T', ' ')} UTC`,
          )
          .join('\n'),
        choices: runs.map((r) => ({
          label: `#${r.pipelineId} ${shortSha(r.sha)} (${r.finishedAt.slice(0, 10)})`,
          command: `${keyword} ${check.input.release.name} ${r.pipelineId}`,
        })),
      };
    }
    const run = runs.find((r) => String(r.pipelineId) === pick.replace(/^#/, ''));
    if (!run) return { text: translate(language, 'releaseUnknownRun', { run: pick.slice(0, 32) }) };
    const trigger = releaseTrigger(deps.config, requester, name, eventId, {
      pipelineId: run.pipelineId,
      sha: run.sha,
    });
    if (trigger.action === 'refuse') return listText(deps, language);
    return start(context, trigger.name, trigger.input, 'rollback');
  },
};

/** Release and rollback release: the release workflow's chat commands. */
export const RELEASE_COMMANDS: ChatCommand[] = [release, rollbackRelease];
