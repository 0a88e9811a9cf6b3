import { buildMergeRequestHook } from '../../local/demo/gitlab.ts';
import { cardActionEvent } from '../../test/fakes/lark.ts';
import { type Row, row } from '../report.ts';
import { LARK, OPEN_IDS, QUORUM_PROJECT, type World } from '../world.ts';

function merges(world: World, projectId: number, iid: number): number {
  return world.gitlab.requests.filter(
    (r) => r.method === 'PUT' && r.path.includes(`/projects/${projectId}/merge_requests/${iid}/merge`),
  ).length;
}

/** Each trigger delivered three times at once: one execution per merge request. */
export async function duplicateTriggers(world: World, count: number, firstIid: number): Promise<Row> {
  const before = await world.effects();
  let fiveXX = 0;
  for (let i = 0; i < count; i++) {
    const mr = world.gitlab.seedMergeRequest({
      projectId: 9,
      projectPath: 'platform/reliability',
      iid: firstIid + i,
    });
    const hook = buildMergeRequestHook(mr, {
      action: 'open',
      actor: { username: 'alice' },
      baseUrl: world.gitlab.url,
    });
    const responses = await Promise.all([1, 2, 3].map(() => world.postGitLab(hook)));
    fiveXX += responses.filter((r) => r.status >= 500).length;
  }
  const after = await world.effects();
  return row(
    'duplicates: trigger ×3 concurrently',
    count * 3,
    count,
    after.executions - before.executions,
    fiveXX,
  );
}

/**
 * Each approval clicked three times by two approvers at the same instant, through the console
 * and through Lark: one decision, one SendTaskSuccess (the execution ends once), one merge.
 */
export async function duplicateClicks(world: World, count: number, firstIid: number): Promise<Row> {
  let fiveXX = 0;
  let tried = 0;
  let mergesDone = 0;
  for (let i = 0; i < count; i++) {
    const iid = firstIid + i;
    const { executionArn, approval } = await world.pendingMergeRequest(iid);
    const clicks: Array<Promise<Response>> = [];
    for (const who of ['bob', 'carol']) {
      for (let k = 0; k < 3; k++) {
        clicks.push(
          fetch(`${world.runtime.app}/console/api/approvals/${approval.approvalId}/decision`, {
            method: 'POST',
            headers: { 'content-type': 'application/json', ...world.auth(who) },
            body: JSON.stringify({ decision: 'approve', actor: who }),
          }),
        );
        clicks.push(
          world.postLark(
            cardActionEvent({
              token: LARK.verificationToken,
              openId: OPEN_IDS[who] as string,
              value: { approvalId: approval.approvalId, decision: 'approve' },
            }),
          ),
        );
      }
    }
    const responses = await Promise.all(clicks);
    tried += responses.length;
    fiveXX += responses.filter((r) => r.status >= 500).length;
    await world.ended(executionArn);
    mergesDone += merges(world, 9, iid);
  }
  return row(
    'duplicates: 6 clicks × 2 approvers at once',
    tried,
    count,
    mergesDone,
    fiveXX,
    'effect = merges',
  );
}

/**
 * A decision racing the start: a click on an id nobody was given yet is a 404, and a click with
 * the real approval id the moment it is stored (while its cards are still being sent) counts
 * once and merges once.
 */
export async function decisionDuringStart(world: World, iid: number): Promise<Row> {
  const mr = world.gitlab.seedMergeRequest({ projectId: 9, projectPath: 'platform/reliability', iid });
  const hook = buildMergeRequestHook(mr, {
    action: 'open',
    actor: { username: 'alice' },
    baseUrl: world.gitlab.url,
  });
  const start = world.postGitLab(hook);
  const early = await world.decide('a0000000000000000000000', 'bob');
  const { executionArn } = (await (await start).json()) as { executionArn: string };
  // Poll without pause: the click lands as soon as request-approval stored the approval.
  let racing: Response | undefined;
  for (let i = 0; i < 20_000 && !racing; i++) {
    const body = (await (
      await fetch(`${world.runtime.app}/console/api/approvals?status=pending&limit=1000`, {
        headers: world.auth(),
      })
    ).json()) as { approvals: Array<{ approvalId: string; executionArn: string }> };
    const found = body.approvals.find((a) => a.executionArn === executionArn);
    if (found) racing = await world.decide(found.approvalId, 'bob');
  }
  await world.ended(executionArn);
  const responses = [early, ...(racing ? [racing] : [])];
  const fiveXX = responses.filter((r) => r.status >= 500).length;
  const effects = (early.status === 404 ? 1 : 0) + (racing?.ok ? 1 : 0);
  const result = row(
    'decision while starting',
    2,
    3,
    effects + Math.min(1, merges(world, 9, iid)),
    fiveXX,
    `unknown id → ${early.status}; real id → ${racing?.status ?? 'never found'} (effect = 404, counted click, merge)`,
  );
  return { ...result, duplicated: result.duplicated + Math.max(0, merges(world, 9, iid) - 1) };
}

/**
 * A quorum of two with both votes racing: bob and carol approve at the same instant, each
 * three times, in the console and in Lark. Both votes count once each, the second completes the
 * approval, and the merge request is merged once.
 */
export async function quorumRace(world: World, count: number, firstIid: number): Promise<Row> {
  let fiveXX = 0;
  let tried = 0;
  let effects = 0;
  let duplicated = 0;
  for (let i = 0; i < count; i++) {
    const iid = firstIid + i;
    const mr = world.gitlab.seedMergeRequest({
      projectId: QUORUM_PROJECT.id,
      projectPath: QUORUM_PROJECT.path,
      iid,
      title: `Quorum ${iid}`,
    });
    const opened = await world.postGitLab(
      buildMergeRequestHook(mr, { action: 'open', actor: { username: 'alice' }, baseUrl: world.gitlab.url }),
    );
    const { executionArn } = (await opened.json()) as { executionArn: string };
    const approval = await world.pendingApproval(executionArn);
    const clicks: Array<Promise<Response>> = [];
    for (const who of ['bob', 'carol']) {
      for (let k = 0; k < 3; k++) {
        clicks.push(world.decide(approval.approvalId, who));
        clicks.push(
          world.postLark(
            cardActionEvent({
              token: LARK.verificationToken,
              openId: OPEN_IDS[who] as string,
              value: { approvalId: approval.approvalId, decision: 'approve' },
            }),
          ),
        );
      }
    }
    const responses = await Promise.all(clicks);
    tried += responses.length;
    fiveXX += responses.filter((r) => r.status >= 500).length;
    await world.ended(executionArn);
    const decided = (await (
      await fetch(`${world.runtime.app}/console/api/approvals/${approval.approvalId}`, {
        headers: world.auth(),
      })
    ).json()) as { approval: { status: string; votes: Array<{ user: string }> } };
    const final = decided.approval;
    const voters = final.votes.map((v) => v.user).sort();
    const mergeCalls = merges(world, QUORUM_PROJECT.id, iid);
    // Effects: approved, bob's vote, carol's vote, one merge.
    effects +=
      (final.status === 'approved' ? 1 : 0) +
      (voters.includes('bob') ? 1 : 0) +
      (voters.includes('carol') ? 1 : 0) +
      Math.min(1, mergeCalls);
    duplicated += Math.max(0, voters.length - 2) + Math.max(0, mergeCalls - 1);
  }
  const result = row(
    'duplicates: quorum of two, both votes racing (×3 each, console and Lark)',
    tried,
    count * 4,
    effects,
    fiveXX,
    'effect = approved + 2 votes + 1 merge',
  );
  return { ...result, duplicated: result.duplicated + duplicated };
}
