import { decisionData } from '../../chat/line/postback.ts';
import type { Approval } from '../../core/approvals/types.ts';
import { buildMergeRequestHook } from '../../local/demo/gitlab.ts';
import { cardActionEvent } from '../../test/fakes/lark.ts';
import { linePostbackEvent, lineWebhook, signLineBody } from '../../test/fakes/line.ts';
import { type Row, row } from '../report.ts';
import { waitFor } from '../runtime.ts';
import { LARK, LOAD_APPROVERS, loadApprover, type World } from '../world.ts';

const LOAD_PROJECT_ID = 1000;

function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return 0;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? 0;
}

async function pool<T>(items: T[], concurrency: number, work: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < items.length) {
        const item = items[next++] as T;
        await work(item);
      }
    }),
  );
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, Math.max(0, ms)));
export const mb = (bytes: number) => `${(bytes / 2 ** 20).toFixed(0)} MB`;
export type Memory = Awaited<ReturnType<World['runtime']['rss']>>;
/**
 * The runtime's memory at rest: after 10 s with nothing to do, the lowest of ten readings 2 s
 * apart. V8 gives unused heap back only after a quiet spell (its memory reducer starts after
 * 8 s and runs when it likes), so one reading says more about when the collector last ran
 * than about what the process holds. Start and end are read the same way.
 */
async function memoryAtRest(world: World): Promise<Memory> {
  await sleep(10_000);
  let lowest = await world.runtime.rss();
  for (let i = 1; i < 10; i++) {
    await sleep(2000);
    const now = await world.runtime.rss();
    if (now.anon < lowest.anon) lowest = now;
  }
  return lowest;
}

/** `RSS a → b MB (heap and other anonymous memory c → d MB)`. */
export function memoryNote(start: Memory, end: Memory): string {
  return `RSS ${mb(start.total)} → ${mb(end.total)} (anonymous ${mb(start.anon)} → ${mb(end.anon)})`;
}

export interface LoadFigures {
  row: Row;
  p50: number;
  p99: number;
  max: number;
  memoryStart: Memory;
  memoryEnd: Memory;
  /** Approvals decided and merged per second, measured from the first click to the last merge (saturation: the click window). */
  rate: number;
}

type Platform = 'lark' | 'line' | 'console';
interface Pending {
  approval: Approval;
  approver: number;
  iid: number;
}

/** Which chat an approver clicks in: a third each on Lark, LINE and the console. */
function platformOf(approver: number): Platform {
  return (['lark', 'line', 'console'] as const)[approver % 3] as Platform;
}

/** One approver's click, signed as the platform signs it; true when the decision was accepted. */
async function click(world: World, platform: Platform, approver: number, approvalId: string) {
  const who = loadApprover(approver);
  if (platform === 'lark') {
    const response = await world.postLark(
      cardActionEvent({
        token: LARK.verificationToken,
        openId: who.openId,
        value: { approvalId, decision: 'approve' },
      }),
    );
    const body = (await response.json().catch(() => ({}))) as { toast?: { type?: string } };
    return { status: response.status, accepted: response.status === 200 && body.toast?.type === 'success' };
  }
  if (platform === 'line') {
    const body = JSON.stringify(
      lineWebhook([linePostbackEvent(decisionData(approvalId, 'approve'), { userId: who.lineId })]),
    );
    const response = await fetch(`${world.runtime.app}/webhooks/line`, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        'x-line-signature': signLineBody(body, world.line.channelSecret),
      },
      body,
    });
    await response.arrayBuffer();
    // LINE answers every verified delivery with 200; the outcome shows in the store (counted below).
    return { status: response.status, accepted: response.status === 200 };
  }
  const response = await fetch(`${world.runtime.app}/console/api/approvals/${approvalId}/decision`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...world.auth(who.user) },
    body: JSON.stringify({ decision: 'approve', actor: who.user }),
  });
  await response.arrayBuffer();
  return { status: response.status, accepted: response.status === 200 };
}

async function approvalsOf(world: World, status: string): Promise<Approval[]> {
  const body = (await (
    await fetch(`${world.runtime.app}/console/api/approvals?status=${status}&limit=1000`, {
      headers: world.auth(),
    })
  ).json()) as { approvals: Approval[] };
  return body.approvals;
}

const isLoad = (a: Approval) => a.card.fields.some((f) => f.value.startsWith('platform/load-'));

/** Open `paused` merge requests spread over the load approvers' projects; wait until all are paused. */
async function pauseMany(world: World, paused: number, firstIid: number): Promise<Pending[]> {
  const seeds = Array.from({ length: paused }, (_, i) => ({
    approver: (i % LOAD_APPROVERS) + 1,
    iid: firstIid + i,
  }));
  const byIid = new Map(seeds.map((s) => [s.iid, s]));
  await pool(seeds, 25, async ({ approver, iid }) => {
    const mr = world.gitlab.seedMergeRequest({
      projectId: LOAD_PROJECT_ID + approver,
      projectPath: loadApprover(approver).project,
      iid,
    });
    await world.postGitLab(
      buildMergeRequestHook(mr, { action: 'open', actor: { username: 'alice' }, baseUrl: world.gitlab.url }),
    );
  });
  return waitFor(
    async () => {
      const mine = (await approvalsOf(world, 'pending')).filter(isLoad).flatMap((approval) => {
        const iid = Number(approval.subject?.split(':').pop());
        const seed = byIid.get(iid);
        return seed ? [{ approval, approver: seed.approver, iid }] : [];
      });
      return mine.length >= paused && mine;
    },
    `${paused} paused executions`,
    300_000,
  );
}

/** Merge calls GitLab saw for the load projects, per merge request. */
function mergeCounts(world: World): Map<string, number> {
  const counts = new Map<string, number>();
  for (const r of world.gitlab.requests) {
    const m = /\/projects\/(\d+)\/merge_requests\/(\d+)\/merge$/.exec(r.path.split('?')[0] ?? '');
    if (r.method !== 'PUT' || !m || Number(m[1]) <= LOAD_PROJECT_ID) continue;
    counts.set(`${m[1]}!${m[2]}`, (counts.get(`${m[1]}!${m[2]}`) ?? 0) + 1);
  }
  return counts;
}

/**
 * `paused` executions waiting on approval while `approvers` people click through them over
 * `seconds` (loopback only): each approver owns a project and clicks its approvals at random
 * moments spread over the window (an open schedule, as people click, not back to back), a
 * third of them in Lark, a third in LINE, a third in the console. Every click must be
 * answered, each approval decided once and each merge request merged once. Latency is
 * measured from sending the callback to its answer.
 */
export async function approvalLoad(
  world: World,
  paused: number,
  approvers: number,
  seconds: number,
  firstIid: number,
): Promise<LoadFigures> {
  const pending = await pauseMany(world, paused, firstIid);
  const mergesBefore = [...mergeCounts(world).values()].reduce((a, b) => a + b, 0);
  const memoryStart = await memoryAtRest(world);
  const latencies: number[] = [];
  let errors = 0;
  let fiveXX = 0;
  const started = performance.now();
  const perApprover = new Map<number, Pending[]>();
  for (const p of pending) {
    const n = ((p.approver - 1) % approvers) + 1;
    perApprover.set(n, [...(perApprover.get(n) ?? []), p]);
  }
  await Promise.all(
    [...perApprover].map(async ([approver, mine]) => {
      const slot = (seconds * 1000) / mine.length;
      // One click at a random moment in each of the approver's slots: ~ one click every `slot` ms.
      const clicks = mine.map(async (p, k) => {
        await sleep(started + (k + Math.random()) * slot - performance.now());
        const sent = performance.now();
        const result = await click(world, platformOf(approver), p.approver, p.approval.approvalId).catch(
          () => ({ status: 0, accepted: false }),
        );
        latencies.push(performance.now() - sent);
        if (result.status >= 500) fiveXX++;
        if (!result.accepted) errors++;
      });
      await Promise.all(clicks);
    }),
  );
  const window = (performance.now() - started) / 1000;
  const ids = new Set(pending.map((p) => p.approval.approvalId));
  await waitFor(
    async () => {
      const merges = [...mergeCounts(world).values()].reduce((a, b) => a + b, 0) - mergesBefore;
      return (
        merges >= pending.length && (await approvalsOf(world, 'pending')).every((a) => !ids.has(a.approvalId))
      );
    },
    'every load workflow to finish',
    300_000,
  );
  const finished = (performance.now() - started) / 1000;
  // Let stragglers (a duplicated merge would come last) arrive before counting.
  const memoryEnd = await memoryAtRest(world);
  // This round's merge requests only: counts from earlier rounds must not make up for a lost merge.
  const counts = mergeCounts(world);
  const mergesOf = (p: Pending) => counts.get(`${LOAD_PROJECT_ID + p.approver}!${p.iid}`) ?? 0;
  const approvedIds = new Set(
    (await approvalsOf(world, 'approved')).filter((a) => ids.has(a.approvalId)).map((a) => a.approvalId),
  );
  const done = pending.filter((p) => approvedIds.has(p.approval.approvalId) && mergesOf(p) >= 1).length;
  const duplicatedMerges = pending.reduce((sum, p) => sum + Math.max(0, mergesOf(p) - 1), 0);
  latencies.sort((a, b) => a - b);
  const p50 = percentile(latencies, 50);
  const p99 = percentile(latencies, 99);
  const max = latencies.at(-1) ?? 0;
  const base = row(
    `load: ${paused} paused, ${approvers} approvers clicking for ${seconds} s`,
    latencies.length,
    pending.length,
    done,
    fiveXX,
    `${errors} errors; clicks spread over ${window.toFixed(0)} s, every approval decided and merged ${finished.toFixed(0)} s after the first (effect = approved and merged once); callback p50 ${p50.toFixed(0)} ms, p99 ${p99.toFixed(0)} ms, max ${max.toFixed(0)} ms; ${memoryNote(memoryStart, memoryEnd)}`,
  );
  return {
    row: {
      ...base,
      duplicated: base.duplicated + duplicatedMerges,
      lost: base.lost + errors,
    },
    p50,
    p99,
    max,
    memoryStart,
    memoryEnd,
    // Measured: approvals decided and merged per second, from the first click to the last merge.
    rate: pending.length / finished,
  };
}

/**
 * Capacity, not a scenario people produce: `paused` approvals clicked back to back by `clickers`
 * console clients with no pause between clicks, to show how many decisions per second the
 * runtime completes and what a click waits when it is saturated.
 */
export async function saturationLoad(
  world: World,
  paused: number,
  clickers: number,
  firstIid: number,
): Promise<LoadFigures> {
  const pending = await pauseMany(world, paused, firstIid);
  const memoryStart = await world.runtime.rss();
  const latencies: number[] = [];
  let errors = 0;
  let fiveXX = 0;
  const queue = pending.slice();
  const started = performance.now();
  await Promise.all(
    Array.from({ length: clickers }, async () => {
      for (let p = queue.shift(); p; p = queue.shift()) {
        const sent = performance.now();
        const result = await click(world, 'console', p.approver, p.approval.approvalId);
        latencies.push(performance.now() - sent);
        if (result.status >= 500) fiveXX++;
        if (!result.accepted) errors++;
      }
    }),
  );
  const window = (performance.now() - started) / 1000;
  const ids = new Set(pending.map((p) => p.approval.approvalId));
  await waitFor(
    async () => (await approvalsOf(world, 'pending')).every((a) => !ids.has(a.approvalId)),
    'every saturation decision',
    300_000,
  );
  const approved = (await approvalsOf(world, 'approved')).filter((a) => ids.has(a.approvalId)).length;
  const memoryEnd = await world.runtime.rss();
  latencies.sort((a, b) => a - b);
  const p50 = percentile(latencies, 50);
  const p99 = percentile(latencies, 99);
  const rate = pending.length / window;
  const base = row(
    `capacity: ${paused} approvals, ${clickers} clients back to back`,
    latencies.length,
    pending.length,
    approved,
    fiveXX,
    `${errors} errors; ${rate.toFixed(1)} decisions/s; click p50 ${p50.toFixed(0)} ms, p99 ${p99.toFixed(0)} ms (saturated: informational)`,
  );
  return {
    row: { ...base, lost: base.lost + errors },
    p50,
    p99,
    max: latencies.at(-1) ?? 0,
    memoryStart,
    memoryEnd,
    rate,
  };
}
