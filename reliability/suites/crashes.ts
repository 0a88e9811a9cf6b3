import type { Approval } from '../../core/approvals/types.ts';
import { buildMergeRequestHook } from '../../local/demo/gitlab.ts';
import { type Row, row } from '../report.ts';
import { waitFor } from '../runtime.ts';
import { LINE_IDS, OPEN_IDS, type World } from '../world.ts';

type KillPoint =
  | 'after the trigger'
  | 'while a card is being sent'
  | 'while paused'
  | 'during the decision'
  | 'during the merge';
export const KILL_POINTS: KillPoint[] = [
  'after the trigger',
  'while a card is being sent',
  'while paused',
  'during the decision',
  'during the merge',
];

async function pendingApproval(world: World, executionArn: string): Promise<Approval | undefined> {
  const body = (await (
    await fetch(`${world.runtime.app}/console/api/approvals?status=pending&limit=1000`, {
      headers: world.auth(),
    })
  ).json()) as {
    approvals: Approval[];
  };
  return body.approvals.find((a) => a.executionArn === executionArn);
}

/** Cards bob received for one approval: Lark messages and LINE pushes naming its id. */
function cardsFor(world: World, approvalId: string): { lark: number; line: number } {
  return {
    lark: [...world.lark.messages.values()].filter(
      (m) => m.receiveId === OPEN_IDS.bob && JSON.stringify(m.content).includes(approvalId),
    ).length,
    line: world.line.messages.filter(
      (m) => m.to === LINE_IDS.bob && JSON.stringify(m.message).includes(`a=${approvalId}&d=approve`),
    ).length,
  };
}

/**
 * `kill -9` of the runtime at one step of a merge request, then a restart on the same data:
 * the workflow finishes exactly once, one card per approver, one merge, no approval lost.
 */
export async function crashAt(world: World, point: KillPoint, iid: number): Promise<Row> {
  const mr = world.gitlab.seedMergeRequest({ projectId: 9, projectPath: 'platform/reliability', iid });
  const hook = buildMergeRequestHook(mr, {
    action: 'open',
    actor: { username: 'alice' },
    baseUrl: world.gitlab.url,
  });
  const { executionArn } = (await (await world.postGitLab(hook)).json()) as { executionArn: string };
  // A click the runtime answered before it died: its vote must survive, so nobody clicks again.
  let acknowledged = false;
  let fiveXX = 0;
  const answered = (response: Response | undefined) => {
    if (!response) return;
    if (response.status >= 500) fiveXX++;
    if (response.ok) acknowledged = true;
  };

  if (point === 'after the trigger') {
    await world.runtime.kill();
  } else if (point === 'while a card is being sent') {
    // LINE holds the first card (Lark's went out before it) until the runtime dies.
    const before = world.line.requests.length;
    world.line.hangNext(1);
    await waitFor(async () => world.line.requests.length > before, 'the LINE card to be on its way');
    await world.runtime.kill();
  } else {
    const approval = await waitFor(() => pendingApproval(world, executionArn), 'the approval');
    if (point === 'while paused') {
      await world.runtime.kill();
    } else if (point === 'during the decision') {
      const click = world.decide(approval.approvalId, 'bob').catch(() => undefined);
      await new Promise((resolve) => setTimeout(resolve, 2));
      await world.runtime.kill();
      answered(await click);
    } else {
      // GitLab holds the next call (the merge task's first) until the runtime dies.
      world.gitlab.failNext(1, 'timeout');
      answered(await world.decide(approval.approvalId, 'bob'));
      await waitFor(
        async () =>
          (await world.executionStatus(executionArn)) === 'RUNNING' && world.gitlab.requests.length > 0,
        'the merge to start',
      );
      await new Promise((resolve) => setTimeout(resolve, 100));
      await world.runtime.kill();
    }
  }

  await world.runtime.restart();
  // Bob clicks after the restart only if no click of his was answered before the kill: clicking
  // again would hide a lost vote.
  let clickedAfter = false;
  const status = await waitFor(
    async () => {
      const pending = await pendingApproval(world, executionArn);
      if (pending && !acknowledged && !clickedAfter) {
        const response = await world.decide(pending.approvalId, 'bob');
        if (response.status >= 500) fiveXX++;
        clickedAfter = response.ok;
      }
      const current = await world.executionStatus(executionArn);
      return current !== 'RUNNING' && current;
    },
    'the execution to finish after the restart',
    90_000,
  ).catch(() => 'RUNNING (never finished)');

  const merges = world.gitlab.requests.filter(
    (r) => r.method === 'PUT' && r.path.endsWith(`/projects/9/merge_requests/${iid}/merge`),
  );
  const merged = world.gitlab.mergeRequest(9, iid)?.state === 'merged' ? 1 : 0;
  const approvals = (await (
    await fetch(`${world.runtime.app}/console/api/approvals?status=approved&limit=1000`, {
      headers: world.auth(),
    })
  ).json()) as {
    approvals: Approval[];
  };
  const approval = approvals.approvals.find((a) => a.executionArn === executionArn);
  const cards = approval ? cardsFor(world, approval.approvalId) : { lark: 0, line: 0 };
  // Effects: the execution SUCCEEDED, the merge, bob's Lark card and bob's LINE card, each exactly once.
  const result = row(
    `crash: kill -9 ${point}`,
    1,
    4,
    (status === 'SUCCEEDED' ? 1 : 0) + merged + Math.min(1, cards.lark) + Math.min(1, cards.line),
    fiveXX,
  );
  return {
    ...result,
    duplicated: Math.max(0, merges.length - 1) + Math.max(0, cards.lark - 1) + Math.max(0, cards.line - 1),
    note: `execution ${status}; ${merges.length} merge call(s); bob's cards: Lark ${cards.lark}, LINE ${cards.line}; ${acknowledged ? 'vote answered before the kill, not clicked again' : clickedAfter ? 'clicked after the restart' : 'no click'}`,
  };
}
