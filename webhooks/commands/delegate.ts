import type { Language } from '../../core/commands.ts';
import { MAX_DELEGATION_DAYS, parseUntil } from '../../core/delegations.ts';
import { SignoffError } from '../../core/errors.ts';
import { requesterOf } from './shared.ts';
import { t } from './text.ts';
import type { ChatCommand, CommandContext } from './types.ts';

/** What `delegate …` asks for: show the delegation, end it, or set one. */
export type DelegateArgument =
  | { action: 'show' }
  | { action: 'off' }
  | { action: 'set'; to: string; until: string | undefined };

/** Words that end a delegation when they are the whole argument (`delegate off`, `委托 关闭`, `代理 解除`). */
const OFF_WORDS = new Set([
  'off',
  'stop',
  'end',
  'none',
  '关闭',
  '取消',
  '结束',
  '關閉',
  '結束',
  '解除',
  'オフ',
  '終了',
]);
/** Words around the delegate and the date, dropped: `to … until …`, `给 … 至 …`, `… に … まで`. */
const CONNECTORS = new Set([
  'to',
  'until',
  'till',
  'for',
  '给',
  '給',
  '至',
  '到',
  '直到',
  'に',
  'まで',
  '迄',
]);
const LEADING = /^(给|給)/;
const TRAILING = /(まで|直到|至|到|迄|に)$/;
/** A date or time anywhere in the argument (core/delegations.ts parseUntil says which forms count). */
const DATE = /\d{4}[-/年.]\d{1,2}[-/月.]\d{1,2}日?(?:T[\d:.]+(?:Z|[+-]\d{2}:\d{2})?)?/;

/**
 * Read the argument of `delegate` in any of the four languages: `to bob until 2026-12-24`,
 * `给 bob 至 2026-12-24`, `bob 2026-12-24まで`, `off`, or nothing (show).
 */
export function parseDelegateArgument(argument: string): DelegateArgument {
  const text = argument.normalize('NFKC').trim();
  if (text === '') return { action: 'show' };
  if (OFF_WORDS.has(text.toLowerCase())) return { action: 'off' };
  const date = DATE.exec(text)?.[0];
  const rest = (date ? text.replace(date, ' ') : text)
    .split(/\s+/)
    .map((word) => word.replace(LEADING, '').replace(TRAILING, ''))
    .filter((word) => word !== '' && !CONNECTORS.has(word.toLowerCase()));
  // Without a date, the last word may be a mistyped one ("until tomorrow"): keep it for the refusal.
  const until = date ?? (rest.length > 1 ? rest.pop() : undefined);
  return { action: 'set', to: rest.join(' '), until };
}

/** `2026-12-25 00:00 UTC`: when a delegation ends, as a reply shows it. */
export function untilText(until: string): string {
  return `${until.slice(0, 16).replace('T', ' ')} UTC`;
}

const nameOf = (context: CommandContext, user: string) => context.deps.config.users[user]?.name ?? user;

/** A refusal of the delegation use case, in the language the command was written in. */
function refusalText(
  error: SignoffError,
  language: Language,
  typed: { to: string; until: string },
  now: Date,
): string {
  switch (error.code) {
    case 'NotAnApprover':
    case 'UnknownUser':
      return t('delegateNotApprover', language);
    case 'UnknownDelegate':
      return t('delegateUnknownUser', language, { name: typed.to.slice(0, 64) });
    case 'SelfDelegation':
      return t('delegateSelf', language);
    case 'BadUntil':
      return t('delegateBadDate', language, { date: typed.until.slice(0, 40) });
    case 'UntilNotFuture':
      return t('delegatePast', language);
    case 'UntilTooFar':
      return t('delegateTooFar', language, {
        days: MAX_DELEGATION_DAYS,
        latest: untilText(new Date(now.getTime() + MAX_DELEGATION_DAYS * 86_400_000).toISOString()),
      });
    default:
      return error.message;
  }
}

async function show(context: CommandContext & { user: string }): Promise<string> {
  const { mine, forOthers } = await context.deps.signoff.delegationsOf(context.user);
  const lines = [
    mine
      ? t('delegateMine', context.language, { name: nameOf(context, mine.to), until: untilText(mine.until) })
      : t('delegateNone', context.language),
    ...forOthers.map((d) =>
      t('delegateForOther', context.language, { name: nameOf(context, d.user), until: untilText(d.until) }),
    ),
  ];
  return lines.join('\n');
}

async function end(context: CommandContext & { user: string }): Promise<string> {
  const ended = await context.deps.signoff.endDelegation(requesterOf(context));
  return ended
    ? t('delegateEnded', context.language, { name: nameOf(context, ended.to) })
    : t('delegateNone', context.language);
}

const delegate: ChatCommand = {
  definition: {
    name: 'delegate',
    keywords: {
      en: ['delegate'],
      'zh-Hans': ['委托', '代理审批'],
      'zh-Hant': ['委託', '代理審批'],
      ja: ['代理', '委任'],
    },
    takesArgument: true,
  },
  help: {
    en: 'delegate to <user> until <date> — while you are away, your approval cards go to them and they decide in your place; "delegate" alone shows it',
    'zh-Hans': '委托 <用户> 至 <日期> — 你不在时，审批卡片转给对方，由其代你审批；只发「委托」查看当前委托',
    'zh-Hant': '委託 <使用者> 至 <日期> — 你不在時，審批卡片轉給對方，由其代你審批；只傳「委託」查看目前委託',
    ja: '代理 <ユーザー> <日付>まで — 不在の間、承認カードをその人に届け、代わりに判断してもらう。「代理」だけで現在の設定を表示',
  },
  needsUser: true,
  async run(context) {
    const { language } = context;
    const parsed = parseDelegateArgument(context.argument);
    if (parsed.action === 'show') return { text: await show(context) };
    if (parsed.action === 'off') return { text: await end(context) };
    if (!parsed.to || !parsed.until) return { text: t('delegateUsage', language) };
    try {
      const delegation = await context.deps.signoff.delegate({
        actor: requesterOf(context),
        to: parsed.to,
        until: parseUntil(parsed.until),
      });
      return {
        text: t('delegateSet', language, {
          name: nameOf(context, delegation.to),
          until: untilText(delegation.until),
        }),
      };
    } catch (error) {
      if (!(error instanceof SignoffError)) throw error;
      return {
        text: refusalText(error, language, { to: parsed.to, until: parsed.until }, context.deps.now()),
      };
    }
  },
};

const delegateOff: ChatCommand = {
  definition: {
    name: 'delegate-off',
    keywords: {
      en: ['delegate off', 'undelegate'],
      'zh-Hans': ['取消委托', '结束委托'],
      'zh-Hant': ['取消委託', '結束委託'],
      ja: ['代理解除', '委任解除'],
    },
    takesArgument: false,
  },
  help: {
    en: 'delegate off — end your delegation now',
    'zh-Hans': '取消委托 — 立即结束你的委托',
    'zh-Hant': '取消委託 — 立即結束你的委託',
    ja: '代理解除 — 代理をすぐに終了する',
  },
  needsUser: true,
  async run(context) {
    return { text: await end(context) };
  },
};

/** Delegation while away (docs/delegation.md). */
export const DELEGATE_COMMANDS: ChatCommand[] = [delegate, delegateOff];
