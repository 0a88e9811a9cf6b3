import type { Approval } from '../../core/approvals/types.ts';
import { buildMergeRequestHook } from '../../local/demo/gitlab.ts';
import { type Part, type Row, tally } from '../report.ts';
import { waitFor } from '../runtime.ts';
import {
  DINGTALK_IDS,
  LINE_IDS,
  OPEN_IDS,
  SLACK_IDS,
  startWorld,
  type World,
  type WorldPlatform,
} from '../world.ts';
import { tokenLeaks } from './gate.ts';

/** The approvers of the harness's merge requests (platform/reliability needs one of them). */
const APPROVERS = ['bob', 'carol'];
const REQUESTER = 'alice';
/** What every card shows once bob approved from the console. */
const DECIDED = 'Approved by Bob';

/** One platform's recorded traffic, read the same way for each: cards, their state, notices, injected faults. */
interface View {
  /** Cards (approval messages) per approver for one approval. */
  cards(approvalId: string, who: string): number;
  /** True when `who`'s chat shows the decision (the card edited, or on LINE a state message pushed). */
  showsDecision(approvalId: string, iid: number, who: string): boolean;
  /** Notices to the requester about merge request !iid. */
  notices(iid: number): number;
  /** Requests recorded so far, and how many of those since `mark` the fake failed on purpose. */
  mark(): number;
  injectedSince(mark: number): number;
}

const mentions = (text: string, iid: number) => new RegExp(`!${iid}(?![0-9])`).test(text);

function viewOf(world: World, platform: WorldPlatform): View {
  switch (platform) {
    case 'slack': {
      const { slack } = world;
      const dm = (who: string) => slack.dmOf(SLACK_IDS[who] as string);
      const cardsOf = (approvalId: string, who: string) =>
        slack.messages.filter((m) => m.channel === dm(who) && JSON.stringify(m.blocks).includes(approvalId));
      return {
        cards: (approvalId, who) => cardsOf(approvalId, who).length,
        showsDecision: (approvalId, _iid, who) =>
          cardsOf(approvalId, who).some((m) => JSON.stringify(m.updates.at(-1) ?? m).includes(DECIDED)),
        notices: (iid) =>
          slack.messages.filter((m) => m.channel === dm(REQUESTER) && mentions(m.text, iid)).length,
        mark: () => slack.requests.length,
        injectedSince: (mark) =>
          slack.requests.slice(mark).filter((r) => r.outcome === '429' || /^5\d\d$|^hung$/.test(r.outcome))
            .length,
      };
    }
    case 'dingtalk': {
      const { dingtalk } = world;
      const cardsOf = (approvalId: string, who: string) =>
        [...dingtalk.cards.values()].filter(
          (c) => c.params.approvalId === approvalId && c.openSpaceId.endsWith(`.${DINGTALK_IDS[who]}`),
        );
      return {
        cards: (approvalId, who) => cardsOf(approvalId, who).length,
        showsDecision: (approvalId, _iid, who) =>
          cardsOf(approvalId, who).some((c) => JSON.stringify(c.params).includes(DECIDED)),
        notices: (iid) =>
          dingtalk.messages.filter(
            (m) => m.to === DINGTALK_IDS[REQUESTER] && mentions(JSON.stringify(m.msgParam), iid),
          ).length,
        mark: () => dingtalk.requests.length,
        injectedSince: (mark) =>
          dingtalk.requests.slice(mark).filter((r) => r.status === 429 || (r.status ?? 0) >= 500).length,
      };
    }
    case 'lark': {
      const { lark } = world;
      const cardsOf = (approvalId: string, who: string) =>
        [...lark.messages.values()].filter(
          (m) => m.receiveId === OPEN_IDS[who] && JSON.stringify(m.content).includes(approvalId),
        );
      return {
        cards: (approvalId, who) => cardsOf(approvalId, who).length,
        showsDecision: (approvalId, _iid, who) =>
          cardsOf(approvalId, who).some((m) =>
            JSON.stringify(m.patches.at(-1) ?? m.content).includes(DECIDED),
          ),
        notices: (iid) =>
          [...lark.messages.values()].filter(
            (m) => m.receiveId === OPEN_IDS[REQUESTER] && mentions(JSON.stringify(m.content), iid),
          ).length,
        mark: () => lark.requests.length,
        injectedSince: (mark) => lark.requests.slice(mark).filter((r) => r.injected !== undefined).length,
      };
    }
    case 'line': {
      const { line } = world;
      const to = (who: string) => line.messages.filter((m) => m.to === LINE_IDS[who]);
      return {
        cards: (approvalId, who) =>
          to(who).filter((m) => JSON.stringify(m.message).includes(`a=${approvalId}&d=approve`)).length,
        // LINE cannot edit a message: the new state is a text pushed to each approver's chat.
        showsDecision: (_approvalId, iid, who) =>
          to(who).some((m) => {
            const text = JSON.stringify(m.message);
            return text.includes(DECIDED) && mentions(text, iid);
          }),
        notices: (iid) => to(REQUESTER).filter((m) => mentions(JSON.stringify(m.message), iid)).length,
        mark: () => line.requests.length,
        injectedSince: (mark) =>
          line.requests.slice(mark).filter((r) => r.status === 429 || (r.status ?? 0) >= 500).length,
      };
    }
  }
}

/** A chat API failure: what it is, how many calls it hits, and when in the workflow it is armed. */
export interface ChatFault {
  platform: WorldPlatform;
  /** e.g. `429 ×2 (Retry-After 1 s) on chat.postMessage`. */
  label: string;
  /** Calls the fake fails on purpose (checked: a fault that never fired proves nothing). */
  times: number;
  /** Armed before the merge request opens (cards, the requester's first notice) or before the decision (card updates, the last notice). */
  armed: 'before the cards' | 'before the decision';
  arm(world: World): void;
}

/** The faults of every chat platform the runtime talks to: 429, 5xx and a call that never answers. */
export const CHAT_FAULTS: ChatFault[] = [
  {
    platform: 'slack',
    label: '429 ×2 (Retry-After 1 s) on chat.postMessage',
    times: 2,
    armed: 'before the cards',
    arm: (w) => w.slack.rateLimitNext(2, 1, 'chat.postMessage'),
  },
  {
    platform: 'slack',
    label: 'HTTP 503 ×2 on chat.update',
    times: 2,
    armed: 'before the decision',
    arm: (w) => w.slack.httpErrorNext(2, 503, 'chat.update'),
  },
  {
    platform: 'slack',
    label: 'chat.postMessage times out once',
    times: 1,
    armed: 'before the cards',
    arm: (w) => w.slack.hangNext(1, 'chat.postMessage'),
  },
  {
    platform: 'dingtalk',
    label: '429 ×2 on card createAndDeliver',
    times: 2,
    armed: 'before the cards',
    arm: (w) => w.dingtalk.failNext(2, 429, '/card/instances/createAndDeliver'),
  },
  {
    platform: 'dingtalk',
    label: '500 ×2 on the card instance update',
    times: 2,
    armed: 'before the decision',
    arm: (w) => w.dingtalk.failNext(2, 500, '/v1.0/card/instances'),
  },
  {
    platform: 'dingtalk',
    label: 'oToMessages/batchSend times out once',
    times: 1,
    armed: 'before the decision',
    arm: (w) => w.dingtalk.hangNext(1, '/robot/oToMessages/batchSend'),
  },
  {
    platform: 'lark',
    label: '500 ×2 on the card updates',
    times: 2,
    armed: 'before the decision',
    arm: (w) => w.lark.failNext(2, { status: 500 }),
  },
  {
    platform: 'lark',
    label: 'a call times out once',
    times: 1,
    armed: 'before the cards',
    arm: (w) => w.lark.failNext(1, { hang: true }),
  },
  {
    platform: 'line',
    label: '429 ×2 on push',
    times: 2,
    armed: 'before the cards',
    arm: (w) => w.line.failNext(2, 429),
  },
  {
    platform: 'line',
    label: 'a push times out once',
    times: 1,
    armed: 'before the cards',
    arm: (w) => w.line.hangNext(1),
  },
];

const NAMES: Record<WorldPlatform, string> = {
  slack: 'Slack',
  dingtalk: 'DingTalk',
  lark: 'Lark',
  line: 'LINE',
};

/**
 * One chat API fault on one platform during a merge request decided in the console. Counted on
 * the faulted platform: one card per approver, each showing the decision, every notice to the
 * requester once (as many as the world's other platform got, which had no fault, and at least
 * the console's), the fault served as many times as armed; and one merge, SUCCEEDED, no 5xx.
 */
export async function chatFault(world: World, fault: ChatFault, iid: number): Promise<Row> {
  const faulted = viewOf(world, fault.platform);
  const control = world.platforms.find((p) => p !== fault.platform);
  if (!control) throw new Error(`the ${fault.platform} fault rows need a second platform to compare with`);
  const other = viewOf(world, control);
  const mark = faulted.mark();
  if (fault.armed === 'before the cards') fault.arm(world);
  const mr = world.gitlab.seedMergeRequest({
    projectId: 9,
    projectPath: 'platform/reliability',
    iid,
    title: `Change ${iid}`,
  });
  const opened = await world.postGitLab(
    buildMergeRequestHook(mr, { action: 'open', actor: { username: REQUESTER }, baseUrl: world.gitlab.url }),
  );
  const { executionArn } = (await opened.json().catch(() => ({}))) as { executionArn?: string };
  if (!executionArn) throw new Error(`the merge request webhook started nothing (${opened.status})`);
  const approval: Approval = await world.pendingApproval(executionArn);
  const id = approval.approvalId;
  // A timed-out call costs the client's 10 s timeout before its retry: wait up to a minute.
  await waitFor(
    async () => APPROVERS.every((who) => faulted.cards(id, who) > 0 && other.cards(id, who) > 0),
    `a ${fault.platform} and a ${control} card for each approver`,
    60_000,
  ).catch(() => undefined);
  if (fault.armed === 'before the decision') fault.arm(world);
  const decided = await world.decide(id, 'bob');
  const status = await world.ended(executionArn);
  const consoleNotices = (
    (await (
      await fetch(`${world.runtime.app}/console/api/notifications?user=${REQUESTER}`, {
        headers: world.auth(REQUESTER),
      })
    ).json()) as { notifications: Array<{ executionArn?: string }> }
  ).notifications.filter((n) => n.executionArn === executionArn).length;
  const noticesExpected = () => Math.max(other.notices(iid), consoleNotices);
  await waitFor(
    async () =>
      faulted.notices(iid) >= noticesExpected() &&
      APPROVERS.every((who) => faulted.showsDecision(id, iid, who) && other.showsDecision(id, iid, who)),
    'the cards to show the decision and the notices to arrive',
    60_000,
  ).catch(() => undefined);
  // Let any late duplicate arrive before counting.
  await new Promise((resolve) => setTimeout(resolve, 500));

  const merges = world.gitlab.requests.filter(
    (r) => r.method === 'PUT' && r.path.endsWith(`/projects/9/merge_requests/${iid}/merge`),
  ).length;
  const parts: Part[] = [
    { what: 'faults served', expected: fault.times, actual: faulted.injectedSince(mark) },
    ...APPROVERS.map((who) => ({ what: `${who}'s card`, expected: 1, actual: faulted.cards(id, who) })),
    {
      what: 'cards showing the decision',
      expected: APPROVERS.length,
      actual: APPROVERS.filter((who) => faulted.showsDecision(id, iid, who)).length,
    },
    { what: `notices to ${REQUESTER}`, expected: noticesExpected(), actual: faulted.notices(iid) },
    { what: 'merge', expected: 1, actual: merges },
    { what: 'execution SUCCEEDED', expected: 1, actual: status === 'SUCCEEDED' ? 1 : 0 },
  ];
  return tally(
    `fault: ${NAMES[fault.platform]} ${fault.label}`,
    2,
    parts,
    [opened.status, decided.status].filter((s) => s >= 500).length,
    `${fault.armed}; ${faulted.injectedSince(mark)} call(s) failed on purpose; ${APPROVERS.length} cards, ` +
      `${noticesExpected()} notice(s) as on ${NAMES[control]}; execution ${status} ` +
      `(effect = fault served + a card per approver + the decision on each + notices + merge + SUCCEEDED)`,
  );
}

/** The fault rows of `platforms` on a runtime of their own (Slack and DingTalk: the main world talks to Lark and LINE). */
export async function chatFaultsOn(platforms: readonly WorldPlatform[]): Promise<Row[]> {
  const world = await startWorld({ platforms });
  const rows: Row[] = [];
  try {
    let iid = 1;
    for (const fault of CHAT_FAULTS.filter((f) => platforms.includes(f.platform)))
      rows.push(await chatFault(world, fault, iid++));
    // This runtime's tokens, searched in its own Slack and DingTalk calls, logs and answers.
    rows.push(await tokenLeaks(world, ` (${platforms.map((p) => NAMES[p]).join(', ')})`));
  } finally {
    await world.close();
  }
  return rows;
}
