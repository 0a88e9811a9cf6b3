import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { StartExecutionCommand } from '@aws-sdk/client-sfn';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connectionEnv, runCli } from '../../bin/signoff.ts';
import { eventually, startTestRuntime, type TestRuntime } from '../support/runtime.ts';

const BIN = join(import.meta.dirname, '..', '..', 'bin', 'signoff.js');
let rt: TestRuntime;
const empty = mkdtempSync(join(tmpdir(), 'signoff-cli-empty-'));

beforeAll(async () => {
  rt = await startTestRuntime();
}, 60_000);

afterAll(async () => {
  await rt?.stop();
  rmSync(empty, { recursive: true, force: true });
});

/** The environment of a fresh shell: no AWS variable, no Signoff variable but the data dir. */
function shellEnv(dataDir: string): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [name, value] of Object.entries(process.env))
    if (value !== undefined && !/^(AWS_|SIGNOFF_)/.test(name)) env[name] = value;
  return { ...env, SIGNOFF_DATA_DIR: dataDir };
}

interface Run {
  code: number | null;
  out: string;
  err: string;
}

/** The real `signoff` (the npm bin) as a child process; `onOut` sees stdout as it arrives. */
function signoff(
  args: string[],
  options: { dataDir?: string; closeStdout?: boolean; onOut?: (soFar: string) => void } = {},
): Promise<Run> {
  const child = spawn(process.execPath, [BIN, ...args], {
    env: shellEnv(options.dataDir ?? rt.dataDir),
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  let err = '';
  // `signoff … | head`: the reader is gone before the CLI writes its first line.
  if (options.closeStdout) child.stdout.destroy();
  else
    child.stdout.on('data', (chunk) => {
      out += chunk;
      options.onOut?.(out);
    });
  child.stderr.on('data', (chunk) => {
    err += chunk;
  });
  return new Promise((resolve) => child.once('close', (code) => resolve({ code, out, err })));
}

function mergeRequestInput(iid: number) {
  const mr = rt.gitlab.seedMergeRequest({
    projectId: 9,
    projectPath: 'platform/cli',
    iid,
    title: `Watched ${iid}`,
    author: { id: 12, username: 'alice', name: 'Alice' },
  });
  return JSON.stringify({
    mergeRequest: {
      projectId: 9,
      projectPath: 'platform/cli',
      projectUrl: `${rt.gitlab.url}/platform/cli`,
      iid,
      title: mr.title,
      author: { username: 'alice', name: 'Alice' },
      sourceBranch: mr.sourceBranch,
      targetBranch: mr.targetBranch,
      sha: mr.sha,
      url: `${rt.gitlab.url}/platform/cli/-/merge_requests/${iid}`,
    },
  });
}

/** In-process CLI against the runtime, through its runtime.json as well. */
async function cli(...argv: string[]): Promise<Run> {
  let out = '';
  let err = '';
  const code = await runCli(argv, shellEnv(rt.dataDir), {
    out: (t) => {
      out += t;
    },
    err: (t) => {
      err += t;
    },
  });
  return { code, out, err };
}

describe('the signoff CLI as a process, finding the local runtime', () => {
  it('needs no AWS variable: runtime.json says where, and executions lists every kind by default', async () => {
    const started = await cli('start', 'merge-request', '--as', 'alice', '--input', mergeRequestInput(1));
    expect(started.err).toBe('');
    const support = await rt.sfn.send(
      new StartExecutionCommand({
        stateMachineArn: 'arn:aws:states:us-east-1:123456789012:stateMachine:signoff-support-case',
        name: 'cli-other-kind',
        input: '{}',
      }),
    );

    const listed = await signoff(['executions']);
    expect(listed.err).toBe('');
    expect(listed.code).toBe(0);
    expect(listed.out).toMatch(/^NAME\s+STATUS\s+ERROR\s+STARTED/);
    expect(listed.out).toContain(started.out.trim());
    expect(listed.out).toContain(support.executionArn);

    const one = await signoff(['executions', '--kind', 'support-case', '--format', 'json']);
    expect(JSON.parse(one.out).executions.map((e: { name: string }) => e.name)).toEqual(['cli-other-kind']);
    // A name alone finds its execution whatever its kind.
    const history = await signoff(['history', 'cli-other-kind']);
    expect(history.code).toBe(0);
    expect(history.out).toMatch(/^cli-other-kind\s/);
  }, 60_000);

  it('exits 0 with --version, 2 for a wrong command line, 1 for a failure at run time', async () => {
    const pkg = JSON.parse(readFileSync(join(import.meta.dirname, '..', '..', 'package.json'), 'utf8'));
    expect(await signoff(['--version'])).toEqual({ code: 0, out: `signoff ${pkg.version}\n`, err: '' });

    const usage = await signoff(['executions', '--status', 'NOPE']);
    expect(usage.code).toBe(2);
    expect(usage.err).toMatch(/^signoff: unknown execution status/);

    const missing = await signoff(['history', 'no-such-execution']);
    expect(missing.code).toBe(1);
    expect(missing.err).toMatch(/^signoff: no execution named "no-such-execution"/);

    // No runtime there and no AWS region: nothing to connect to, said as such.
    const nowhere = await signoff(['executions'], { dataDir: empty });
    expect(nowhere.code).toBe(1);
    expect(nowhere.err).toContain(`no local runtime is running (no ${join(empty, 'runtime.json')}`);
    expect(nowhere.err).not.toMatch(/\n\s+at /);
  }, 60_000);

  it('stops quietly when the reader of its output goes away (signoff history … | head)', async () => {
    const run = await signoff(['history', 'cli-other-kind'], { closeStdout: true });
    expect(run.err).toBe('');
    expect(run.code).toBe(0);
  }, 30_000);

  it('watch follows an execution live, printing events as they happen, until it succeeds', async () => {
    await cli(
      'start',
      'merge-request',
      '--as',
      'alice',
      '--input',
      mergeRequestInput(2),
      '--name',
      'watched',
    );
    let waiting: (() => void) | undefined;
    const paused = new Promise<void>((resolve) => {
      waiting = resolve;
    });
    const watching = signoff(['watch', 'watched', '--interval', '0.1'], {
      onOut: (soFar) => {
        if (/TaskScheduled|TaskStateEntered\s+RequestApproval/.test(soFar)) waiting?.();
      },
    });
    // Printed while the execution waits for the decision: events arrive as they happen.
    await paused;
    const pending = await eventually(async () => {
      const out = await cli('approvals', '--format', 'json');
      return (JSON.parse(out.out).approvals as Array<{ approvalId: string; executionArn: string }>).find(
        (a) => a.executionArn.endsWith(':watched'),
      );
    }, 'the approval');
    expect((await cli('decide', pending.approvalId, 'approve', '--as', 'bob')).code).toBe(0);

    const run = await watching;
    expect(run.err).toBe('');
    expect(run.code).toBe(0);
    expect(run.out).toMatch(/^watching watched \(RUNNING\)/);
    expect(run.out).toMatch(/ExecutionSucceeded/);
    expect(run.out.trim().split('\n').at(-1)).toMatch(/^watched SUCCEEDED at \d{4}-/);
    // Each event once.
    const ids = [...run.out.matchAll(/^\s*(\d+)\s{2}/gm)].map((m) => Number(m[1]));
    expect(ids).toEqual([...new Set(ids)].sort((a, b) => a - b));
  }, 60_000);

  it('uses the configuration file the runtime loaded, unless SIGNOFF_CONFIG says another', () => {
    const dir = mkdtempSync(join(tmpdir(), 'signoff-cli-conf-'));
    try {
      writeFileSync(
        join(dir, 'runtime.json'),
        JSON.stringify({
          sfn: 'http://127.0.0.1:1',
          dynamo: 'http://127.0.0.1:2',
          pid: process.pid,
          config: '/x/team.json',
        }),
      );
      const env = connectionEnv({ SIGNOFF_DATA_DIR: dir });
      expect(env).toMatchObject({
        AWS_ENDPOINT_URL_SFN: 'http://127.0.0.1:1',
        AWS_ENDPOINT_URL_DYNAMODB: 'http://127.0.0.1:2',
        SIGNOFF_CONFIG: '/x/team.json',
      });
      expect(connectionEnv({ SIGNOFF_DATA_DIR: dir, SIGNOFF_CONFIG: 'mine.json' }).SIGNOFF_CONFIG).toBe(
        'mine.json',
      );
      // A file a killed runtime left behind is not a runtime.
      writeFileSync(
        join(dir, 'runtime.json'),
        JSON.stringify({ sfn: 'http://127.0.0.1:1', dynamo: 'http://127.0.0.1:2', pid: 2 ** 22 + 7 }),
      );
      expect(() => connectionEnv({ SIGNOFF_DATA_DIR: dir })).toThrow(/no local runtime is running/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
