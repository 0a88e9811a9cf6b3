import type { Approval } from '../../core/approvals/types.ts';
import { type Row, row } from '../report.ts';
import { waitFor } from '../runtime.ts';
import type { World } from '../world.ts';

async function approve(world: World, approval: Approval): Promise<Response> {
  return fetch(`${world.runtime.app}/console/api/approvals/${approval.approvalId}/decision`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ decision: 'approve', actor: 'bob' }),
  });
}

async function ended(world: World, executionArn: string): Promise<string> {
  return waitFor(
    async () => {
      const status = await world.executionStatus(executionArn);
      return status !== 'RUNNING' && status;
    },
    'the execution to end',
    90_000,
  );
}

/** GitLab answers 500 twice during the merge: the state machine retries with backoff and merges once. */
export async function gitlabTransientFailure(world: World, iid: number): Promise<Row> {
  const { executionArn, approval } = await world.pendingMergeRequest(iid);
  world.gitlab.failNext(2, { status: 500 });
  const response = await approve(world, approval);
  const status = await ended(world, executionArn);
  const merged = world.gitlab.mergeRequest(9, iid)?.state === 'merged' ? 1 : 0;
  return row(
    'fault: GitLab 500 ×2 then ok',
    1,
    1,
    merged,
    response.status >= 500 ? 1 : 0,
    `execution ${status}`,
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
  await approve(world, approval);
  const status = await ended(world, executionArn);
  const notes = (await (await fetch(`${world.runtime.app}/console/api/notifications?user=alice`)).json()) as {
    notifications: Array<{ executionArn: string; text: string }>;
  };
  const told = notes.notifications.filter(
    (n) => n.executionArn === executionArn && n.text.includes('failed'),
  ).length;
  const audit = (await (
    await fetch(`${world.runtime.app}/console/api/audit?execution=${encodeURIComponent(executionArn)}`)
  ).json()) as { records: Array<{ action: string }> };
  const recorded = audit.records.filter((r) => r.action === 'workflow.failed').length;
  return row(
    'fault: GitLab down for good',
    1,
    2,
    told + recorded,
    0,
    `execution ${status}; requester told ${told}×, audit ${recorded}× (effect = notice + audit)`,
  );
}
