import { closeSync, existsSync, fsyncSync, openSync, readFileSync, renameSync, writeSync } from 'node:fs';
import { join } from 'node:path';

/**
 * An append-only file of JSON lines. Appends are buffered and written together once per event-loop turn
 * (`writeSync` reaches the page cache, which survives kill -9), so many executions share one write.
 */
export class Journal {
  private fd: number | undefined;
  private buffer: string[] = [];
  private waiters: Array<{ resolve: () => void; reject: (error: Error) => void }> = [];
  private scheduled = false;

  private constructor(readonly path: string) {
    this.fd = openSync(path, 'a');
  }

  /**
   * Reads the journal at `dir/journal.ndjson` (ignoring a torn last line), then replaces it by
   * `rewrite(records)` written to a fresh file (compaction) and opens it for appending.
   */
  static open<T>(
    dir: string,
    rewrite: (records: T[]) => T[],
  ): { journal: Journal; records: T[]; torn: number } {
    const path = join(dir, 'journal.ndjson');
    const records: T[] = [];
    let torn = 0;
    if (existsSync(path)) {
      const text = readFileSync(path, 'utf8');
      const lines = text.split('\n');
      // A line without its newline was cut by a crash mid-write.
      if (lines.at(-1) !== '') torn++;
      for (const line of lines.slice(0, -1)) {
        if (line === '') continue;
        try {
          records.push(JSON.parse(line) as T);
        } catch {
          torn++;
        }
      }
    }
    const kept = rewrite(records);
    const tmp = `${path}.tmp`;
    const fd = openSync(tmp, 'w');
    try {
      const chunk: string[] = [];
      for (const record of kept) {
        chunk.push(`${JSON.stringify(record)}\n`);
        if (chunk.length >= 1000) writeAll(fd, chunk.splice(0).join(''));
      }
      if (chunk.length > 0) writeAll(fd, chunk.join(''));
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    renameSync(tmp, path);
    return { journal: new Journal(path), records, torn };
  }

  append(record: unknown): void {
    if (this.fd === undefined) return;
    this.buffer.push(`${JSON.stringify(record)}\n`);
    this.schedule();
  }

  /**
   * Resolves once everything appended so far is written. It always waits for the next turn of the
   * event loop, so work queued as microtasks (the interpreter's events) is written too.
   */
  flushed(): Promise<void> {
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
    try {
      if (this.buffer.length > 0 && this.fd !== undefined) {
        const data = this.buffer.join('');
        this.buffer = [];
        writeAll(this.fd, data);
      }
      this.buffer = [];
      for (const waiter of waiters) waiter.resolve();
    } catch (error) {
      for (const waiter of waiters) waiter.reject(error as Error);
    }
  }
}

function writeAll(fd: number, text: string): void {
  const data = Buffer.from(text);
  let offset = 0;
  while (offset < data.length) offset += writeSync(fd, data, offset);
}
