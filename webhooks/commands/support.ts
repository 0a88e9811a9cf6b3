import type { Notice } from '../../core/chat.ts';
import type { Language } from '../../core/commands.ts';
import { policyFor } from '../../core/config.ts';
import { translate } from '../../core/messages/index.ts';
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

/** Reply texts of the support commands, in the four command languages. */
const TEXT = {
  notSetUp: {
    en: 'AWS Support is not set up in this Signoff.',
    'zh-Hans': '这个 Signoff 没有配置 AWS Support。',
    'zh-Hant': '這個 Signoff 沒有設定 AWS Support。',
    ja: 'この Signoff では AWS Support が設定されていません。',
  },
  needSearch: {
    en: 'Which service? For example: service code lambda',
    'zh-Hans': '查找哪个服务？例如：查找ServiceCode: lambda',
    'zh-Hant': '查找哪個服務？例如：查找服務代碼: lambda',
    ja: 'どのサービスですか？例：サービスコード lambda',
  },
  noService: {
    en: 'No AWS service matches',
    'zh-Hans': '没有匹配的 AWS 服务：',
    'zh-Hant': '沒有符合的 AWS 服務：',
    ja: '一致する AWS サービスはありません：',
  },
  servicesTitle: {
    en: 'AWS Support service codes',
    'zh-Hans': 'AWS Support 服务代码',
    'zh-Hant': 'AWS Support 服務代碼',
    ja: 'AWS Support サービスコード',
  },
  caseProblems: {
    en: 'The case request was not sent. Fix these and send it again:',
    'zh-Hans': '工单请求没有提交。请修正以下问题后重新发送：',
    'zh-Hant': '工單請求沒有送出。請修正以下問題後重新傳送：',
    ja: 'ケースの依頼は送信されていません。次を直して再送してください：',
  },
  caseSent: {
    en: 'Your AWS Support case request was sent for approval to',
    'zh-Hans': '你的 AWS Support 工单请求已提交审批，审批人：',
    'zh-Hant': '你的 AWS Support 工單請求已送交審批，審批人：',
    ja: 'AWS Support ケースの依頼を承認に回しました。承認者：',
  },
  caseAlready: {
    en: 'This case request was already received:',
    'zh-Hans': '这个工单请求已经收到：',
    'zh-Hant': '這個工單請求已經收到：',
    ja: 'このケースの依頼はすでに受け付けています：',
  },
  needCaseId: {
    en: 'Which case? Add its id, for example: resolve case 1234567890',
    'zh-Hans': '哪个工单？请加上 ID，例如：释放工单: 1234567890',
    'zh-Hant': '哪個工單？請加上 ID，例如：釋放工單: 1234567890',
    ja: 'どのケースですか？ID を付けてください。例：ケース解決 1234567890',
  },
  unknownCase: {
    en: 'No AWS Support case with that id was opened through Signoff:',
    'zh-Hans': '没有通过 Signoff 开的这个工单：',
    'zh-Hant': '沒有透過 Signoff 開立的這個工單：',
    ja: 'その ID のケースは Signoff から起票されていません：',
  },
  notYourCase: {
    en: 'Only the person who asked for a case, or a support-case approver, can resolve it.',
    'zh-Hans': '只有提出工单的人或工单审批人可以释放工单。',
    'zh-Hant': '只有提出工單的人或工單審批人可以釋放工單。',
    ja: 'ケースを解決できるのは依頼した本人かサポートケースの承認者だけです。',
  },
  resolved: {
    en: 'Resolved AWS Support case',
    'zh-Hans': '已释放工单',
    'zh-Hant': '已釋放工單',
    ja: 'ケースを解決しました',
  },
  noCases: {
    en: 'You have no open AWS Support cases opened through Signoff.',
    'zh-Hans': '你没有通过 Signoff 开的未关闭工单。',
    'zh-Hant': '你沒有透過 Signoff 開立的未結工單。',
    ja: 'Signoff から起票した未解決のケースはありません。',
  },
  casesTitle: {
    en: 'Your open AWS Support cases',
    'zh-Hans': '你的未关闭工单',
    'zh-Hant': '你的未結工單',
    ja: '未解決のケース',
  },
} satisfies Record<string, Record<Language, string>>;

function tx(key: keyof typeof TEXT, language: Language): string {
  return TEXT[key][language];
}

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
  if (!deps.support) return { text: tx('notSetUp', language) };
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
      if (!argument) return { text: tx('needSearch', language) };
      const services = await support.api.describeServices(deps.config.support.language);
      const found = findServices(services, argument);
      if (found.length === 0) return { text: `${tx('noService', language)} "${argument}"` };
      return {
        title: tx('servicesTitle', language),
        text: found
          .map(
            (s) =>
              `• ${s.name} — service: ${s.code}\n  categories: ${s.categories.map((c) => `${c.code} (${c.name})`).join(', ')}`,
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
    return { title: tx('caseProblems', language), text: `Write the request like this:\n${CASE_TEMPLATE}` };
  }
  const [services, severities] = await Promise.all([
    support.api.describeServices(deps.config.support.language),
    support.api.describeSeverityLevels(deps.config.support.language),
  ]);
  const checked = validateCaseDraft(draft, services, severities);
  if (!checked.ok) {
    return {
      title: tx('caseProblems', language),
      text: `${checked.problems.map((p) => `• ${p.message}`).join('\n')}\n\nFormat:\n${CASE_TEMPLATE}`,
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
  if (!result.started) return { text: `${tx('caseAlready', language)} ${trigger.name}`, links };
  deps.log('info', 'support case requested', { executionArn: result.executionArn });
  const approvers = policyFor(deps.config, 'support-case', trigger.input.approval.scope)
    .approvers.map((key) => deps.config.users[key]?.name ?? key)
    .join(', ');
  return {
    text: `${tx('caseSent', language)} ${approvers}. "${checked.request.subject}" (${checked.request.severity}, ${checked.request.serviceCode} / ${checked.request.categoryCode}) — id ${trigger.name}`,
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
      if (!id) return { text: tx('needCaseId', language) };
      const record = await support.cases.find(id);
      if (!record?.caseId) return { text: `${tx('unknownCase', language)} ${id.slice(0, 128)}` };
      if (!mayResolve(deps, user, record)) return { text: tx('notYourCase', language) };
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
        text: `${tx('resolved', language)} ${label}: "${record.subject}" (${result.initialCaseStatus ?? '?'} → ${result.finalCaseStatus ?? 'resolved'})`,
        ...(record.displayId
          ? {
              links: [
                {
                  label: `Case ${label}`,
                  url: supportCenterUrl(record.displayId, deps.config.support.language),
                },
              ],
            }
          : {}),
      };
    }),
};

/** Each case's status in AWS Support; a case AWS Support does not know is `not found in AWS Support`. */
async function liveStatuses(support: SupportDeps, ids: string[]): Promise<Map<string, string | undefined>> {
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
      statuses.set(id, 'not found in AWS Support');
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
      const statusOf = await liveStatuses(support, ids);
      const open: SupportCaseRecord[] = [];
      for (const record of records) {
        if (record.caseId && statusOf.get(record.caseId) === 'resolved') {
          await support.cases.resolved(record.requestId, deps.now());
        } else {
          open.push(record);
        }
      }
      if (open.length === 0) return { text: tx('noCases', language) };
      const lang = deps.config.support.language;
      return {
        title: tx('casesTitle', language),
        text: open
          .map((r) => {
            const status = r.caseId ? (statusOf.get(r.caseId) ?? 'unknown') : 'being opened';
            return `• ${r.displayId ?? r.caseId ?? r.requestId} — ${r.subject} [${status}, ${r.severity}] ${r.serviceCode} / ${r.categoryCode}`;
          })
          .join('\n'),
        links: open
          .filter((r) => r.displayId)
          .slice(0, 5)
          .map((r) => ({ label: `Case ${r.displayId}`, url: supportCenterUrl(r.displayId ?? '', lang) })),
      };
    }),
};

/** The AWS Support commands: look up codes, ask for a case, resolve one, list mine. */
export const SUPPORT_COMMANDS: ChatCommand[] = [serviceCode, supportCase, resolveCase, myCases];
