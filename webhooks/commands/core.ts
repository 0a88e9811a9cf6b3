import { pendingApprovers } from '../../core/approvals/nudge.ts';
import type { Approval } from '../../core/approvals/types.ts';
import { cardFor, contentIn, describeState } from '../../core/cards.ts';
import { WORKFLOW_KINDS } from '../../core/config.ts';
import type { AppDeps } from '../deps.ts';
import { t } from './text.ts';
import type { ChatCommand } from './types.ts';

const help: ChatCommand = {
  definition: {
    name: 'help',
    keywords: {
      en: ['help', '?', 'menu'],
      'zh-Hans': ['帮助', '菜单'],
      'zh-Hant': ['幫助', '說明', '選單'],
      ja: ['ヘルプ', '使い方', 'メニュー'],
    },
    takesArgument: false,
  },
  help: {
    en: 'help — this list',
    'zh-Hans': '帮助 — 指令列表',
    'zh-Hant': '幫助 — 指令列表',
    ja: 'ヘルプ — コマンド一覧',
  },
  needsUser: false,
  // Answered by runCommand, which knows the whole list.
  run: async () => ({ text: '' }),
};

const approvals: ChatCommand = {
  definition: {
    name: 'approvals',
    keywords: {
      en: ['approvals', 'my approvals', 'pending'],
      'zh-Hans': ['待审批', '我的审批', '审批列表'],
      'zh-Hant': ['待審批', '我的審批', '審批列表', '待簽核'],
      ja: ['承認待ち', '承認一覧'],
    },
    takesArgument: false,
  },
  help: {
    en: 'approvals — requests waiting for your decision',
    'zh-Hans': '待审批 — 等待你审批的请求',
    'zh-Hant': '待審批 — 等待你審批的請求',
    ja: '承認待ち — あなたの判断を待つリクエスト',
  },
  needsUser: true,
  async run({ deps, user, language }) {
    // Also the seats of approvers who delegated to this person (docs/delegation.md).
    const lent = await deps.signoff.delegatesTo(user);
    const pending = (await deps.store.list('pending', { limit: 100 })).filter(
      (a) =>
        (a.policy.approvers.includes(user) && !a.votes.some((v) => v.user === user)) ||
        pendingApprovers(a, lent).includes(user),
    );
    if (pending.length === 0) return { text: t('noApprovals', language) };
    return {
      title: t('pendingTitle', language),
      text: pending
        .map((a) => `• ${contentIn(a, language).title} (${a.requester.name}) — id ${a.approvalId}`)
        .join('\n'),
      links: pending.slice(0, 5).map((a) => ({
        label: contentIn(a, language).title.slice(0, 40),
        url: deps.executionUrl(a.executionArn),
      })),
    };
  },
};

const status: ChatCommand = {
  definition: {
    name: 'status',
    keywords: {
      en: ['status'],
      'zh-Hans': ['状态', '查询'],
      'zh-Hant': ['狀態', '查詢'],
      ja: ['ステータス', '状況', '状態'],
    },
    takesArgument: true,
  },
  help: {
    en: 'status <id> — where a request is',
    'zh-Hans': '状态 <id> — 请求的进度',
    'zh-Hant': '狀態 <id> — 請求的進度',
    ja: 'ステータス <id> — リクエストの状況',
  },
  needsUser: true,
  async run({ deps, argument, language }) {
    if (!argument) return { text: t('needId', language) };
    const approval = await findApproval(deps, argument);
    if (!approval) return { text: t('notFound', language) };
    return {
      title: contentIn(approval, language).title,
      text: describeState(cardFor(approval, { language }).state, language),
      links: [{ label: t('execution', language), url: deps.executionUrl(approval.executionArn) }],
    };
  },
};

const cancel: ChatCommand = {
  definition: {
    name: 'cancel',
    keywords: {
      en: ['cancel'],
      'zh-Hans': ['取消'],
      'zh-Hant': ['撤回', '取消申請'],
      ja: ['キャンセル', '取り消し', '取消し'],
    },
    takesArgument: true,
  },
  help: {
    en: 'cancel <id> — withdraw your own request',
    'zh-Hans': '取消 <id> — 撤回你自己的请求',
    'zh-Hant': '撤回 <id> — 撤回你自己的請求',
    ja: 'キャンセル <id> — 自分のリクエストを取り下げる',
  },
  needsUser: true,
  async run({ deps, user, chatUser, argument, language }) {
    if (!argument) return { text: t('needId', language) };
    const approval = await findApproval(deps, argument);
    if (!approval) return { text: t('notFound', language) };
    const name = deps.config.users[user]?.name ?? user;
    const actor = { platform: chatUser.platform, id: chatUser.id, name, user };
    const result = await deps.signoff.withdraw({ approvalId: approval.approvalId, actor });
    if (result.outcome === 'withdrawn')
      return { text: `${t('cancelled', language)} ${contentIn(approval, language).title}` };
    if (result.reason === 'not-yours') return { text: t('notYours', language) };
    if (result.reason === 'not-found') return { text: t('notFound', language) };
    const now = result.approval ?? approval;
    return {
      text: `${t('notPending', language)} ${describeState(cardFor(now, { language }).state, language)}`,
    };
  },
};

const nudge: ChatCommand = {
  definition: {
    name: 'nudge',
    keywords: {
      en: ['nudge', 'remind'],
      'zh-Hans': ['催办', '催审'],
      'zh-Hant': ['催辦', '催審'],
      ja: ['催促', 'リマインド'],
    },
    takesArgument: true,
  },
  help: {
    en: 'nudge <id> — remind the approvers of your request who have not decided yet',
    'zh-Hans': '催办 <id> — 提醒还没审批的人',
    'zh-Hant': '催辦 <id> — 提醒還沒審批的人',
    ja: '催促 <id> — まだ判断していない承認者にもう一度知らせる',
  },
  needsUser: true,
  async run({ deps, user, chatUser, argument, language }) {
    if (!argument) return { text: t('needId', language) };
    const approval = await findApproval(deps, argument);
    if (!approval) return { text: t('notFound', language) };
    const name = deps.config.users[user]?.name ?? user;
    const result = await deps.signoff.nudge({
      approvalId: approval.approvalId,
      actor: { platform: chatUser.platform, id: chatUser.id, name, user },
    });
    if (result.outcome === 'nudged') {
      const who = result.notified.map((key) => deps.config.users[key]?.name ?? key).join(', ');
      return { text: `${t('nudged', language)} ${who || '—'}` };
    }
    if (result.reason === 'not-yours') return { text: t('nudgeNotYours', language) };
    if (result.reason === 'too-soon')
      return { text: `${t('nudgeTooSoon', language)} ${result.retryAt ?? ''}` };
    if (result.reason === 'not-found') return { text: t('notFound', language) };
    const now = result.approval ?? approval;
    return {
      text: `${t('notPending', language)} ${describeState(cardFor(now, { language }).state, language)}`,
    };
  },
};

/** The commands every platform has, whatever workflows are installed. */
export const CORE_COMMANDS: ChatCommand[] = [help, approvals, status, cancel, nudge];

/** An approval by its id, or the approval of an execution given by name or ARN. */
export async function findApproval(deps: AppDeps, id: string): Promise<Approval | undefined> {
  const key = id.trim().split(/\s+/)[0] ?? '';
  if (!/^[A-Za-z0-9_:.-]{1,256}$/.test(key)) return undefined;
  const byId = await deps.store.get(key);
  if (byId) return byId;
  if (key.startsWith('arn:')) return (await deps.store.forExecution(key))[0];
  for (const kind of WORKFLOW_KINDS) {
    const found = await deps.store.forExecution(deps.engine.executionArn(kind, key));
    if (found[0]) return found[0];
  }
  return undefined;
}
