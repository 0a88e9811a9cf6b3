import {
  closeSync,
  existsSync,
  fstatSync,
  fsyncSync,
  ftruncateSync,
  openSync,
  readFileSync,
  renameSync,
  rmSync,
  writeSync,
} from 'node:fs';
import { join } from 'node:path';

/** A line before the journal's last cannot be read: recovery stops rather than drop what it held. */
export class JournalCorruptError extends Error {
  override name = 'JournalCorruptError';
}

/** A journal write failed (a full disk, an I/O error): the journal has stopped taking records. */
export class JournalWriteError extends Error {
  override name = 'JournalWriteError';
}

export interface JournalOptions {
  /** `fs.writeSync` (tests pass one that fails like a full disk). */
  writeSync?: (fd: number, buffer: Buffer, offset: number) => number;
  /** Called once, when a write fails; every later `flushed()` rejects with the same error. */
  onFailure?: (error: JournalWriteError) => void;
}

/**
 * An append-only file of JSON lines. Appends are buffered and written together once per event-loop turn
 * (`writeSync` reaches the page cache, which survives kill -9), so many executions share one write.
 * A failed write stops the journal (fail closed): what it wrote of that batch is cut off, so the
 * file ends with the last whole line, and nothing is appended after it.
 */
export class Journal {
  private fd: number | undefined;
  /** Bytes of whole lines in the file: where a failed write is cut back to. */
  private size: number;
  private buffer: string[] = [];
  private waiters: Array<{ resolve: () => void; reject: (error: Error) => void }> = [];
  private scheduled = false;
  private failure: JournalWriteError | undefined;
  private readonly write: NonNullable<JournalOptions['writeSync']>;

  private constructor(
    readonly path: string,
    private readonly options: JournalOptions,
  ) {
    this.fd = openSync(path, 'a', 0o600);
    this.size = fstatSync(this.fd).size;
    this.write = options.writeSync ?? writeSync;
  }

  /**
   * Reads the journal at `dir/journal.ndjson`, then replaces it by `rewrite(records)` written to a
   * fresh file (compaction) and opens it for appending. A torn last line (a crash mid-write) is
   * dropped and counted in `torn`; any other line that is not a JSON object throws
   * JournalCorruptError naming the file and line, and leaves the file as it was.
   */
  static open<T>(
    dir: string,
    rewrite: (records: T[]) => readonly unknown[],
    options: JournalOptions = {},
  ): { journal: Journal; records: T[]; torn: number } {
    const path = join(dir, 'journal.ndjson');
    const records: T[] = [];
    let torn = 0;
    if (existsSync(path)) {
      const lines = readFileSync(path, 'utf8').split('\n');
      // A last line without its newline was cut by a crash mid-write.
      if (lines.at(-1) !== '') torn++;
      lines.slice(0, -1).forEach((line, index) => {
        if (line === '') return;
        records.push(parseLine<T>(line, path, index + 1));
      });
    }
    const kept = rewrite(records);
    const tmp = `${path}.tmp`;
    const write = options.writeSync ?? writeSync;
    const fd = openSync(tmp, 'w', 0o600);
    try {
      const chunk: string[] = [];
      for (const record of kept) {
        chunk.push(`${JSON.stringify(record)}\n`);
        if (chunk.length >= 1000) writeAll(fd, chunk.splice(0).join(''), write);
      }
      if (chunk.length > 0) writeAll(fd, chunk.join(''), write);
      fsyncSync(fd);
    } catch (cause) {
      closeSync(fd);
      rmSync(tmp, { force: true });
      throw new JournalWriteError(
        `cannot compact ${path} (${errorCode(cause)}): free disk space and start again; the journal is unchanged`,
        { cause },
      );
    }
    closeSync(fd);
    renameSync(tmp, path);
    return { journal: new Journal(path, options), records, torn };
  }

  /** The error that stopped the journal, if a write failed. */
  get failed(): JournalWriteError | undefined {
    return this.failure;
  }

  /** Queues a record; once the journal has stopped, records are dropped (`flushed()` rejects). */
  append(record: unknown): void {
    if (this.fd === undefined) return;
    this.buffer.push(`${JSON.stringify(record)}\n`);
    this.schedule();
  }

  /**
   * Resolves once everything appended so far is written. It always waits for the next turn of the
   * event loop, so work queued as microtasks (the interpreter's events) is written too. Rejects
   * with JournalWriteError once a write has failed.
   */
  flushed(): Promise<void> {
    if (this.failure) return Promise.reject(this.failure);
    return new Promise((resolve, reject) => {
      this.waiters.push({ resolve, reject });
      this.schedule();
    });
  }

  close(): void {
    this.flush();
    if (this.fd !== undefined) closeSync(this.fd);
    this.fd = undefined;
  }

  private schedule(): void {
    if (this.scheduled) return;
    this.scheduled = true;
    setImmediate(() => this.flush());
  }

  private flush(): void {
    this.scheduled = false;
    const waiters = this.waiters;
    this.waiters = [];
    if (this.buffer.length > 0 && this.fd !== undefined) {
      const data = this.buffer.join('');
      this.buffer = [];
      try {
        this.size += writeAll(this.fd, data, this.write);
      } catch (cause) {
        this.stop(this.fd, cause);
      }
    }
    this.buffer = [];
    for (const waiter of waiters) {
      if (this.failure) waiter.reject(this.failure);
      else waiter.resolve();
    }
  }

  /** Fails closed: cuts the file back to its last whole line and takes no more records. */
  private stop(fd: number, cause: unknown): void {
    let cut = true;
    try {
      ftruncateSync(fd, this.size);
    } catch {
      cut = false;
    }
    try {
      closeSync(fd);
    } catch {
      // The descriptor is gone either way; the write error is the one to report.
    }
    this.fd = undefined;
    this.failure = new JournalWriteError(
      `cannot write ${this.path} (${errorCode(cause)}): the local engine stopped taking work. ` +
        `Free disk space, then restart Signoff; it resumes from the last whole line` +
        (cut ? '' : ' (a partial last line is dropped at start)'),
      { cause },
    );
    this.options.onFailure?.(this.failure);
  }
}

function parseLine<T>(line: string, path: string, lineNumber: number): T {
  let value: unknown;
  try {
    value = JSON.parse(line);
  } catch {
    value = undefined;
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new JournalCorruptError(
      `${path} line ${lineNumber} is not a journal record, so the local engine cannot recover its executions. ` +
        `Move the file aside (mv ${path} ${path}.corrupt) to start with no executions, or repair that line`,
    );
  }
  return value as T;
}

/** Writes all of `text`; returns its length in bytes. */
function writeAll(fd: number, text: string, write: NonNullable<JournalOptions['writeSync']>): number {
  const data = Buffer.from(text);
  let offset = 0;
  while (offset < data.length) offset += write(fd, data, offset);
  return data.length;
}

function errorCode(error: unknown): string {
  return (error as NodeJS.ErrnoException).code ?? (error as Error).message ?? String(error);
}
