import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DescribeExecutionCommand, SFNClient } from '@aws-sdk/client-sfn';
import { afterAll, describe, expect, it } from 'vitest';
import type { Approval } from '../../core/approvals/types.ts';
import { buildMergeRequestHook, type GitLabFake, startGitLabFake } from '../fakes/gitlab.ts';
import { eventually, json, postGitLab, WEBHOOK_TOKEN } from '../support/runtime.ts';

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => resolve(port));
    });
    server.once('error', reject);
  });
}

const children: ChildProcess[] = [];
const cleanups: Array<() => Promise<void> | void> = [];
afterAll(async () => {
  for (const child of children) child.kill('SIGKILL');
  for (const cleanup of cleanups) await cleanup();
});

/** `npm start`'s entry point as a child process: the real server, as a user runs it. */
function startChild(env: Record<string, string>): ChildProcess {
  const child = spawn(process.execPath, ['--import', 'tsx', 'local/start.ts'], {
    cwd: process.cwd(),
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  children.push(child);
  return child;
}

async function healthy(url: string): Promise<void> {
  await eventually(
    async () => {
      try {
        return (await fetch(`${url}/healthz`)).ok;
      } catch {
        return false;
      }
    },
    'the runtime to answer /healthz',
    60_000,
  );
}

describe('crash safety of the embedded runtime', () => {
  it('keeps a paused execution across kill -9: it completes once when decided after the restart', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'signoff-crash-'));
    cleanups.push(() => rmSync(dataDir, { recursive: true, force: true }));
    const gitlab: GitLabFake = await startGitLabFake();
    cleanups.push(() => gitlab.close());
    const ports = { app: await freePort(), sfn: await freePort(), dynamo: await freePort() };
    const env = {
      SIGNOFF_DATA_DIR: dataDir,
      SIGNOFF_PORT: String(ports.app),
      SIGNOFF_SFN_PORT: String(ports.sfn),
      SIGNOFF_DYNAMODB_PORT: String(ports.dynamo),
      GITLAB_URL: gitlab.url,
      GITLAB_TOKEN: gitlab.token,
      GITLAB_WEBHOOK_TOKEN: WEBHOOK_TOKEN,
      SIGNOFF_LOG_LEVEL: 'ERROR',
    };
    const app = `http://127.0.0.1:${ports.app}`;
    const sfn = new SFNClient({
      region: 'us-east-1',
      endpoint: `http://127.0.0.1:${ports.sfn}`,
      credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
    });
    cleanups.push(() => sfn.destroy());

    let child = startChild(env);
    await healthy(app);
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

    child.kill('SIGKILL');
    await new Promise((resolve) => child.once('exit', resolve));

    child = startChild(env);
    await healthy(app);
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
    // One approval card for the execution: the restart did not request a second one.
    const all = await json<{ approvals: Approval[] }>(
      await fetch(`${app}/console/api/approvals?status=approved`),
    );
    expect(all.approvals.filter((a) => a.executionArn === executionArn)).toHaveLength(1);
    child.kill('SIGTERM');
  }, 120_000);
});
