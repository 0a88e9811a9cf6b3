import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { afterEach, describe, expect, it } from 'vitest';
import { lockDataDir } from '../../local/lock.ts';

const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'signoff-lock-'));
  cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

/** The pid of a process that has exited: what a lock left by kill -9 holds. */
async function deadPid(): Promise<number> {
  const child = spawn(process.execPath, ['-e', ''], { stdio: 'ignore' });
  await new Promise((resolve) => child.once('exit', resolve));
  return child.pid as number;
}

/** A live process that is not this one. */
function liveProcess(): number {
  const child = spawn(process.execPath, ['-e', 'setInterval(() => {}, 1000)'], { stdio: 'ignore' });
  cleanups.push(() => {
    child.kill('SIGKILL');
  });
  return child.pid as number;
}

const lockPath = (dir: string) => join(dir, 'signoff.lock');

describe('lockDataDir', () => {
  it('writes the lock with its pid already in it, mode 0600, and removes it on release', () => {
    const dir = tempDir();
    const release = lockDataDir(dir);
    expect(readFileSync(lockPath(dir), 'utf8').trim()).toBe(String(process.pid));
    expect(statSync(lockPath(dir)).mode & 0o777).toBe(0o600);
    // No temporary or guard file is left behind.
    expect(readdirSync(dir)).toEqual(['signoff.lock']);
    release();
    expect(readdirSync(dir)).toEqual([]);
  });

  it('refuses a second holder in the same process', () => {
    const dir = tempDir();
    const release = lockDataDir(dir);
    expect(() => lockDataDir(dir)).toThrow(`${dir} is in use by process ${process.pid}`);
    release();
    lockDataDir(dir)();
  });

  it('refuses a directory a live process holds, naming it, the lock and what to do', () => {
    const dir = tempDir();
    const pid = liveProcess();
    writeFileSync(lockPath(dir), `${pid}\n`);
    expect(() => lockDataDir(dir)).toThrow(
      `${dir} is in use by process ${pid} (lock ${lockPath(dir)}); stop that Signoff or set SIGNOFF_DATA_DIR`,
    );
    expect(readFileSync(lockPath(dir), 'utf8').trim()).toBe(String(pid));
  });

  it('takes over the lock of a killed process', async () => {
    const dir = tempDir();
    writeFileSync(lockPath(dir), `${await deadPid()}\n`);
    const release = lockDataDir(dir);
    expect(readFileSync(lockPath(dir), 'utf8').trim()).toBe(String(process.pid));
    release();
  });

  it('takes over an empty lock (an older Signoff killed between creating and writing it)', () => {
    const dir = tempDir();
    writeFileSync(lockPath(dir), '');
    lockDataDir(dir)();
  });

  it('takes over a lock holding its own pid that it does not hold (a restarted container reuses pids)', () => {
    const dir = tempDir();
    writeFileSync(lockPath(dir), `${process.pid}\n`);
    lockDataDir(dir)();
  });

  it('does not remove a fresh lock when a rival took the stale one over first', async () => {
    const dir = tempDir();
    writeFileSync(lockPath(dir), `${await deadPid()}\n`);
    const rival = liveProcess();
    let releaseWinner: (() => void) | undefined;
    // This process found the lock stale; before it takes it over, another one (here: a second
    // lockDataDir as this pid) takes it over and holds it. The late one must see the new holder.
    expect(() =>
      lockDataDir(dir, {
        pid: rival,
        onStale: () => {
          releaseWinner ??= lockDataDir(dir);
        },
      }),
    ).toThrow(`is in use by process ${process.pid}`);
    expect(readFileSync(lockPath(dir), 'utf8').trim()).toBe(String(process.pid));
    releaseWinner?.();
    expect(readdirSync(dir)).toEqual([]);
  });
});

interface Contender {
  child: ChildProcess;
  next(): Promise<string>;
}

function startContender(dir: string): Contender {
  const child = spawn(
    process.execPath,
    ['--import', 'tsx', join(import.meta.dirname, 'lock-child.ts'), dir],
    {
      stdio: ['pipe', 'pipe', 'inherit'],
    },
  );
  cleanups.push(() => {
    child.kill('SIGKILL');
  });
  const lines = createInterface({ input: child.stdout as NodeJS.ReadableStream })[Symbol.asyncIterator]();
  return {
    child,
    async next() {
      const { value, done } = await lines.next();
      if (done) throw new Error('the contender exited');
      return value;
    },
  };
}

describe('lockDataDir across processes', () => {
  it('lets exactly one of several processes take over a stale lock at once, round after round', async () => {
    const dir = tempDir();
    const contenders = Array.from({ length: 6 }, () => startContender(dir));
    for (const contender of contenders) expect(await contender.next()).toBe('ready');
    for (let round = 0; round < 10; round++) {
      // A lock left by a killed process, a fresh file each round.
      rmSync(lockPath(dir), { force: true });
      writeFileSync(lockPath(dir), `${await deadPid()}\n`);
      for (const contender of contenders) contender.child.stdin?.write('go\n');
      const answers = await Promise.all(contenders.map((contender) => contender.next()));
      const winners = answers.filter((answer) => answer.startsWith('locked '));
      expect(winners, answers.join('\n')).toHaveLength(1);
      const winnerPid = (winners[0] as string).slice('locked '.length);
      expect(readFileSync(lockPath(dir), 'utf8').trim()).toBe(winnerPid);
      for (const answer of answers.filter((a) => !a.startsWith('locked ')))
        expect(answer).toMatch(new RegExp(`in use .*${winnerPid}`));
      const winner = contenders[answers.indexOf(winners[0] as string)] as Contender;
      winner.child.stdin?.write('release\n');
      expect(await winner.next()).toBe('released');
      expect(readdirSync(dir)).toEqual([]);
    }
  });
});
