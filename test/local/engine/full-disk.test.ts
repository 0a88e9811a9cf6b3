import { readdirSync, readFileSync, statSync, writeFileSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import {
  DescribeExecutionCommand,
  SendTaskHeartbeatCommand,
  SendTaskSuccessCommand,
  StartExecutionCommand,
  StopExecutionCommand,
} from '@aws-sdk/client-sfn';
import { afterEach, describe, expect, it } from 'vitest';
import { fakeFunctions, machineArn, removeDir, startEngine, type TestEngine, tempDir } from './helpers.ts';

const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

/** A disk that fills up when told: the failing write gets half its bytes out first, as a real one can. */
function fillingDisk() {
  let full = false;
  return {
    fill() {
      full = true;
    },
    writeSync(fd: number, buffer: Buffer, offset: number): number {
      if (!full) return writeSync(fd, buffer, offset);
      const half = Math.floor((buffer.length - offset) / 2);
      if (half > 0) writeSync(fd, buffer, offset, half);
      throw Object.assign(new Error('ENOSPC: no space left on device, write'), { code: 'ENOSPC' });
    },
  };
}

async function failure(promise: Promise<unknown>): Promise<{ name: string; message: string }> {
  try {
    await promise;
  } catch (error) {
    return { name: (error as Error).name, message: (error as Error).message };
  }
  return { name: 'no error', message: '' };
}

async function startTo(t: TestEngine, name: string): Promise<string> {
  await t.client.send(
    new StartExecutionCommand({
      stateMachineArn: machineArn('approval'),
      name,
      input: JSON.stringify({ id: name, timeoutSeconds: 600 }),
    }),
  );
  await t.engine.idle();
  return `arn:aws:states:us-east-1:123456789012:execution:approval:${name}`;
}

describe('local engine on a full disk', () => {
  it('stops taking work with the journal error, keeps the journal whole, and resumes after a restart', async () => {
    const dir = tempDir();
    cleanups.push(() => removeDir(dir));
    const journal = join(dir, 'engine', 'journal.ndjson');
    const disk = fillingDisk();
    const functions = fakeFunctions();
    const failures: Error[] = [];
    const first = await startEngine({
      dataDir: dir,
      invokeFunction: functions.invokeFunction,
      writeSync: disk.writeSync,
      onFailure: (error) => failures.push(error),
    });
    cleanups.push(() => first.close());
    const arn = await startTo(first, 'before-full');
    const [token] = functions.tokens();
    const written = readFileSync(journal, 'utf8');

    disk.fill();
    const decided = await failure(
      first.client.send(
        new SendTaskSuccessCommand({ taskToken: String(token), output: '{"approved":true}' }),
      ),
    );
    expect(decided.name).toBe('ServiceUnavailable');
    expect(decided.message).toContain(
      `cannot write ${journal} (ENOSPC): the local engine stopped taking work`,
    );
    expect(failures).toHaveLength(1);
    // The half-written batch was cut off: the journal ends with its last whole line.
    expect(readFileSync(journal, 'utf8')).toBe(written);

    // Every state change now fails with the same reason; a malformed request is still a 4xx.
    const calls = [
      () =>
        first.client.send(
          new StartExecutionCommand({
            stateMachineArn: machineArn('approval'),
            name: 'after-full',
            input: '{}',
          }),
        ),
      () => first.client.send(new SendTaskSuccessCommand({ taskToken: String(token), output: '{}' })),
      () => first.client.send(new SendTaskHeartbeatCommand({ taskToken: String(token) })),
      () => first.client.send(new StopExecutionCommand({ executionArn: arn })),
    ];
    for (const call of calls)
      expect(await failure(call())).toMatchObject({ name: 'ServiceUnavailable', message: decided.message });
    const malformed = first.client.send(
      new SendTaskSuccessCommand({ taskToken: 'x'.repeat(3000), output: '{}' }),
    );
    expect(await failure(malformed)).toMatchObject({ name: 'InvalidToken' });
    expect(readFileSync(journal, 'utf8')).toBe(written);
    await first.engine.idle();
    await first.close();

    // With space back, a restart resumes from the journal: the decision is made again and counts.
    const second = await startEngine({ dataDir: dir, invokeFunction: functions.invokeFunction });
    cleanups.push(() => second.close());
    await second.engine.idle();
    expect((await second.client.send(new DescribeExecutionCommand({ executionArn: arn }))).status).toBe(
      'RUNNING',
    );
    await second.client.send(
      new SendTaskSuccessCommand({ taskToken: String(token), output: '{"approved":true}' }),
    );
    await second.engine.idle();
    expect((await second.client.send(new DescribeExecutionCommand({ executionArn: arn }))).status).toBe(
      'SUCCEEDED',
    );
  });
});

describe('local engine journal at start', () => {
  it('refuses to start on a corrupt line in the middle, naming the file and line, and releases its lock', async () => {
    const dir = tempDir();
    cleanups.push(() => removeDir(dir));
    const functions = fakeFunctions();
    const first = await startEngine({ dataDir: dir, invokeFunction: functions.invokeFunction });
    await startTo(first, 'one');
    await startTo(first, 'two');
    await first.close();
    const journal = join(dir, 'engine', 'journal.ndjson');
    const lines = readFileSync(journal, 'utf8').split('\n');
    lines[2] = `${lines[2]?.slice(0, 20)}`;
    writeFileSync(journal, lines.join('\n'));

    const error = await failure(startEngine({ dataDir: dir, invokeFunction: functions.invokeFunction }));
    expect(error.name).toBe('JournalCorruptError');
    expect(error.message).toContain(`${journal} line 3 is not a journal record`);
    expect(error.message).toContain('Move the file aside');
    expect(readdirSync(join(dir, 'engine'))).not.toContain('LOCK');
  });

  it('keeps its directory 0700 and its journal, history and lock 0600', async () => {
    const dir = tempDir();
    cleanups.push(() => removeDir(dir));
    const functions = fakeFunctions();
    const t = await startEngine({ dataDir: dir, invokeFunction: functions.invokeFunction });
    cleanups.push(() => t.close());
    await startTo(t, 'modes');
    const [token] = functions.tokens();
    await t.client.send(
      new SendTaskSuccessCommand({ taskToken: String(token), output: '{"approved":false}' }),
    );
    await t.engine.idle();
    const engineDir = join(dir, 'engine');
    expect(readdirSync(engineDir).sort()).toEqual(['LOCK', 'history', 'journal.ndjson']);
    expect(readdirSync(join(engineDir, 'history'))).toEqual(['1.json']);
    for (const path of [engineDir, join(engineDir, 'history')])
      expect(statSync(path).mode & 0o777).toBe(0o700);
    for (const path of [
      join(engineDir, 'LOCK'),
      join(engineDir, 'journal.ndjson'),
      join(engineDir, 'history', '1.json'),
    ])
      expect(statSync(path).mode & 0o777, path).toBe(0o600);
  });
});
