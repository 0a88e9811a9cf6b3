import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ListExecutionsCommand } from '@aws-sdk/client-sfn';
import type { Approval } from '../../core/approvals/types.ts';
import { buildMergeRequestHook } from '../../local/demo/gitlab.ts';
import { cardActionEvent } from '../../test/fakes/lark.ts';
import { type Part, type Row, tally } from '../report.ts';
import { waitFor } from '../runtime.ts';
import { LARK, OPEN_IDS, QUORUM_PROJECT, startWorld, type World } from '../world.ts';

const PROJECT = { id: 9, path: 'platform/reliability' };
const PRELOAD = join(import.meta.dirname, '..', 'full-disk.mjs');
const MACHINE = 'arn:aws:states:us-east-1:123456789012:stateMachine:signoff-merge-request';

/** A response as the harness judges it: its status, and whether it is the fail-closed answer. */
interface Answer {
  what: string;
  status: number;
  /** A 503 whose JSON error names the journal that cannot be written. */
  refused: boolean;
}

async function answer(what: string, response: Promise<Response>): Promise<Answer> {
  const r = await response;
  const body = (await r.json().catch(() => ({}))) as { error?: { code?: string; message?: string } };
  const refused =
    r.status === 503 &&
    body.error?.code === 'Unavailable' &&
    /cannot write .*journal\.ndjson \(ENOSPC\)/.test(body.error.message ?? '');
  return { what, status: r.status, refused };
}

async function approvalNow(world: World, approvalId: string): Promise<Approval | undefined> {
  const r = await fetch(`${world.runtime.app}/console/api/approvals/${approvalId}`, {
    headers: world.auth(),
  });
  return r.ok ? ((await r.json()) as { approval: Approval }).approval : undefined;
}

function openHook(world: World, project: { id: number; path: string }, iid: number): object {
  const mr = world.gitlab.seedMergeRequest({
    projectId: project.id,
    projectPath: project.path,
    iid,
    title: `Change ${iid}`,
  });
  return buildMergeRequestHook(mr, {
    action: 'open',
    actor: { username: 'alice' },
    baseUrl: world.gitlab.url,
  });
}

async function open(
  world: World,
  project: { id: number; path: string },
  iid: number,
): Promise<{ executionArn: string; approval: Approval; status: number }> {
  const response = await world.postGitLab(openHook(world, project, iid));
  const { executionArn } = (await response.json()) as { executionArn: string };
  return { executionArn, approval: await world.pendingApproval(executionArn), status: response.status };
}

const mergeCalls = (world: World, project: { id: number }, iid: number) =>
  world.gitlab.requests.filter(
    (r) => r.method === 'PUT' && r.path.endsWith(`/projects/${project.id}/merge_requests/${iid}/merge`),
  ).length;

/**
 * The engine's journal cannot be written (its writes go to /dev/full: ENOSPC from the kernel) on
 * a runtime of its own. Before: a quorum merge request with one of its two votes, and two more
 * waiting. The completing vote is the first write after the disk fills: recorded, its resume
 * kept in the outbox. From then on every request is refused with a 503 naming the journal
 * (console decision, Lark click, GitLab webhook, /healthz), also after the disk has room again,
 * until a restart. After the restart nothing is lost: the kept decision resumes its execution,
 * the refused requests left nothing behind, the waiting approvals are decided, the refused
 * webhook is delivered again (as GitLab's "Resend request"), each merge request merged once.
 */
export async function diskFull(): Promise<Row> {
  const dir = mkdtempSync(join(tmpdir(), 'signoff-disk-'));
  const flag = join(dir, 'full');
  const world = await startWorld({ env: { RELIABILITY_DISK_FULL: flag }, nodeArgs: ['--import', PRELOAD] });
  try {
    const answers: Answer[] = [];
    const during: Answer[] = [];
    const quorum = await open(world, QUORUM_PROJECT, 1);
    const viaConsole = await open(world, PROJECT, 2);
    const viaLark = await open(world, PROJECT, 3);
    const bobClicks = () =>
      world.postLark(
        cardActionEvent({
          token: LARK.verificationToken,
          openId: OPEN_IDS.bob as string,
          value: { approvalId: viaLark.approval.approvalId, decision: 'approve' },
        }),
      );
    answers.push(await answer('bob votes on the quorum MR', world.decide(quorum.approval.approvalId, 'bob')));

    writeFileSync(flag, '');
    const completing = await answer(
      'carol completes the quorum MR',
      world.decide(quorum.approval.approvalId, 'carol'),
    );
    answers.push(completing);
    // The journal failed on that decision's resume: from now on the runtime refuses everything.
    await waitFor(
      async () => (await fetch(`${world.runtime.app}/healthz`)).status === 503,
      'the runtime to stop taking work',
    ).catch(() => undefined);
    during.push(await answer('console decision', world.decide(viaConsole.approval.approvalId, 'bob')));
    during.push(await answer('Lark click', bobClicks()));
    const refusedHook = openHook(world, PROJECT, 4);
    during.push(await answer('GitLab webhook', world.postGitLab(refusedHook)));
    during.push(await answer('/healthz', fetch(`${world.runtime.app}/healthz`)));
    // The disk has room again: still refused until the restart (the engine stopped for good).
    rmSync(flag);
    during.push(await answer('/healthz after the disk recovered', fetch(`${world.runtime.app}/healthz`)));

    await world.runtime.kill();
    await world.runtime.restart();

    // Nothing the refused requests asked for happened; the completing vote was kept.
    const leftBehind = [
      (await approvalNow(world, viaConsole.approval.approvalId))?.votes.length ?? -1,
      (await approvalNow(world, viaLark.approval.approvalId))?.votes.length ?? -1,
    ];
    // Carol clicks again only if she was refused (nothing recorded): never when she was answered.
    if (completing.refused)
      answers.push(await answer('carol again', world.decide(quorum.approval.approvalId, 'carol')));
    answers.push(await answer('console decision again', world.decide(viaConsole.approval.approvalId, 'bob')));
    answers.push(await answer('Lark click again', bobClicks()));
    const redelivered = await world.postGitLab(refusedHook);
    answers.push({ what: 'GitLab webhook again', status: redelivered.status, refused: false });
    const again = (await redelivered.json().catch(() => ({}))) as { executionArn?: string };
    const resent = again.executionArn
      ? { executionArn: again.executionArn, approval: await world.pendingApproval(again.executionArn) }
      : undefined;
    if (resent)
      answers.push(await answer('decision on it', world.decide(resent.approval.approvalId, 'carol')));

    const runs = [quorum, viaConsole, viaLark, ...(resent ? [resent] : [])];
    const statuses = await Promise.all(runs.map((r) => world.ended(r.executionArn).catch(() => 'RUNNING')));
    const quorumAfter = await approvalNow(world, quorum.approval.approvalId);
    const audit = (await world.audit(quorum.executionArn)).map((r) => r.action);
    const executions = await world.sfn.send(
      new ListExecutionsCommand({ stateMachineArn: MACHINE, maxResults: 1000 }),
    );
    const executionsOf4 =
      executions.executions?.filter((e) => (e.name ?? '').startsWith(`mr-${PROJECT.id}-4-`)).length ?? 0;

    const parts: Part[] = [
      {
        what: 'refused with the journal error while it could not be written',
        expected: during.length,
        actual: during.filter((a) => a.refused).length,
      },
      {
        what: 'refused requests left no vote',
        expected: 2,
        actual: leftBehind.filter((n) => n === 0).length,
      },
      { what: 'quorum votes kept', expected: 2, actual: quorumAfter?.votes.length ?? 0 },
      {
        what: 'approval.vote audited',
        expected: 2,
        actual: audit.filter((a) => a === 'approval.vote').length,
      },
      {
        what: 'approval.decided audited',
        expected: 1,
        actual: audit.filter((a) => a === 'approval.decided').length,
      },
      { what: 'executions of the refused webhook', expected: 1, actual: executionsOf4 },
      { what: 'executions SUCCEEDED', expected: 4, actual: statuses.filter((s) => s === 'SUCCEEDED').length },
      ...[
        { what: 'quorum MR merged', project: QUORUM_PROJECT, iid: 1 },
        { what: 'console MR merged', project: PROJECT, iid: 2 },
        { what: 'Lark MR merged', project: PROJECT, iid: 3 },
        { what: 'refused webhook MR merged', project: PROJECT, iid: 4 },
      ].map((m) => ({ what: m.what, expected: 1, actual: mergeCalls(world, m.project, m.iid) })),
    ];
    // The fail-closed 503s are the expected answer; any other 5xx counts.
    const fiveXX = [...answers, ...during].filter((a) => a.status >= 500 && !a.refused).length;
    return tally(
      'fault: disk full under the engine journal',
      answers.length + during.length + 4,
      parts,
      fiveXX,
      `completing vote answered ${completing.status}${completing.refused ? ' (refused)' : ''}; ` +
        `${during.filter((a) => a.refused).length}/${during.length} refused with 503 + reason while full and until the restart; ` +
        `after it: ${statuses.join('/')}, quorum votes ${quorumAfter?.votes.length ?? 0} ` +
        `(effect = refusals + nothing behind them + votes + audit + one execution per MR + 4 merges)`,
    );
  } finally {
    await world.close();
    rmSync(dir, { recursive: true, force: true });
  }
}
