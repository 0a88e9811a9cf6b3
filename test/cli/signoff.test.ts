import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { DescribeExecutionCommand } from '@aws-sdk/client-sfn';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runSignoff } from '../support/cli.ts';
import { eventually, startTestRuntime, type TestRuntime } from '../support/runtime.ts';

let rt: TestRuntime;
let env: Record<string, string>;

beforeAll(async () => {
  rt = await startTestRuntime();
  env = {
    AWS_ENDPOINT_URL_SFN: rt.urls.sfn,
    AWS_ENDPOINT_URL_DYNAMODB: rt.urls.dynamo,
  };
}, 60_000);

afterAll(async () => {
  await rt?.stop();
});

const cli = (...argv: string[]) => runSignoff(env, ...argv);

describe('the signoff CLI against the embedded runtime', () => {
  it('starts a merge request, lists it, shows its history, decides it, and audits it', async () => {
    const mr = rt.gitlab.seedMergeRequest({
      projectId: 9,
      projectPath: 'platform/cli',
      iid: 5,
      title: 'From the CLI',
      author: { id: 12, username: 'alice', name: 'Alice' },
    });
    const input = {
      mergeRequest: {
        projectId: 9,
        projectPath: 'platform/cli',
        projectUrl: `${rt.gitlab.url}/platform/cli`,
        iid: 5,
        title: mr.title,
        author: { username: 'alice', name: 'Alice' },
        sourceBranch: mr.sourceBranch,
        targetBranch: mr.targetBranch,
        sha: mr.sha,
        url: `${rt.gitlab.url}/platform/cli/-/merge_requests/5`,
      },
    };
    const started = await cli(
      'start',
      'merge-request',
      '--as',
      'alice',
      '--input',
      JSON.stringify(input),
      '--name',
      'cli-test-1',
    );
    expect(started.err).toBe('');
    expect(started.code).toBe(0);
    const executionArn = started.out.trim();
    expect(executionArn).toMatch(/:execution:signoff-merge-request:cli-test-1$/);

    const listed = await cli(
      'executions',
      '--kind',
      'merge-request',
      '--requester',
      'alice',
      '--format',
      'json',
    );
    expect(JSON.parse(listed.out).executions.map((e: { executionArn: string }) => e.executionArn)).toEqual([
      executionArn,
    ]);

    const pending = await eventually(async () => {
      const out = await cli('approvals', '--for', 'bob', '--format', 'json');
      return (JSON.parse(out.out).approvals as Array<{ approvalId: string; executionArn: string }>).find(
        (a) => a.executionArn === executionArn,
      );
    }, 'the approval');
    const table = await cli('approvals');
    expect(table.out).toMatch(/^ID\s+KIND\s+STATUS/);
    expect(table.out).toContain(pending.approvalId);
    expect(table.out).toContain('waiting on bob, carol');

    const paused = await cli('history', 'cli-test-1');
    expect(paused.code).toBe(0);
    expect(paused.out).toContain('RUNNING');
    expect(paused.out).toContain('RequestApproval=current');
    expect(paused.out).toMatch(/waiting on bob, carol since/);

    // Refused is an answer at run time, not a wrong command line: 1.
    const refused = await cli('decide', pending.approvalId, 'approve', '--as', 'alice');
    expect(refused.code).toBe(1);
    expect(refused.err).toMatch(/signoff: /);

    const decided = await cli('decide', pending.approvalId, 'approve', '--as', 'bob', '--comment', 'ship it');
    expect({ out: decided.out, err: decided.err }).toEqual({
      out: 'recorded: the request is approved\n',
      err: '',
    });
    await eventually(async () => {
      const out = await rt.sfn.send(new DescribeExecutionCommand({ executionArn }));
      return out.status === 'SUCCEEDED';
    }, 'the merge');
    expect(rt.gitlab.mergeRequest(9, 5)?.state).toBe('merged');

    const history = await cli('history', executionArn, '--format', 'json');
    const parsed = JSON.parse(history.out);
    expect(parsed.states.Merged).toBe('visited');
    // Task tokens appear in the history only redacted.
    const tokens = [...history.out.matchAll(/taskToken\\?"\s*:\s*\\?"([^"\\]*)/g)].map((m) => m[1]);
    expect(tokens.length).toBeGreaterThan(0);
    expect(new Set(tokens)).toEqual(new Set(['[redacted]']));

    const csv = await cli('audit', '--kind', 'merge-request', '--actor', 'bob', '--format', 'csv');
    const lines = csv.out.trim().split('\r\n');
    expect(lines[0]).toMatch(/^time,kind,execution,action,outcome,actor_platform/);
    const rows = lines.slice(1).map((l) => l.split(','));
    expect(rows.map((r) => `${r[3]}:${r[4]}`).sort()).toEqual([
      'approval.decided:approved',
      'approval.vote:approve',
    ]);
    const asJson = await cli('audit', '--execution', executionArn, '--format', 'json');
    expect(JSON.parse(asJson.out).records.map((r: { action: string }) => r.action)).toEqual(
      expect.arrayContaining(['execution.requested', 'approval.vote', 'merge-request.merged']),
    );
    const asTable = await cli(
      'audit',
      '--kind',
      'merge-request',
      '--actor',
      'bob',
      '--action',
      'approval.vote',
      '--outcome',
      'approve',
    );
    expect(asTable.out.trim().split('\n')).toHaveLength(2);
  }, 60_000);

  it('answers bad input with exit code 2 and a message, not a stack trace', async () => {
    for (const argv of [
      ['frobnicate'],
      ['audit', '--since', 'last tuesday'],
      ['audit', '--format', 'xml'],
      ['executions', '--status', 'NOPE'],
      ['start', 'deploy-everything', '--input', '{}'],
      ['start', 'merge-request', '--as', 'alice', '--input', '{"mergeRequest":{}}'],
      ['decide', 'x', 'maybe', '--as', 'bob'],
      ['watch', 'cli-test-1', '--interval', 'soon'],
      ['executions', '--cursor', 'abc'],
      ['--bogus-flag'],
    ]) {
      const result = await cli(...argv);
      expect(result.code, argv.join(' ')).toBe(2);
      expect(result.err, argv.join(' ')).toMatch(/^signoff: /);
      expect(result.err).not.toMatch(/\n\s+at /);
    }
  });

  it('runs as the npm bin (bin/signoff.js), with the environment the local runtime prints', async () => {
    const { stdout } = await promisify(execFile)(
      process.execPath,
      [join(import.meta.dirname, '..', '..', 'bin', 'signoff.js'), 'executions', '--kind', 'merge-request'],
      { env: { ...process.env, ...env } },
    );
    expect(stdout).toMatch(/^NAME\s+STATUS\s+ERROR\s+STARTED/);
    expect(stdout).toContain('cli-test-1');
  }, 30_000);
});
