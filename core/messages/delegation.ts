import type { Catalog } from './types.ts';

/** Delegation while away (`delegate to <user> until <date>`, docs/delegation.md): replies and refusals. */
export const DELEGATION_MESSAGES = {
  delegateSet: {
    en: 'Until {until}, approval cards for you go to {name}, who may decide in your place (requests already waiting keep their cards). "delegate off" ends it sooner.',
    'zh-Hans':
      '从现在到 {until}，发给你的审批卡片会转给 {name}，由其代你审批（已在等待的请求不会重新发送卡片）。发送「取消委托」可提前结束。',
    'zh-Hant':
      '從現在到 {until}，發給你的審批卡片會轉給 {name}，由其代你審批（已在等待的請求不會重新發送卡片）。傳送「取消委託」可提前結束。',
    ja: '{until} まで、あなた宛ての承認カードは {name} に届き、その人があなたの代わりに判断できます（すでに待っているリクエストのカードは再送されません）。「代理解除」で早めに終了できます。',
  },
  delegateToldSet: {
    en: '{name} is away until {until}: their approval cards come to you, and you may decide in their place (the same policy applies, four-eyes included).',
    'zh-Hans':
      '{name} 在 {until} 之前不在：其审批卡片会发给你，你可以代其审批（同样的策略适用，包括四眼原则）。',
    'zh-Hant':
      '{name} 在 {until} 之前不在：其審批卡片會發給你，你可以代其審批（同樣的策略適用，包括四眼原則）。',
    ja: '{name} は {until} まで不在です。その人宛ての承認カードがあなたに届き、代わりに判断できます（同じポリシーと四つの目の原則が適用されます）。',
  },
  delegateToldTitle: {
    en: 'You decide in someone’s place',
    'zh-Hans': '你将代人审批',
    'zh-Hant': '你將代人審批',
    ja: '代理で判断します',
  },
  delegateEnded: {
    en: 'Your delegation to {name} has ended: approval cards come to you again.',
    'zh-Hans': '已结束对 {name} 的委托：审批卡片会重新发给你。',
    'zh-Hant': '已結束對 {name} 的委託：審批卡片會重新發給你。',
    ja: '{name} への代理を終了しました。承認カードは再びあなたに届きます。',
  },
  delegateNone: {
    en: 'You have no delegation.',
    'zh-Hans': '你目前没有委托。',
    'zh-Hant': '你目前沒有委託。',
    ja: '代理は設定されていません。',
  },
  delegateMine: {
    en: 'You delegate to {name} until {until}.',
    'zh-Hans': '你已委托 {name} 代为审批，直到 {until}。',
    'zh-Hant': '你已委託 {name} 代為審批，直到 {until}。',
    ja: '{until} まで {name} に代理を依頼しています。',
  },
  delegateForOther: {
    en: 'You decide for {name} until {until}.',
    'zh-Hans': '你代 {name} 审批，直到 {until}。',
    'zh-Hant': '你代 {name} 審批，直到 {until}。',
    ja: '{until} まで {name} の代理として判断します。',
  },
  delegateUsage: {
    en: 'Write: delegate to <user> until <date>, e.g. "delegate to bob until 2026-12-24" (through that day, UTC). "delegate off" ends it.',
    'zh-Hans':
      '格式：委托 <用户> 至 <日期>，例如「委托 bob 至 2026-12-24」（到当天结束，UTC）。「取消委托」可结束。',
    'zh-Hant':
      '格式：委託 <使用者> 至 <日期>，例如「委託 bob 至 2026-12-24」（到當天結束，UTC）。「取消委託」可結束。',
    ja: '書き方: 代理 <ユーザー> <日付>まで。例:「代理 bob 2026-12-24まで」（その日の終わりまで、UTC）。「代理解除」で終了します。',
  },
  delegateNotApprover: {
    en: 'Only an approver can delegate: no policy here names you as an approver.',
    'zh-Hans': '只有审批人可以委托：这里没有任何策略把你列为审批人。',
    'zh-Hant': '只有審批人可以委託：這裡沒有任何策略把你列為審批人。',
    ja: '代理を設定できるのは承認者だけです。ここではどのポリシーでもあなたは承認者ではありません。',
  },
  delegateUnknownUser: {
    en: '"{name}" is not a configured user.',
    'zh-Hans': '「{name}」不是已配置的用户。',
    'zh-Hant': '「{name}」不是已設定的使用者。',
    ja: '「{name}」は設定されたユーザーではありません。',
  },
  delegateSelf: {
    en: 'You cannot delegate to yourself.',
    'zh-Hans': '不能委托给自己。',
    'zh-Hant': '不能委託給自己。',
    ja: '自分自身には代理を依頼できません。',
  },
  delegateBadDate: {
    en: '"{date}" is not a date: write 2026-12-24 (through that day, UTC) or 2026-12-24T18:00:00Z.',
    'zh-Hans': '「{date}」不是日期：请写 2026-12-24（到当天结束，UTC）或 2026-12-24T18:00:00Z。',
    'zh-Hant': '「{date}」不是日期：請寫 2026-12-24（到當天結束，UTC）或 2026-12-24T18:00:00Z。',
    ja: '「{date}」は日付ではありません。2026-12-24（その日の終わりまで、UTC）または 2026-12-24T18:00:00Z の形で書いてください。',
  },
  delegatePast: {
    en: 'The end of a delegation must be in the future.',
    'zh-Hans': '委托的结束时间必须在将来。',
    'zh-Hant': '委託的結束時間必須在未來。',
    ja: '代理の終了日時は未来にしてください。',
  },
  delegateTooFar: {
    en: 'A delegation lasts at most {days} days: until {latest} at the latest.',
    'zh-Hans': '委托最长 {days} 天：最晚到 {latest}。',
    'zh-Hant': '委託最長 {days} 天：最晚到 {latest}。',
    ja: '代理は最長 {days} 日です。遅くとも {latest} までにしてください。',
  },
} satisfies Catalog;
