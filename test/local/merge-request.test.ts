import {
  DescribeExecutionCommand,
  GetExecutionHistoryCommand,
  ListExecutionsCommand,
} from '@aws-sdk/client-sfn';
import { afterEach, describe, expect, it } from 'vitest';
import type { Approval } from '../../core/approvals/types.ts';
import { buildMergeRequestHook } from '../../local/demo/gitlab.ts';
import {
  configWith,
  decideAs as decide,
  finalOutcome,
  finalStatus,
  json,
  openedMergeRequest,
  pendingFor,
  postGitLab,
  startTestRuntime,
  type TestRuntime,
} from '../support/runtime.ts';

const MACHINE = 'arn:aws:states:us-east-1:123456789012:stateMachine:signoff-merge-request';

let runtime: TestRuntime | undefined;
afterEach(async () => {
  await runtime?.stop();
  runtime = undefined;
});

function gitlabCalls(rt: TestRuntime, method: string, suffix: string) {
  return rt.gitlab.requests.filter((r) => r.method === method && r.path.split('?')[0]?.endsWith(suffix));
}

describe('merge-request workflow on the embedded runtime', () => {
  it('approves and merges at the approved head commit, once, for a webhook delivered three times', async () => {
    runtime = await startTestRuntime();
    const rt = runtime;
    const { mr, hook } = openedMergeRequest(rt.gitlab, 1);

    const responses = await Promise.all([1, 2, 3].map(() => postGitLab(rt.urls.app, hook)));
    expect(responses.map((r) => r.status)).toEqual([202, 202, 202]);
    const bodies = await Promise.all(responses.map((r) => json<{ executionArn: string }>(r)));
    const executionArn = bodies[0]?.executionArn as string;
    expect(new Set(bodies.map((b) => b.executionArn)).size).toBe(1);

    const approval = await pendingFor(rt, executionArn);
    expect(approval.card.fields).toContainEqual({ label: 'Head commit', value: mr.sha.slice(0, 12) });
    expect(JSON.stringify(approval)).not.toContain('taskToken');

    const listed = await rt.sfn.send(new ListExecutionsCommand({ stateMachineArn: MACHINE }));
    expect(listed.executions).toHaveLength(1);
    expect(listed.executions?.[0]?.status).toBe('RUNNING');

    const approved = await decide(rt, approval.approvalId, 'bob', 'approve');
    expect(approved.status).toBe(200);
    expect((await json<{ approval: Approval }>(approved)).approval.status).toBe('approved');

    expect(await finalStatus(rt, executionArn)).toBe('SUCCEEDED');
    const approves = gitlabCalls(rt, 'POST', '/merge_requests/1/approve');
    const merges = gitlabCalls(rt, 'PUT', '/merge_requests/1/merge');
    expect(approves).toHaveLength(1);
    expect(merges).toHaveLength(1);
    expect(merges[0]?.body).toMatchObject({ sha: mr.sha });
    expect(rt.gitlab.mergeRequest(7, 1)?.state).toBe('merged');

    const late = await decide(rt, approval.approvalId, 'carol', 'approve');
    expect(late.status).toBe(409);

    const history = await rt.sfn.send(new GetExecutionHistoryCommand({ executionArn }));
    const types = history.events?.map((e) => e.type) ?? [];
    expect(types).toEqual(
      expect.arrayContaining([
        'ExecutionStarted',
        'TaskScheduled',
        'TaskSubmitted',
        'TaskSucceeded',
        'ChoiceStateEntered',
        'ExecutionSucceeded',
      ]),
    );

    const audit = await json<{ records: Array<{ action: string; outcome: string; actor: { id: string } }> }>(
      await fetch(`${rt.urls.app}/console/api/audit?execution=${encodeURIComponent(executionArn)}`),
    );
    const actions = audit.records.map((r) => `${r.action}:${r.outcome}`);
    // Three deliveries of one webhook: one execution, one "requested" record.
    expect(actions.filter((a) => a === 'execution.requested:started')).toHaveLength(1);
    expect(actions).toEqual(
      expect.arrayContaining([
        'approval.requested:pending',
        'approval.vote:approve',
        'approval.decided:approved',
        'merge-request.merged:merged',
        'workflow.merged:merged',
      ]),
    );
    const notes = await json<{ notifications: Array<{ text: string }> }>(
      await fetch(`${rt.urls.app}/console/api/notifications?user=alice`),
    );
    expect(notes.notifications[0]?.text).toContain('approved by Bob and merged');
  });

  it('refuses self-approval, non-approvers and unknown ids without changing anything', async () => {
    runtime = await startTestRuntime(
      configWith({ 'merge-request': { approvers: ['alice', 'bob', 'carol'] } }),
    );
    const rt = runtime;
    const { hook } = openedMergeRequest(rt.gitlab, 2);
    const { executionArn } = await json<{ executionArn: string }>(await postGitLab(rt.urls.app, hook));
    const approval = await pendingFor(rt, executionArn);

    const self = await decide(rt, approval.approvalId, 'alice', 'approve');
    expect(self.status).toBe(403);
    expect(await json(self)).toMatchObject({ error: { code: 'SelfApproval' } });
    expect((await decide(rt, approval.approvalId, 'mallory', 'approve')).status).toBe(403);
    expect((await decide(rt, 'no-such-approval', 'bob', 'approve')).status).toBe(404);

    const after = await json<{ approval: Approval }>(
      await fetch(`${rt.urls.app}/console/api/approvals/${approval.approvalId}`),
    );
    expect(after.approval.status).toBe('pending');
    expect(after.approval.votes).toEqual([]);
    expect(gitlabCalls(rt, 'PUT', '/merge')).toHaveLength(0);
  });

  it('closes the merge request with the reason when rejected', async () => {
    runtime = await startTestRuntime();
    const rt = runtime;
    const { hook } = openedMergeRequest(rt.gitlab, 3);
    const { executionArn } = await json<{ executionArn: string }>(await postGitLab(rt.urls.app, hook));
    const approval = await pendingFor(rt, executionArn);

    expect((await decide(rt, approval.approvalId, 'carol', 'reject', 'needs a migration plan')).status).toBe(
      200,
    );
    expect(await finalOutcome(rt, executionArn)).toEqual({
      status: 'FAILED',
      error: 'Signoff.Rejected',
      cause: 'needs a migration plan',
    });
    expect(rt.gitlab.mergeRequest(7, 3)?.state).toBe('closed');
    const notes = gitlabCalls(rt, 'POST', '/merge_requests/3/notes');
    expect(notes).toHaveLength(1);
    expect(JSON.stringify(notes[0]?.body)).toContain('needs a migration plan');
    expect(gitlabCalls(rt, 'PUT', '/merge')).toHaveLength(0);
  });

  it('fails without retrying when GitLab refuses the merge for good (403)', async () => {
    runtime = await startTestRuntime();
    const rt = runtime;
    const { hook } = openedMergeRequest(rt.gitlab, 4);
    const { executionArn } = await json<{ executionArn: string }>(await postGitLab(rt.urls.app, hook));
    const approval = await pendingFor(rt, executionArn);
    const before = rt.gitlab.requests.length;
    rt.gitlab.failNext(1, { status: 403 });
    expect((await decide(rt, approval.approvalId, 'bob', 'approve')).status).toBe(200);
    expect(await finalStatus(rt, executionArn)).toBe('FAILED');
    // A refusal is not retried: the ASL retries GitLabUnavailableError (5xx, 429, timeouts), not GitLabError.
    const [refused, ...rest] = rt.gitlab.requests.slice(before);
    expect(refused).toBeDefined();
    expect(rest.filter((r) => r.method === refused?.method && r.path === refused?.path)).toHaveLength(0);
    expect(rt.gitlab.mergeRequest(7, 4)?.state).toBe('opened');
  });

  it('lets exactly one of many concurrent clicks decide, and merges once', async () => {
    runtime = await startTestRuntime();
    const rt = runtime;
    const { hook } = openedMergeRequest(rt.gitlab, 4);
    const { executionArn } = await json<{ executionArn: string }>(await postGitLab(rt.urls.app, hook));
    const approval = await pendingFor(rt, executionArn);

    const clicks = await Promise.all(
      ['bob', 'carol', 'bob', 'carol', 'bob', 'carol'].map((who) =>
        decide(rt, approval.approvalId, who, 'approve'),
      ),
    );
    const statuses = clicks.map((r) => r.status);
    expect(statuses.filter((s) => s === 200)).toHaveLength(1);
    expect(statuses.filter((s) => s === 409)).toHaveLength(5);
    expect(await finalStatus(rt, executionArn)).toBe('SUCCEEDED');
    expect(gitlabCalls(rt, 'PUT', '/merge_requests/4/merge')).toHaveLength(1);
  });

  it('needs two approvers when the policy says so', async () => {
    runtime = await startTestRuntime(configWith({ 'merge-request': { required: 2 } }));
    const rt = runtime;
    const { hook } = openedMergeRequest(rt.gitlab, 5);
    const { executionArn } = await json<{ executionArn: string }>(await postGitLab(rt.urls.app, hook));
    const approval = await pendingFor(rt, executionArn);

    const first = await json<{ outcome: string }>(await decide(rt, approval.approvalId, 'bob', 'approve'));
    expect(first.outcome).toBe('counted');
    expect((await decide(rt, approval.approvalId, 'bob', 'approve')).status).toBe(409);
    const second = await json<{ outcome: string }>(await decide(rt, approval.approvalId, 'carol', 'approve'));
    expect(second.outcome).toBe('completed');
    expect(await finalStatus(rt, executionArn)).toBe('SUCCEEDED');
    expect(rt.gitlab.mergeRequest(7, 5)?.state).toBe('merged');
  });

  it('cancels the pending approval when new commits are pushed, and asks again for the new head', async () => {
    runtime = await startTestRuntime();
    const rt = runtime;
    const { mr, hook } = openedMergeRequest(rt.gitlab, 6);
    const first = await json<{ executionArn: string }>(await postGitLab(rt.urls.app, hook));
    const oldApproval = await pendingFor(rt, first.executionArn);

    const oldSha = mr.sha;
    rt.gitlab.pushCommit(7, 6, 'b'.repeat(40));
    const pushed = rt.gitlab.mergeRequest(7, 6);
    if (!pushed) throw new Error('MR vanished');
    const update = buildMergeRequestHook(pushed, {
      action: 'update',
      actor: { username: 'alice' },
      oldrev: oldSha,
      baseUrl: rt.gitlab.url,
    });
    const response = await json<{ executionArn: string; started: boolean; cancelled: string[] }>(
      await postGitLab(rt.urls.app, update),
    );
    expect(response.cancelled).toEqual([oldApproval.approvalId]);
    expect(response.started).toBe(true);
    expect(response.executionArn).not.toBe(first.executionArn);

    expect(await finalOutcome(rt, first.executionArn)).toMatchObject({
      status: 'FAILED',
      error: 'Signoff.Cancelled',
      cause: expect.stringContaining('new commits'),
    });
    const old = await json<{ approval: Approval }>(
      await fetch(`${rt.urls.app}/console/api/approvals/${oldApproval.approvalId}`),
    );
    expect(old.approval.status).toBe('cancelled');
    expect((await decide(rt, oldApproval.approvalId, 'bob', 'approve')).status).toBe(409);

    const fresh = await pendingFor(rt, response.executionArn);
    expect(fresh.card.fields).toContainEqual({ label: 'Head commit', value: 'b'.repeat(12) });
    await decide(rt, fresh.approvalId, 'bob', 'approve');
    expect(await finalStatus(rt, response.executionArn)).toBe('SUCCEEDED');
    expect(gitlabCalls(rt, 'PUT', '/merge_requests/6/merge')[0]?.body).toMatchObject({ sha: 'b'.repeat(40) });
  });

  it('expires an approval nobody decides, and says so', async () => {
    runtime = await startTestRuntime(configWith({ 'merge-request': { timeoutSeconds: 1 } }));
    const rt = runtime;
    const { hook } = openedMergeRequest(rt.gitlab, 8);
    const { executionArn } = await json<{ executionArn: string }>(await postGitLab(rt.urls.app, hook));

    expect(await finalStatus(rt, executionArn)).toBe('FAILED');
    const described = await rt.sfn.send(new DescribeExecutionCommand({ executionArn }));
    expect(described.error).toBe('Signoff.Expired');
    const expired = await json<{ approvals: Approval[] }>(
      await fetch(`${rt.urls.app}/console/api/approvals?status=expired`),
    );
    const approval = expired.approvals.find((a) => a.executionArn === executionArn);
    expect(approval?.status).toBe('expired');
    expect((await decide(rt, approval?.approvalId ?? '', 'bob', 'approve')).status).toBe(409);
    const history = await rt.sfn.send(new GetExecutionHistoryCommand({ executionArn }));
    expect(history.events?.map((e) => e.type)).toContain('TaskTimedOut');
    expect(gitlabCalls(rt, 'PUT', '/merge')).toHaveLength(0);
  });
});
