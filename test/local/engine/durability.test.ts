import { type ChildProcess, spawn } from 'node:child_process';
import { appendFileSync, existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  DescribeExecutionCommand,
  GetExecutionHistoryCommand,
  SendTaskSuccessCommand,
  StartExecutionCommand,
} from '@aws-sdk/client-sfn';
import { afterEach, describe, expect, it } from 'vitest';
import {
  errorName,
  machineArn,
  removeDir,
  startEngine,
  type TestEngine,
  tempDir,
  waitFor,
} from './helpers.ts';

const EXECUTION_ARN = 'arn:aws:states:us-east-1:123456789012:execution:approval:crash-me';
const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

interface Logged {
  functionName: string;
  payload: Record<string, unknown>;
  pid?: number;
}

function readLog(file: string): Logged[] {
  if (!existsSync(file)) return [];
  return readFileSync(file, 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((line) => JSON.parse(line) as Logged);
}

/** Runs crash-child.ts until it prints `ready`, then kills it with SIGKILL and waits for it to be gone. */
async function crashChild(dataDir: string, logFile: string, mode: 'paused' | 'hang'): Promise<void> {
  const child: ChildProcess = spawn(
    process.execPath,
    ['--import', 'tsx', join(import.meta.dirname, 'crash-child.ts'), dataDir, logFile, mode],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let stderr = '';
  child.stderr?.on('data', (chunk: Buffer) => {
    stderr += chunk.toString();
  });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  await new Promise<void>((resolve, reject) => {
    child.stdout?.on('data', (chunk: Buffer) => {
      if (chunk.toString().includes('ready')) resolve();
    });
    child.once('exit', (code) => reject(new Error(`child exited early (${code}): ${stderr}`)));
  });
  child.kill('SIGKILL');
  await exited;
}

function recordingFunctions(logFile: string) {
  return async (functionName: string, payload: unknown): Promise<unknown> => {
    appendFileSync(logFile, `${JSON.stringify({ functionName, payload })}\n`);
    return { received: true };
  };
}

async function restart(dataDir: string, logFile: string): Promise<TestEngine> {
  const t = await startEngine({ dataDir, invokeFunction: recordingFunctions(logFile) });
  cleanups.push(() => t.close());
  return t;
}

describe('local engine durability across kill -9', () => {
  it('resumes a paused execution with the same token and runs nothing twice', async () => {
    const dir = tempDir();
    cleanups.push(() => removeDir(dir));
    const logFile = join(dir, 'invocations.ndjson');
    await crashChild(dir, logFile, 'paused');
    const before = readLog(logFile);
    expect(before.map((call) => call.functionName)).toEqual(['request-approval']);
    const token = String(before[0]?.payload.taskToken);

    const t = await restart(dir, logFile);
    await t.engine.idle();
    const running = await t.client.send(new DescribeExecutionCommand({ executionArn: EXECUTION_ARN }));
    expect(running.status).toBe('RUNNING');

    await t.client.send(
      new SendTaskSuccessCommand({ taskToken: token, output: JSON.stringify({ approved: true }) }),
    );
    await t.engine.idle();
    const done = await t.client.send(new DescribeExecutionCommand({ executionArn: EXECUTION_ARN }));
    expect(done.status).toBe('SUCCEEDED');
    expect(JSON.parse(done.output ?? '{}')).toMatchObject({
      decision: { approved: true },
      execution: { result: { received: true } },
    });
    const calls = readLog(logFile).map((call) => call.functionName);
    expect(calls.filter((name) => name === 'request-approval')).toHaveLength(1);
    expect(calls.filter((name) => name === 'execute-change')).toHaveLength(1);
    // $$.Execution.Input is the original input even though the run resumed mid-way.
    const execute = readLog(logFile).find((call) => call.functionName === 'execute-change');
    expect(execute?.payload.original).toEqual({ id: 'crash', timeoutSeconds: 600 });

    const history = await t.client.send(new GetExecutionHistoryCommand({ executionArn: EXECUTION_ARN }));
    const types = history.events?.map((event) => event.type) ?? [];
    expect(types.filter((type) => type === 'TaskStateEntered')).toHaveLength(2);
    expect(types.filter((type) => type === 'TaskScheduled')).toHaveLength(2);
    expect(history.events?.map((event) => event.id)).toEqual(types.map((_, i) => i + 1));
  }, 30_000);

  it('invokes the wait function again with the same token when the crash hit before it returned', async () => {
    const dir = tempDir();
    cleanups.push(() => removeDir(dir));
    const logFile = join(dir, 'invocations.ndjson');
    await crashChild(dir, logFile, 'hang');

    const t = await restart(dir, logFile);
    await t.engine.idle();
    const approvals = readLog(logFile).filter((call) => call.functionName === 'request-approval');
    expect(approvals).toHaveLength(2);
    expect(approvals[1]?.payload.taskToken).toBe(approvals[0]?.payload.taskToken);

    await t.client.send(
      new SendTaskSuccessCommand({
        taskToken: String(approvals[0]?.payload.taskToken),
        output: JSON.stringify({ approved: false }),
      }),
    );
    await t.engine.idle();
    const done = await t.client.send(new DescribeExecutionCommand({ executionArn: EXECUTION_ARN }));
    expect(done.status).toBe('FAILED');
    expect(done.error).toBe('Rejected');
  }, 30_000);
});

describe('local engine restart', () => {
  async function runToToken(t: TestEngine, name: string, timeoutSeconds: number): Promise<string> {
    await t.client.send(
      new StartExecutionCommand({
        stateMachineArn: machineArn('approval'),
        name,
        input: JSON.stringify({ id: name, timeoutSeconds }),
      }),
    );
    await t.engine.idle();
    return `arn:aws:states:us-east-1:123456789012:execution:approval:${name}`;
  }

  it('resumes after a graceful close and ignores a torn last journal line', async () => {
    const dir = tempDir();
    cleanups.push(() => removeDir(dir));
    const logFile = join(dir, 'invocations.ndjson');
    const first = await startEngine({ dataDir: dir, invokeFunction: recordingFunctions(logFile) });
    const arn = await runToToken(first, 'graceful', 600);
    await first.close();
    appendFileSync(join(dir, 'engine', 'journal.ndjson'), '{"k":"e","x":1,"e":{"id":99,"ty');

    const t = await restart(dir, logFile);
    await t.engine.idle();
    const token = String(readLog(logFile)[0]?.payload.taskToken);
    await t.client.send(new SendTaskSuccessCommand({ taskToken: token, output: '{"approved":true}' }));
    await t.engine.idle();
    expect((await t.client.send(new DescribeExecutionCommand({ executionArn: arn }))).status).toBe(
      'SUCCEEDED',
    );
    expect(readLog(logFile).map((call) => call.functionName)).toEqual(['request-approval', 'execute-change']);
    expect(
      await errorName(t.client.send(new SendTaskSuccessCommand({ taskToken: token, output: '{}' }))),
    ).toBe('TaskDoesNotExist');
  });

  /** An execution approved and run to its end in a fresh engine on `dir`, with its whole history. */
  async function approvedToTheEnd(dir: string, logFile: string, name: string) {
    const first = await startEngine({ dataDir: dir, invokeFunction: recordingFunctions(logFile) });
    const arn = await runToToken(first, name, 600);
    const token = String(readLog(logFile)[0]?.payload.taskToken);
    await first.client.send(new SendTaskSuccessCommand({ taskToken: token, output: '{"approved":true}' }));
    await first.engine.idle();
    const history = async (t: TestEngine) =>
      (await t.client.send(new GetExecutionHistoryCommand({ executionArn: arn, maxResults: 1000 }))).events ??
      [];
    const whole = await history(first);
    expect(whole.at(-1)?.type).toBe('ExecutionSucceeded');
    expect(whole.some((e) => e.type === 'TaskSucceeded' && e.taskSucceededEventDetails?.output)).toBe(true);
    return { first, arn, token, whole, history };
  }

  it("keeps a closed execution's history in its archive, whole across restarts, and only its summary in memory", async () => {
    const dir = tempDir();
    cleanups.push(() => removeDir(dir));
    const logFile = join(dir, 'invocations.ndjson');
    const { first, arn, token, whole, history } = await approvedToTheEnd(dir, logFile, 'archived');
    // The whole history is in the execution's archive file, the journal keeps a skeleton, and
    // memory only the summary (test/local/engine/engine.test.ts).
    expect(existsSync(join(dir, 'engine', 'history', '1.json'))).toBe(true);
    expect(
      await errorName(first.client.send(new SendTaskSuccessCommand({ taskToken: token, output: '{}' }))),
    ).toBe('TaskDoesNotExist');
    await first.close();

    const t = await restart(dir, logFile);
    expect(await history(t)).toEqual(whole);
    expect((await t.client.send(new DescribeExecutionCommand({ executionArn: arn }))).output).toBe(
      whole.at(-1)?.executionSucceededEventDetails?.output,
    );
    // The journal keeps only the skeleton; a late answer to the old token still gets a clear error.
    expect(readFileSync(join(dir, 'engine', 'journal.ndjson'), 'utf8')).not.toContain('"approved":true');
    expect(
      await errorName(t.client.send(new SendTaskSuccessCommand({ taskToken: token, output: '{}' }))),
    ).toBe('TaskDoesNotExist');
  });

  it('keeps a history whose archive write failed whole, in memory and across a restart, which archives it', async () => {
    const dir = tempDir();
    cleanups.push(() => removeDir(dir));
    const logFile = join(dir, 'invocations.ndjson');
    // A file where the archive directory goes: every archive write fails.
    mkdirSync(join(dir, 'engine'), { recursive: true, mode: 0o700 });
    writeFileSync(join(dir, 'engine', 'history'), 'in the way');
    const { first, whole, history } = await approvedToTheEnd(dir, logFile, 'unarchived');
    await first.close();

    rmSync(join(dir, 'engine', 'history'));
    const t = await restart(dir, logFile);
    await t.engine.idle();
    expect(await history(t)).toEqual(whole);
    expect(existsSync(join(dir, 'engine', 'history', '1.json'))).toBe(true);
  });

  it('keeps the original task deadline across a restart', async () => {
    const dir = tempDir();
    cleanups.push(() => removeDir(dir));
    const logFile = join(dir, 'invocations.ndjson');
    const first = await startEngine({ dataDir: dir, invokeFunction: recordingFunctions(logFile) });
    const arn = await runToToken(first, 'deadline', 1);
    await first.close();
    await new Promise((resolve) => setTimeout(resolve, 1100));

    const t = await restart(dir, logFile);
    const done = await waitFor(async () => {
      const described = await t.client.send(new DescribeExecutionCommand({ executionArn: arn }));
      return described.status === 'RUNNING' ? undefined : described;
    });
    expect(done).toMatchObject({ status: 'FAILED', error: 'ApprovalTimedOut' });
    expect(readLog(logFile).map((call) => call.functionName)).toEqual(['request-approval']);
    const token = String(readLog(logFile)[0]?.payload.taskToken);
    expect(
      await errorName(t.client.send(new SendTaskSuccessCommand({ taskToken: token, output: '{}' }))),
    ).toBe('TaskTimedOut');
  });

  it('refuses a data directory another live engine holds', async () => {
    const dir = tempDir();
    cleanups.push(() => removeDir(dir));
    const first = await startEngine({ dataDir: dir, invokeFunction: async () => ({}) });
    cleanups.push(() => first.close());
    await expect(startEngine({ dataDir: dir, invokeFunction: async () => ({}) })).rejects.toThrow(/in use/);
  });
});
