import { randomBytes } from 'node:crypto';
import {
  closeSync,
  fstatSync,
  linkSync,
  openSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { join } from 'node:path';

/** Lock files this process holds: a second holder in the same process is refused, not taken over. */
const held = new Set<string>();

/** The lock is held by a live process. */
export class LockedError extends Error {
  override name = 'LockedError';
}

export interface LockOptions {
  /** Completes "<what> is in use by …" in the error a live holder causes. */
  what: string;
  /** What to do about a live holder, appended to that error. */
  hint?: string;
  /** The holder's id written to the file; the process id (a test stands in for another process). */
  pid?: number;
  /** Called when a stale lock is found, before it is taken over (a test lets a rival win here). */
  onStale?: () => void;
}

interface Holder {
  pid: number;
  ino: number;
}

/**
 * Holds the lock file at `path` and returns its release. The file appears with the holder's pid
 * already in it (written to a private temporary file, then hard-linked into place, which fails
 * if the lock exists), so no one ever reads a half-written lock. A lock whose holder is gone
 * (kill -9) is taken over; of several processes taking over one stale lock, exactly one wins.
 */
export function acquireLock(path: string, options: LockOptions): () => void {
  const pid = options.pid ?? process.pid;
  const tmp = `${path}.${pid}-${randomBytes(6).toString('hex')}.tmp`;
  writeFileSync(tmp, `${pid}\n`, { mode: 0o600, flag: 'wx' });
  try {
    const ino = statSync(tmp).ino;
    for (let attempt = 0; attempt < 20; attempt++) {
      try {
        linkSync(tmp, path);
        held.add(path);
        return () => release(path, ino);
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
      }
      const holder = readHolder(path);
      if (!holder) continue;
      // Our own pid in a lock we do not hold is a leftover from an earlier process that had
      // this pid (a container's runtime is often pid 1 every time).
      const mine = holder.pid === pid && !held.has(path);
      if (!mine && isAlive(holder.pid)) {
        const hint = options.hint ? `; ${options.hint}` : '';
        throw new LockedError(`${options.what} is in use by process ${holder.pid} (lock ${path})${hint}`);
      }
      options.onStale?.();
      // Another process is taking it over: give it a moment to finish.
      if (!removeStale(path, holder, tmp, pid)) sleep(5 * (attempt + 1));
    }
    throw new Error(`could not lock ${path}: it kept changing hands`);
  } finally {
    rmSync(tmp, { force: true });
  }
}

/**
 * Removes the stale lock `holder`, unless another process is already doing so (then it returns
 * false). Removing is
 * guarded by a second file named after the stale lock's inode, created the same atomic way:
 * without it, two processes that both found the lock stale could each remove it, the second
 * one removing the fresh lock the first had just made.
 */
function removeStale(path: string, holder: Holder, tmp: string, pid: number): boolean {
  const guard = `${path}.stale-${holder.ino}`;
  try {
    linkSync(tmp, guard);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    // Another process is taking the lock over. If it died doing so, its guard goes too.
    const other = readHolder(guard);
    if (other && (other.pid === pid || !isAlive(other.pid))) rmSync(guard, { force: true });
    return false;
  }
  try {
    // Only a guard holder removes this inode, so if it is still there it is the stale lock.
    const current = readHolder(path);
    if (current && current.ino === holder.ino && current.pid === holder.pid) rmSync(path, { force: true });
  } finally {
    rmSync(guard, { force: true });
  }
  return true;
}

function sleep(ms: number): void {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}

function release(path: string, ino: number): void {
  held.delete(path);
  // Never remove a lock that is no longer ours.
  if (readHolder(path)?.ino === ino) rmSync(path, { force: true });
}

/** The pid in a lock file and the file's inode, read from one open file; undefined if it is gone. */
function readHolder(path: string): Holder | undefined {
  let fd: number;
  try {
    fd = openSync(path, 'r');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
  try {
    // An unreadable pid (an empty file left by an older Signoff) reads as 0: no one holds it.
    const pid = Number.parseInt(readFileSync(fd, 'utf8').trim(), 10);
    return { pid: Number.isInteger(pid) && pid > 0 ? pid : 0, ino: fstatSync(fd).ino };
  } finally {
    closeSync(fd);
  }
}

function isAlive(pid: number): boolean {
  if (pid <= 0) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * Holds `<dataDir>/signoff.lock` for this process: two runtimes on one data directory would
 * corrupt the embedded DynamoDB. A lock left by a killed process (kill -9) is taken over.
 */
export function lockDataDir(dataDir: string, options: Pick<LockOptions, 'pid' | 'onStale'> = {}): () => void {
  return acquireLock(join(dataDir, 'signoff.lock'), {
    what: dataDir,
    hint: 'stop that Signoff or set SIGNOFF_DATA_DIR',
    ...options,
  });
}
