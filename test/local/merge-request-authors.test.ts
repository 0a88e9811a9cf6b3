import { DescribeExecutionCommand } from '@aws-sdk/client-sfn';
import { afterEach, describe, expect, it } from 'vitest';
import type { Approval } from '../../core/approvals/types.ts';
import { type Config, DEFAULT_CONFIG_INPUT, parseConfig } from '../../core/config.ts';
import { buildMergeRequestHook, type FakeCommit, type FakeUser, randomSha } from '../../local/demo/gitlab.ts';
import {
  decideAs as decide,
  finalOutcome,
  finalStatus,
  json,
  pendingFor,
  postGitLab,
  startTestRuntime,
  type TestRuntime,
} from '../support/runtime.ts';

let runtime: TestRuntime | undefined;
afterEach(async () => {
  await runtime?.stop();
  runtime = undefined;
});

const carol: FakeUser = { id: 31, username: 'carol', name: 'Carol', email: 'carol@example.com' };
const carolGit = { name: 'Carol', email: 'carol@example.com' };
// Git keeps whatever case the author typed; users are matched case-insensitively.
const bob = { name: 'Bob', email: 'Bob@Example.com' };

/** Alice, Bob, Carol and Dave with GitLab usernames and commit emails; Bob, Carol and Dave approve merge requests. */
function teamConfig(mergeRequest: Record<string, unknown> = {}): Config {
  const input = structuredClone(DEFAULT_CONFIG_INPUT) as {
    users: Record<string, Record<string, unknown>>;
    policies: Record<string, Record<string, unknown>>;
  };
  input.users = {
    alice: { name: 'Alice', gitlab: 'alice', email: 'alice@example.com' },
    bob: { name: 'Bob', gitlab: 'bob', email: 'bob@example.com' },
    carol: { name: 'Carol', gitlab: 'carol', email: 'carol@example.com' },
    dave: { name: 'Dave', gitlab: 'dave', email: 'dave@example.com' },
  };
  input.policies['merge-request'] = { approvers: ['bob', 'carol', 'dave'], required: 1, ...mergeRequest };
  return parseConfig(input);
}

function commit(sha: string, author: { name: string; email: string }): FakeCommit {
  return {
    id: sha,
    message: `Commit ${sha.slice(0, 8)}`,
    authorName: author.name,
    authorEmail: author.email,
    committerName: author.name,
    committerEmail: author.email,
    createdAt: new Date().toISOString(),
    parentIds: [],
  };
}

/** Carol's merge request !iid in platform/app, whose commits are `commits` (newest first), opened by Carol. */
async function carolOpens(rt: TestRuntime, iid: number, commits?: FakeCommit[]) {
  const mr = rt.gitlab.seedMergeRequest({
    projectId: 7,
    projectPath: 'platform/app',
    iid,
    title: `Carol's change ${iid}`,
    author: carol,
    ...(commits ? { commits } : {}),
  });
  const hook = buildMergeRequestHook(mr, { action: 'open', actor: carol, baseUrl: rt.gitlab.url });
  const { executionArn } = await json<{ executionArn: string }>(await postGitLab(rt.urls.app, hook));
  return { mr, executionArn };
}

/** A push to !iid by GitLab user `pusher`, of one commit whose git author is `author`; its webhook delivered. */
async function push(
  rt: TestRuntime,
  iid: number,
  pusher: { username: string; name: string; id: number },
  author: { name: string; email: string },
) {
  const before = rt.gitlab.mergeRequest(7, iid);
  if (!before) throw new Error('no such merge request');
  const oldrev = before.sha;
  rt.gitlab.pushCommit(7, iid, randomSha(), author);
  const after = rt.gitlab.mergeRequest(7, iid);
  if (!after) throw new Error('no such merge request');
  const hook = buildMergeRequestHook(after, {
    action: 'update',
    actor: pusher,
    oldrev,
    baseUrl: rt.gitlab.url,
  });
  return json<{ executionArn: string; cancelled: string[] }>(await postGitLab(rt.urls.app, hook));
}

async function refusal(response: Response): Promise<{ status: number; code: string; message: string }> {
  const body = await json<{ error: { code: string; message: string } }>(response);
  return { status: response.status, ...body.error };
}

function field(approval: Approval, label: string): string | undefined {
  return approval.card.fields.find((f) => f.label === label)?.value;
}

async function auditOf(rt: TestRuntime, executionArn: string) {
  return json<{
    records: Array<{
      action: string;
      actor: { id: string; user?: string };
      detail?: Record<string, unknown>;
    }>;
  }>(await fetch(`${rt.urls.app}/console/api/audit?execution=${encodeURIComponent(executionArn)}`));
}

describe('four-eyes on the people who wrote a merge request', () => {
  it("Carol's merge request with Bob's commit: neither Carol nor Bob may approve, Dave may, and it merges", async () => {
    runtime = await startTestRuntime(teamConfig());
    const rt = runtime;
    const opened = await carolOpens(rt, 1);
    await pendingFor(rt, opened.executionArn);
    const pushed = await push(rt, 1, { username: 'bob', name: 'Bob', id: 32 }, bob);

    const approval = await pendingFor(rt, pushed.executionArn);
    // The requester is the author, not Bob who pushed (the webhook's actor).
    expect(approval.requester).toMatchObject({ platform: 'gitlab', id: 'carol', user: 'carol' });
    expect(approval.excluded?.map((e) => e.user)).toEqual(['carol', 'bob']);
    expect(field(approval, 'Author')).toBe('Carol (@carol)');
    expect(field(approval, 'Commit authors')).toBe('Bob, Carol');
    expect(field(approval, 'May not approve')).toBe(
      'Carol (opened this merge request); Bob (added commits to this merge request)',
    );

    expect(await refusal(await decide(rt, approval.approvalId, 'carol', 'approve'))).toEqual({
      status: 403,
      code: 'SelfApproval',
      message: 'you cannot approve your own request (four-eyes rule)',
    });
    expect(await refusal(await decide(rt, approval.approvalId, 'bob', 'approve'))).toEqual({
      status: 403,
      code: 'Excluded',
      message: 'you added commits to this merge request (four-eyes rule)',
    });
    const unchanged = await json<{ approval: Approval }>(
      await fetch(`${rt.urls.app}/console/api/approvals/${approval.approvalId}`),
    );
    expect(unchanged.approval).toMatchObject({ status: 'pending', votes: [] });

    expect((await decide(rt, approval.approvalId, 'dave', 'approve')).status).toBe(200);
    expect(await finalStatus(rt, pushed.executionArn)).toBe('SUCCEEDED');
    expect(rt.gitlab.mergeRequest(7, 1)?.state).toBe('merged');

    // The audit keeps both: who acted (Bob pushed) and whose merge request it is (Carol).
    const { records } = await auditOf(rt, pushed.executionArn);
    const requested = records.find((r) => r.action === 'execution.requested');
    expect(requested?.actor).toMatchObject({ id: 'bob', user: 'bob' });
    expect(requested?.detail).toMatchObject({ authorId: carol.id });
    const asked = records.find((r) => r.action === 'approval.requested');
    expect(asked?.actor).toMatchObject({ id: 'carol', user: 'carol' });
    expect(asked?.detail).toMatchObject({ excluded: 'carol,bob' });
  });

  it('excludes a commit author found by email though nobody but Carol opened or pushed', async () => {
    runtime = await startTestRuntime(teamConfig());
    const rt = runtime;
    const head = randomSha();
    const { executionArn } = await carolOpens(rt, 2, [commit(head, bob), commit(randomSha(), carolGit)]);
    const approval = await pendingFor(rt, executionArn);
    expect(approval.excluded).toEqual([
      { user: 'carol', name: 'Carol', because: 'opened this merge request' },
      { user: 'bob', name: 'Bob', because: 'added commits to this merge request' },
    ]);
    expect((await refusal(await decide(rt, approval.approvalId, 'bob', 'approve'))).code).toBe('Excluded');
    // Like the requester, an excluded author may still reject.
    expect((await decide(rt, approval.approvalId, 'bob', 'reject', 'not ready')).status).toBe(200);
    expect(await finalOutcome(rt, executionArn)).toEqual({
      status: 'FAILED',
      error: 'Signoff.Rejected',
      cause: 'not ready',
    });
    expect(rt.gitlab.mergeRequest(7, 2)?.state).toBe('closed');
  });

  it('excludes whoever pushed, whatever name the commit claims', async () => {
    runtime = await startTestRuntime(teamConfig());
    const rt = runtime;
    await carolOpens(rt, 3);
    const pushed = await push(
      rt,
      3,
      { username: 'bob', name: 'Bob', id: 32 },
      { name: 'Eve', email: 'eve@elsewhere.example' },
    );
    const approval = await pendingFor(rt, pushed.executionArn);
    expect(field(approval, 'Commit authors')).toBe('Eve (not a Signoff user), Carol');
    expect(approval.excluded?.map((e) => e.user)).toEqual(['carol', 'bob']);
    expect((await refusal(await decide(rt, approval.approvalId, 'bob', 'approve'))).code).toBe('Excluded');
  });

  it('lets a commit author approve when the policy turns excludeCommitAuthors off', async () => {
    runtime = await startTestRuntime(teamConfig({ excludeCommitAuthors: false }));
    const rt = runtime;
    const { executionArn } = await carolOpens(rt, 4, [
      commit(randomSha(), bob),
      commit(randomSha(), carolGit),
    ]);
    const approval = await pendingFor(rt, executionArn);
    expect(approval.requester.user).toBe('carol');
    expect(field(approval, 'May not approve')).toBe('Carol (opened this merge request)');
    expect(field(approval, 'Commit authors')).toBeUndefined();
    expect(rt.gitlab.requests.filter((r) => r.path.includes('/commits'))).toHaveLength(0);
    // The author is still the requester: four-eyes on her holds.
    expect((await refusal(await decide(rt, approval.approvalId, 'carol', 'approve'))).code).toBe(
      'SelfApproval',
    );

    expect((await decide(rt, approval.approvalId, 'bob', 'approve')).status).toBe(200);
    expect(await finalStatus(rt, executionArn)).toBe('SUCCEEDED');
    expect(rt.gitlab.mergeRequest(7, 4)?.state).toBe('merged');
  });

  it('asks nobody when the commits cannot be listed: the execution fails, nothing is merged', async () => {
    runtime = await startTestRuntime(teamConfig());
    const rt = runtime;
    rt.gitlab.failNext(1, { status: 403 }, '/commits');
    const { executionArn } = await carolOpens(rt, 5, [commit(randomSha(), bob)]);

    expect(await finalStatus(rt, executionArn)).toBe('FAILED');
    const described = await rt.sfn.send(new DescribeExecutionCommand({ executionArn }));
    expect(described.error).toBe('MergeRequestFailed');
    // A refusal (403) is not retried, and no approval was stored for anyone to click.
    expect(rt.gitlab.requests.filter((r) => r.path.includes('/merge_requests/5/commits'))).toHaveLength(1);
    const approvals = await json<{ approvals: Approval[] }>(
      await fetch(`${rt.urls.app}/console/api/approvals?status=pending`),
    );
    expect(approvals.approvals.filter((a) => a.executionArn === executionArn)).toEqual([]);
    expect(rt.gitlab.mergeRequest(7, 5)?.state).toBe('opened');
    const { records } = await auditOf(rt, executionArn);
    expect(records.map((r) => r.action)).not.toContain('approval.requested');
  });

  it('retries listing the commits while GitLab is unavailable, then asks with the exclusions', async () => {
    runtime = await startTestRuntime(teamConfig());
    const rt = runtime;
    rt.gitlab.failNext(1, { status: 503 }, '/commits');
    const { executionArn } = await carolOpens(rt, 6, [commit(randomSha(), bob)]);
    const approval = await pendingFor(rt, executionArn);
    expect(approval.excluded?.map((e) => e.user)).toEqual(['carol', 'bob']);
    expect(rt.gitlab.requests.filter((r) => r.path.includes('/merge_requests/6/commits'))).toHaveLength(2);
  });

  it('asks nobody when the listed commits are not the approved head (the branch was rewritten)', async () => {
    runtime = await startTestRuntime(teamConfig());
    const rt = runtime;
    const mr = rt.gitlab.seedMergeRequest({
      projectId: 7,
      projectPath: 'platform/app',
      iid: 7,
      author: carol,
    });
    const hook = buildMergeRequestHook(mr, { action: 'open', actor: carol, baseUrl: rt.gitlab.url });
    // A force-push replaced the head after the webhook was sent.
    const rewritten = randomSha();
    mr.commits = [commit(rewritten, carolGit)];
    mr.sha = rewritten;
    const { executionArn } = await json<{ executionArn: string }>(await postGitLab(rt.urls.app, hook));

    expect(await finalStatus(rt, executionArn)).toBe('FAILED');
    const approvals = await json<{ approvals: Approval[] }>(
      await fetch(`${rt.urls.app}/console/api/approvals?status=pending`),
    );
    expect(approvals.approvals.filter((a) => a.executionArn === executionArn)).toEqual([]);
  });
});
