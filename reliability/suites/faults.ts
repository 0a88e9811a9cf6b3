import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildMergeRequestHook, type FakeFailure } from '../../local/demo/gitlab.ts';
import { startDynamo } from '../../local/dynamo.ts';
import { cardActionEvent } from '../../test/fakes/lark.ts';
import { type Row, row } from '../report.ts';
import { waitFor } from '../runtime.ts';
import { startThrottlingProxy } from '../throttling-proxy.ts';
import { LARK, LINE_IDS, OPEN_IDS, startWorld, type World } from '../world.ts';

/**
 * GitLab fails the merge task's first calls (500 ×2 by default; 429s, which gitbeaker retries
 * itself; or a call that never answers, until the client's 30 s timeout): the state machine
 * retries with backoff and merges once.
 */
export async function gitlabTransientFailure(
  world: World,
  iid: number,
  fault: { label: string; times: number; failure: FakeFailure } = {
    label: '500 ×2',
    times: 2,
    failure: { status: 500 },
  },
): Promise<Row> {
  const { executionArn, approval } = await world.pendingMergeRequest(iid);
  const from = world.gitlab.requests.length;
  world.gitlab.failNext(fault.times, fault.failure);
  const response = await world.decide(approval.approvalId, 'bob');
  const status = await world.ended(executionArn);
  const merged = world.gitlab.mergeRequest(9, iid)?.state === 'merged' ? 1 : 0;
  const merges = world.gitlab.requests
    .slice(from)
    .filter((r) => r.method === 'PUT' && r.path.endsWith(`/projects/9/merge_requests/${iid}/merge`)).length;
  return row(
    `fault: GitLab ${fault.label} then ok`,
    1,
    1,
    merged,
    response.status >= 500 ? 1 : 0,
    `execution ${status}; ${merges} merge call(s) among ${world.gitlab.requests.length - from} GitLab calls`,
  );
}

/**
 * GitLab keeps failing: after the retries run out the execution fails, the requester is told
 * why, and the audit records it; nothing is left half-done without a report.
 */
export async function gitlabPermanentFailure(world: World, iid: number): Promise<Row> {
  const { executionArn, approval } = await world.pendingMergeRequest(iid);
  // The merge task's first call fails on each of its 4 attempts (1 + 3 retries in the ASL).
  world.gitlab.failNext(4, { status: 500 });
  const decided = await world.decide(approval.approvalId, 'bob');
  const status = await world.ended(executionArn);
  const notes = (await (
    await fetch(`${world.runtime.app}/console/api/notifications?user=alice`, { headers: world.auth('alice') })
  ).json()) as {
    notifications: Array<{ executionArn: string; text: string }>;
  };
  const told = notes.notifications.filter(
    (n) => n.executionArn === executionArn && n.text.includes('failed'),
  ).length;
  const audit = (await (
    await fetch(`${world.runtime.app}/console/api/audit?execution=${encodeURIComponent(executionArn)}`, {
      headers: world.auth(),
    })
  ).json()) as { records: Array<{ action: string }> };
  const recorded = audit.records.filter((r) => r.action === 'workflow.failed').length;
  return row(
    'fault: GitLab down for good',
    1,
    2,
    told + recorded,
    decided.status >= 500 ? 1 : 0,
    `execution ${status}; requester told ${told}×, audit ${recorded}× (effect = notice + audit)`,
  );
}

/** Lark cards and LINE pushes that carry this approval, per recipient. */
function cardsFor(
  world: World,
  approvalId: string,
): { lark: Map<string, number>; line: Map<string, number> } {
  const lark = new Map<string, number>();
  for (const m of world.lark.messages.values())
    if (JSON.stringify(m.content).includes(approvalId))
      lark.set(m.receiveId, (lark.get(m.receiveId) ?? 0) + 1);
  const line = new Map<string, number>();
  for (const m of world.line.messages)
    if (m.to && JSON.stringify(m.message).includes(approvalId)) line.set(m.to, (line.get(m.to) ?? 0) + 1);
  return { lark, line };
}

/** Opens a merge request in GitLab and delivers its webhook; the status GitLab got back. */
async function openMergeRequest(
  world: World,
  iid: number,
): Promise<{ status: number; executionArn?: string }> {
  const mr = world.gitlab.seedMergeRequest({ projectId: 9, projectPath: 'platform/reliability', iid });
  const response = await world.postGitLab(
    buildMergeRequestHook(mr, { action: 'open', actor: { username: 'alice' }, baseUrl: world.gitlab.url }),
  );
  const body = (await response.json().catch(() => ({}))) as { executionArn?: string };
  return { status: response.status, ...(body.executionArn ? { executionArn: body.executionArn } : {}) };
}

/**
 * Lark answers 429 and LINE 500 to the first calls of an approval request: the chat channel
 * retries with backoff, and each approver gets exactly one card on each platform.
 */
export async function chatTransientFailure(world: World, iid: number): Promise<Row> {
  world.lark.failNext(2, { status: 429 });
  world.line.failNext(2, 500);
  const opened = await openMergeRequest(world, iid);
  const executionArn = opened.executionArn as string;
  const approval = await world.pendingApproval(executionArn);
  const expected = ['bob', 'carol'];
  const cards = await waitFor(async () => {
    const c = cardsFor(world, approval.approvalId);
    const all = expected.every(
      (who) => c.lark.has(OPEN_IDS[who] as string) && c.line.has(LINE_IDS[who] as string),
    );
    return all && c;
  }, 'a card for each approver on Lark and LINE');
  // Let any late duplicate arrive before counting.
  await new Promise((resolve) => setTimeout(resolve, 500));
  const counts = [
    ...cardsFor(world, approval.approvalId).lark.values(),
    ...cardsFor(world, approval.approvalId).line.values(),
  ];
  const response = await world.decide(approval.approvalId, 'bob');
  const status = await world.ended(executionArn);
  const merged = world.gitlab.mergeRequest(9, iid)?.state === 'merged' ? 1 : 0;
  const actual = counts.reduce((a, b) => a + b, 0) + merged;
  return {
    ...row(
      'fault: Lark 429 ×2, LINE 500 ×2 on the cards',
      1,
      5,
      actual,
      [opened.status, response.status].filter((s) => s >= 500).length,
      `cards per approver: Lark ${[...cards.lark.values()].join('/')}, LINE ${[...cards.line.values()].join('/')}; execution ${status} (effect = 4 cards + 1 merge)`,
    ),
    duplicated: counts.reduce((sum, n) => sum + Math.max(0, n - 1), 0),
  };
}

/**
 * Lark fails every try of one approver's card: the card is reported in the audit
 * (approval.card_undelivered), the other cards go out, and the approval is decided elsewhere.
 */
export async function chatPermanentFailure(world: World, iid: number): Promise<Row> {
  // Bob's Lark card is the first chat call: its try and its three retries fail.
  world.lark.failNext(4, { status: 500 });
  const opened = await openMergeRequest(world, iid);
  const executionArn = opened.executionArn as string;
  const approval = await world.pendingApproval(executionArn);
  const undelivered = await waitFor(async () => {
    const found = (await world.audit(executionArn)).filter((r) => r.action === 'approval.card_undelivered');
    return found.length > 0 && found;
  }, 'the undelivered card in the audit');
  // LINE's cards go out after Lark's channel is done (and its failure recorded): wait for them.
  const sent = () => {
    const cards = cardsFor(world, approval.approvalId);
    return [...cards.lark.values(), ...cards.line.values()].reduce((a, b) => a + b, 0);
  };
  await waitFor(async () => sent() >= 3, 'the other three cards').catch(() => undefined);
  await new Promise((resolve) => setTimeout(resolve, 500));
  const delivered = sent();
  const response = await world.decide(approval.approvalId, 'bob');
  const status = await world.ended(executionArn);
  const merged = world.gitlab.mergeRequest(9, iid)?.state === 'merged' ? 1 : 0;
  return row(
    'fault: Lark down for one card',
    1,
    5,
    undelivered.length + delivered + merged,
    [opened.status, response.status].filter((s) => s >= 500).length,
    `audit: ${undelivered.map((r) => `${r.detail?.platform} ${r.detail?.recipient} undelivered`).join(', ')}; ${delivered} other cards; execution ${status} (effect = 1 audit + 3 cards + 1 merge)`,
  );
}

/**
 * The runtime on a DynamoDB that throttles a share of all requests
 * (ProvisionedThroughputExceededException through a proxy in front of the embedded store):
 * the SDK retries with backoff; every workflow still runs once, cards once, no 5xx.
 */
export async function dynamoThrottling(count: number, rate: number): Promise<Row> {
  const dir = mkdtempSync(join(tmpdir(), 'signoff-throttled-'));
  const dynamo = await startDynamo({ path: join(dir, 'dynamodb'), port: 0, host: '127.0.0.1' });
  const proxy = await startThrottlingProxy(dynamo.endpoint, 20261123);
  let world: World | undefined;
  try {
    world = await startWorld({ dynamoUrl: proxy.url });
    proxy.setRate(rate);
    let fiveXX = 0;
    let effects = 0;
    let duplicated = 0;
    await Promise.all(
      Array.from({ length: count }, async (_, i) => {
        const w = world as World;
        const iid = 1 + i;
        const opened = await openMergeRequest(w, iid);
        if (opened.status >= 500) fiveXX++;
        if (!opened.executionArn) return;
        const approval = await w.pendingApproval(opened.executionArn);
        // Both approvers click at once, bob in the console and carol in Lark.
        const clicks = await Promise.all([
          w.decide(approval.approvalId, 'bob'),
          w.postLark(
            cardActionEvent({
              token: LARK.verificationToken,
              openId: OPEN_IDS.carol as string,
              value: { approvalId: approval.approvalId, decision: 'approve' },
            }),
          ),
        ]);
        fiveXX += clicks.filter((r) => r.status >= 500).length;
        if ((await w.ended(opened.executionArn)) === 'SUCCEEDED') effects++;
        const merges = w.gitlab.requests.filter(
          (r) => r.method === 'PUT' && r.path.endsWith(`/projects/9/merge_requests/${iid}/merge`),
        ).length;
        duplicated += Math.max(0, merges - 1);
        const cards = cardsFor(w, approval.approvalId);
        duplicated += [...cards.lark.values(), ...cards.line.values()].reduce(
          (sum, n) => sum + Math.max(0, n - 1),
          0,
        );
      }),
    );
    const throttled = [...proxy.throttled.values()].reduce((a, b) => a + b, 0);
    return {
      ...row(
        `fault: DynamoDB throttles ${Math.round(rate * 100)}% of requests`,
        count,
        count,
        effects,
        fiveXX,
        `${throttled} requests throttled, ${proxy.forwarded} served; every execution SUCCEEDED once, one card per approver`,
      ),
      duplicated,
    };
  } finally {
    proxy.setRate(0);
    await world?.close();
    await proxy.close();
    await dynamo.close();
    rmSync(dir, { recursive: true, force: true });
  }
}
