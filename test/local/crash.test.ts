import { DescribeExecutionCommand, SFNClient } from '@aws-sdk/client-sfn';
import { afterAll, describe, expect, it } from 'vitest';
import type { Approval } from '../../core/approvals/types.ts';
import { type RuntimeProcess, startRuntimeProcess } from '../../reliability/runtime.ts';
import { buildMergeRequestHook, type GitLabFake, startGitLabFake } from '../fakes/gitlab.ts';
import { eventually, json, postGitLab, WEBHOOK_TOKEN } from '../support/runtime.ts';

const cleanups: Array<() => Promise<void> | void> = [];
afterAll(async () => {
  for (const cleanup of cleanups.reverse()) await cleanup();
});

describe('crash safety of the embedded runtime', () => {
  it('keeps a paused execution across kill -9: it completes once when decided after the restart', async () => {
    const gitlab: GitLabFake = await startGitLabFake();
    cleanups.push(() => gitlab.close());
    // `npm start`'s entry point as a child process: the real server, as a user runs it.
    const runtime: RuntimeProcess = await startRuntimeProcess({
      GITLAB_URL: gitlab.url,
      GITLAB_TOKEN: gitlab.token,
      GITLAB_WEBHOOK_TOKEN: WEBHOOK_TOKEN,
    });
    cleanups.push(() => runtime.stop());
    const app = runtime.app;
    const sfn = new SFNClient({
      region: 'us-east-1',
      endpoint: runtime.sfn,
      credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
    });
    cleanups.push(() => sfn.destroy());

    const mr = gitlab.seedMergeRequest({
      projectId: 3,
      projectPath: 'platform/api',
      iid: 12,
      title: 'Risky change',
    });
    const hook = buildMergeRequestHook(mr, {
      action: 'open',
      actor: { username: 'alice' },
      baseUrl: gitlab.url,
    });
    const { executionArn } = await json<{ executionArn: string }>(await postGitLab(app, hook));
    const approval = await eventually(async () => {
      const body = await json<{ approvals: Approval[] }>(
        await fetch(`${app}/console/api/approvals?status=pending`),
      );
      return body.approvals.find((a) => a.executionArn === executionArn);
    }, 'the approval');

    await runtime.kill();
    await runtime.restart();

    const paused = await sfn.send(new DescribeExecutionCommand({ executionArn }));
    expect(paused.status).toBe('RUNNING');
    // A redelivered webhook after the restart still starts nothing new.
    expect(await json(await postGitLab(app, hook))).toMatchObject({ executionArn });

    const decided = await fetch(`${app}/console/api/approvals/${approval.approvalId}/decision`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ decision: 'approve', actor: 'bob' }),
    });
    expect(decided.status).toBe(200);
    const status = await eventually(async () => {
      const out = await sfn.send(new DescribeExecutionCommand({ executionArn }));
      return out.status !== 'RUNNING' && out.status;
    }, 'the execution to end');
    expect(status).toBe('SUCCEEDED');

    const merges = gitlab.requests.filter(
      (r) => r.method === 'PUT' && r.path.endsWith('/merge_requests/12/merge'),
    );
    expect(merges).toHaveLength(1);
    expect(merges[0]?.body).toMatchObject({ sha: mr.sha });
    const pending = await json<{ approvals: Approval[] }>(
      await fetch(`${app}/console/api/approvals?status=pending`),
    );
    expect(pending.approvals).toHaveLength(0);
    // One approval for the execution: the restart did not request a second one.
    const all = await json<{ approvals: Approval[] }>(
      await fetch(`${app}/console/api/approvals?status=approved`),
    );
    expect(all.approvals.filter((a) => a.executionArn === executionArn)).toHaveLength(1);
  }, 120_000);
});
