import type { Approval } from '../../core/approvals/types.ts';
import { buildMergeRequestHook } from '../../test/fakes/gitlab.ts';
import { type Row, row } from '../report.ts';
import { waitFor } from '../runtime.ts';
import type { World } from '../world.ts';

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

export interface LoadFigures {
  row: Row;
  p50: number;
  p99: number;
  rssStart: number;
  rssEnd: number;
}

/**
 * `paused` executions waiting on approval while `clickers` approvers click for at most
 * `seconds` (bounded, loopback only): every click answered, each approval decided once.
 */
export async function approvalLoad(
  world: World,
  paused: number,
  clickers: number,
  seconds: number,
  firstIid: number,
): Promise<LoadFigures> {
  const iids = Array.from({ length: paused }, (_, i) => firstIid + i);
  await pool(iids, 25, async (iid) => {
    const mr = world.gitlab.seedMergeRequest({ projectId: 9, projectPath: 'platform/load', iid });
    await world.postGitLab(
      buildMergeRequestHook(mr, { action: 'open', actor: { username: 'alice' }, baseUrl: world.gitlab.url }),
    );
  });
  const pending = await waitFor(
    async () => {
      const body = (await (
        await fetch(`${world.runtime.app}/console/api/approvals?status=pending&limit=1000`)
      ).json()) as {
        approvals: Approval[];
      };
      const mine = body.approvals.filter((a) => a.card.fields.some((f) => f.value === 'platform/load'));
      return mine.length >= paused && mine;
    },
    `${paused} paused executions`,
    180_000,
  );

  const rssStart = await world.runtime.rss();
  const latencies: number[] = [];
  let errors = 0;
  let fiveXX = 0;
  let clicks = 0;
  const deadline = Date.now() + seconds * 1000;
  const queue = pending.slice();
  await Promise.all(
    Array.from({ length: clickers }, async (_, worker) => {
      while (Date.now() < deadline) {
        const approval = queue.shift();
        if (!approval) return;
        const started = performance.now();
        const response = await fetch(
          `${world.runtime.app}/console/api/approvals/${approval.approvalId}/decision`,
          {
            method: 'POST',
            headers: { 'content-type': 'application/json' },
            body: JSON.stringify({ decision: 'approve', actor: worker % 2 === 0 ? 'bob' : 'carol' }),
          },
        );
        await response.arrayBuffer();
        latencies.push(performance.now() - started);
        clicks++;
        if (response.status >= 500) fiveXX++;
        if (response.status !== 200) errors++;
      }
    }),
  );
  const decided = pending.length - queue.length;
  await waitFor(
    async () => {
      const running = (await (
        await fetch(`${world.runtime.app}/console/api/approvals?status=approved&limit=1000`)
      ).json()) as {
        approvals: Approval[];
      };
      return (
        running.approvals.filter((a) => a.card.fields.some((f) => f.value === 'platform/load')).length >=
        decided
      );
    },
    'the decisions to be recorded',
    120_000,
  );
  const rssEnd = await world.runtime.rss();
  latencies.sort((a, b) => a - b);
  const approved = (await (
    await fetch(`${world.runtime.app}/console/api/approvals?status=approved&limit=1000`)
  ).json()) as {
    approvals: Approval[];
  };
  const actual = approved.approvals.filter((a) =>
    a.card.fields.some((f) => f.value === 'platform/load'),
  ).length;
  const p50 = percentile(latencies, 50);
  const p99 = percentile(latencies, 99);
  return {
    row: row(
      `load: ${paused} paused, ${clickers} clickers`,
      clicks,
      decided,
      actual,
      fiveXX,
      `${errors} errors; click p50 ${p50.toFixed(0)} ms, p99 ${p99.toFixed(0)} ms; RSS ${(rssStart / 2 ** 20).toFixed(0)} → ${(rssEnd / 2 ** 20).toFixed(0)} MB`,
    ),
    p50,
    p99,
    rssStart,
    rssEnd,
  };
}
