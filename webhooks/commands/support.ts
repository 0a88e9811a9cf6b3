import type { Notice } from '../../core/chat.ts';
import type { Language } from '../../core/commands.ts';
import { policyFor } from '../../core/config.ts';
import { translate, translator } from '../../core/messages/index.ts';
import {
  SupportCaseNotFoundError,
  type SupportCaseRecord,
  type SupportDeps,
  SupportError,
  supportCenterUrl,
} from '../../core/support-cases.ts';
import {
  findServices,
  parseCaseDraft,
  supportCaseTrigger,
  validateCaseDraft,
} from '../../workflows/support-case.ts';
import type { AppDeps } from '../deps.ts';
import type { ChatCommand, CommandContext } from './types.ts';

/** The template a case request follows, shown when it is empty or malformed. */
export const CASE_TEMPLATE = [
  'support case',
  'subject: <one line>',
  'body: <what happened; may span several lines>',
  'severity: low | normal | high | urgent | critical',
  'service: <service code, e.g. aws-lambda>',
  'category: <category code, e.g. performance>',
  'cc: <optional emails, comma-separated>',
].join('\n');

/** Run a Support call; a Support error becomes the reply (its message says what to do). */
async function answering(
  deps: AppDeps,
  language: Language,
  run: (support: SupportDeps) => Promise<Notice>,
): Promise<Notice> {
  if (!deps.support) return { text: translate(language, 'supportNotSetUp') };
  try {
    return await run(deps.support);
  } catch (error) {
    if (error instanceof SupportError) {
      deps.log('warn', 'support call failed', { error: error.name });
      return { text: error.message };
    }
    throw error;
  }
}

const serviceCode: ChatCommand = {
  definition: {
    name: 'service-code',
    keywords: {
      en: ['service code', 'service codes', 'find service code'],
      'zh-Hans': ['查找ServiceCode', '查找服务代码', '服务代码'],
      'zh-Hant': ['查找服務代碼', '查詢服務代碼', '服務代碼'],
      ja: ['サービスコード', 'サービスコード検索'],
    },
    takesArgument: true,
  },
  help: {
    en: 'service code <name> — AWS Support service and category codes',
    'zh-Hans': '查找ServiceCode: <名称> — AWS Support 服务代码和类别代码',
    'zh-Hant': '查找服務代碼: <名稱> — AWS Support 服務代碼和類別代碼',
    ja: 'サービスコード <名前> — AWS Support のサービスコードとカテゴリコード',
  },
  needsUser: true,
  run: ({ deps, argument, language }) =>
    answering(deps, language, async (support) => {
      if (!argument) return { text: translate(language, 'supportNeedSearch') };
      const services = await support.api.describeServices(deps.config.support.language);
      const found = findServices(services, argument);
      if (found.length === 0) return { text: translate(language, 'supportNoService', { query: argument }) };
      return {
        title: translate(language, 'supportServicesTitle'),
        text: found
          .map((s) =>
            translate(language, 'supportServiceLine', {
              name: s.name,
              code: s.code,
              categories: s.categories.map((c) => `${c.code} (${c.name})`).join(', '),
            }),
          )
          .join('\n'),
      };
    }),
};

const supportCase: ChatCommand = {
  definition: {
    name: 'support-case',
    keywords: {
      en: ['support case', 'open support case', 'new support case', 'open case'],
      'zh-Hans': ['提工单', '开工单', '新建工单'],
      'zh-Hant': ['提工單', '開工單', '新增工單'],
      ja: ['サポートケース', 'ケース起票', 'ケースを作成'],
    },
    takesArgument: true,
  },
  help: {
    en: 'support case + lines subject:, body:, severity:, service:, category:, cc: — ask to open an AWS Support case',
    'zh-Hans': '提工单 + 各行 subject:, body:, severity:, service:, category:, cc: — 申请开 AWS Support 工单',
    'zh-Hant': '提工單 + 各行 subject:, body:, severity:, service:, category:, cc: — 申請開 AWS Support 工單',
    ja: 'サポートケース + 各行 subject:, body:, severity:, service:, category:, cc: — AWS Support ケースを依頼',
  },
  needsUser: true,
  startsWorkflow: true,
  workflows: ['support-case'],
  run: (context) => answering(context.deps, context.language, (support) => requestCase(context, support)),
};

async function requestCase(
  context: CommandContext & { user: string },
  support: SupportDeps,
): Promise<Notice> {
  const { deps, user, chatUser, argument, language, eventId } = context;
  const draft = parseCaseDraft(argument);
  if (Object.keys(draft.fields).length === 0) {
    return {
      title: translate(language, 'caseProblems'),
      text: `${translate(language, 'caseWriteLike')}\n${CASE_TEMPLATE}`,
    };
  }
  const [services, severities] = await Promise.all([
    support.api.describeServices(deps.config.support.language),
    support.api.describeSeverityLevels(deps.config.support.language),
  ]);
  const checked = validateCaseDraft(draft, services, severities, translator(language));
  if (!checked.ok) {
    return {
      title: translate(language, 'caseProblems'),
      text: `${checked.problems.map((p) => `• ${p.message}`).join('\n')}\n\n${translate(language, 'caseFormat')}\n${CASE_TEMPLATE}`,
    };
  }
  const name = deps.config.users[user]?.name ?? user;
  const requester = { platform: chatUser.platform, id: chatUser.id, name, user };
  const trigger = supportCaseTrigger(checked.request, requester, eventId, deps.config);
  const result = await deps.signoff.startWorkflow({
    kind: 'support-case',
    name: trigger.name,
    input: trigger.input,
    by: requester,
    detail: {
      subject: checked.request.subject.slice(0, 200),
      severity: checked.request.severity,
      service: checked.request.serviceCode,
      category: checked.request.categoryCode,
    },
  });
  const links = [{ label: translate(language, 'execution'), url: deps.executionUrl(result.executionArn) }];
  if (!result.started) return { text: `${translate(language, 'caseAlready')} ${trigger.name}`, links };
  deps.log('info', 'support case requested', { executionArn: result.executionArn });
  const approvers = policyFor(deps.config, 'support-case', trigger.input.approval.scope)
    .approvers.map((key) => deps.config.users[key]?.name ?? key)
    .join(', ');
  return {
    text: `${translate(language, 'caseSent', { approvers })} "${checked.request.subject}" (${checked.request.severity}, ${checked.request.serviceCode} / ${checked.request.categoryCode}) — id ${trigger.name}`,
    links,
  };
}

/** May this user resolve this case: the requester, or anyone who may approve support cases. */
function mayResolve(deps: AppDeps, user: string, record: SupportCaseRecord): boolean {
  if (record.user === user) return true;
  const policy = deps.config.policies['support-case'];
  if (!policy) return false;
  return (
    policy.approvers.includes(user) ||
    Object.values(policy.overrides).some((override) => override.approvers?.includes(user))
  );
}

const resolveCase: ChatCommand = {
  definition: {
    name: 'resolve-case',
    keywords: {
      en: ['resolve case', 'resolve support case', 'close case'],
      'zh-Hans': ['释放工单', '关闭工单', '解决工单'],
      'zh-Hant': ['釋放工單', '關閉工單', '解決工單', '結案'],
      ja: ['ケース解決', 'ケースを解決', 'ケースをクローズ'],
    },
    takesArgument: true,
  },
  help: {
    en: 'resolve case <id> — resolve an AWS Support case opened through Signoff',
    'zh-Hans': '释放工单: <id> — 释放（解决）通过 Signoff 开的工单',
    'zh-Hant': '釋放工單: <id> — 釋放（解決）透過 Signoff 開立的工單',
    ja: 'ケース解決 <id> — Signoff から起票したケースを解決',
  },
  needsUser: true,
  run: ({ deps, user, chatUser, argument, language }) =>
    answering(deps, language, async (support) => {
      const id = argument.split(/\s+/)[0]?.replace(/^#/, '') ?? '';
      if (!id) return { text: translate(language, 'needCaseId') };
      const record = await support.cases.find(id);
      if (!record?.caseId) return { text: `${translate(language, 'unknownCase')} ${id.slice(0, 128)}` };
      if (!mayResolve(deps, user, record)) return { text: translate(language, 'notYourCase') };
      const result = await support.api.resolveCase(record.caseId);
      const now = deps.now();
      await support.cases.resolved(record.requestId, now);
      const name = deps.config.users[user]?.name ?? user;
      await deps.audit.append({
        kind: 'support-case',
        executionArn: record.executionArn,
        action: 'support-case.resolved',
        actor: { platform: chatUser.platform, id: chatUser.id, name, user },
        outcome: 'resolved',
        at: now.toISOString(),
        detail: {
          caseId: record.caseId,
          ...(record.displayId ? { displayId: record.displayId } : {}),
          ...(result.initialCaseStatus ? { from: result.initialCaseStatus } : {}),
        },
      });
      const label = record.displayId ?? record.caseId;
      return {
        text: translate(language, 'caseResolved', {
          id: label,
          subject: record.subject,
          from: result.initialCaseStatus ?? '?',
          to: result.finalCaseStatus ?? 'resolved',
        }),
        ...(record.displayId
          ? {
              links: [
                {
                  label: translate(language, 'caseLink', { id: label }),
                  url: supportCenterUrl(record.displayId, deps.config.support.language),
                },
              ],
            }
          : {}),
      };
    }),
};

/** Each case's status in AWS Support; a case AWS Support does not know is `not found in AWS Support` (in `language`). */
async function liveStatuses(
  support: SupportDeps,
  ids: string[],
  language: Language,
): Promise<Map<string, string | undefined>> {
  const describe = async (caseIds: string[]) =>
    new Map(
      (await support.api.describeCases({ caseIds, includeResolved: true })).map((c) => [c.caseId, c.status]),
    );
  if (ids.length === 0) return new Map();
  try {
    return await describe(ids);
  } catch (error) {
    // One unknown id fails the whole call: ask one by one to find it.
    if (!(error instanceof SupportCaseNotFoundError)) throw error;
  }
  const statuses = new Map<string, string | undefined>();
  for (const id of ids) {
    try {
      statuses.set(id, (await describe([id])).get(id));
    } catch (error) {
      if (!(error instanceof SupportCaseNotFoundError)) throw error;
      statuses.set(id, translate(language, 'caseNotInSupport'));
    }
  }
  return statuses;
}

const myCases: ChatCommand = {
  definition: {
    name: 'my-cases',
    keywords: {
      en: ['my cases', 'my support cases', 'support cases', 'list cases'],
      'zh-Hans': ['我的工单', '工单列表'],
      'zh-Hant': ['我的工單', '工單列表'],
      ja: ['私のケース', 'マイケース', 'ケース一覧'],
    },
    takesArgument: false,
  },
  help: {
    en: 'my cases — your open AWS Support cases',
    'zh-Hans': '我的工单 — 你未关闭的 AWS Support 工单',
    'zh-Hant': '我的工單 — 你未結的 AWS Support 工單',
    ja: '私のケース — 未解決の AWS Support ケース',
  },
  needsUser: true,
  run: ({ deps, user, language }) =>
    answering(deps, language, async (support) => {
      const records = await support.cases.forUser(user, 'open', 50);
      const ids = records.flatMap((r) => (r.caseId ? [r.caseId] : []));
      // The status lives in AWS Support: read it, and forget cases resolved outside Signoff.
      const statusOf = await liveStatuses(support, ids, language);
      const open: SupportCaseRecord[] = [];
      for (const record of records) {
        if (record.caseId && statusOf.get(record.caseId) === 'resolved') {
          await support.cases.resolved(record.requestId, deps.now());
        } else {
          open.push(record);
        }
      }
      if (open.length === 0) return { text: translate(language, 'noCases') };
      const lang = deps.config.support.language;
      return {
        title: translate(language, 'casesTitle'),
        text: open
          .map((r) => {
            const status = r.caseId
              ? (statusOf.get(r.caseId) ?? translate(language, 'caseStatusUnknown'))
              : translate(language, 'caseBeingOpened');
            return `• ${r.displayId ?? r.caseId ?? r.requestId} — ${r.subject} [${status}, ${r.severity}] ${r.serviceCode} / ${r.categoryCode}`;
          })
          .join('\n'),
        links: open
          .filter((r) => r.displayId)
          .slice(0, 5)
          .map((r) => ({
            label: translate(language, 'caseLink', { id: r.displayId ?? '' }),
            url: supportCenterUrl(r.displayId ?? '', lang),
          })),
      };
    }),
};

/** The AWS Support commands: look up codes, ask for a case, resolve one, list mine. */
export const SUPPORT_COMMANDS: ChatCommand[] = [serviceCode, supportCase, resolveCase, myCases];
