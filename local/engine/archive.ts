import { existsSync, readFileSync, rmSync } from 'node:fs';
import { mkdir, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { StoredEvent } from './history.ts';
import { readEvent } from './journal-records.ts';
import { TERMINAL } from './recorder.ts';
import type { Execution } from './types.ts';

/**
 * Closed executions' histories, one file each (`history/<seq>.json`, mode 0600). A closed
 * execution's history goes to its file and leaves memory, so the engine's memory does not grow
 * with every execution it ever ran (AWS keeps closed executions 90 days; so do we, on disk).
 */
export class HistoryArchive {
  private readonly dir: string;
  /** Archive writes under way (each execution's at most once). */
  private readonly writing = new Map<Execution, Promise<void>>();
  private dirMade?: Promise<unknown>;

  constructor(
    engineDir: string,
    private readonly log: (message: string, fields?: Record<string, unknown>) => void = () => {},
  ) {
    this.dir = join(engineDir, 'history');
  }

  has(exec: Execution): boolean {
    return existsSync(this.path(exec));
  }

  remove(exec: Execution): void {
    rmSync(this.path(exec), { force: true });
  }

  /**
   * Writes a closed execution's history to its file, off the event loop (the file system calls
   * run on libuv's threads); once it is written, memory and the journal keep its skeleton. Until
   * then the history stays whole in memory and in the journal, so a crash mid-write loses
   * nothing: the next start finds no file and writes it (recovery.ts).
   */
  archive(exec: Execution): void {
    if (exec.archived || exec.status === 'RUNNING' || this.writing.has(exec)) return;
    const path = this.path(exec);
    // The history as it closed: a closed execution's events do not change.
    const text = JSON.stringify(exec.events);
    this.dirMade ??= mkdir(this.dir, { recursive: true, mode: 0o700 });
    const write = this.dirMade
      .then(() => writeFile(`${path}.tmp`, text, { mode: 0o600 }))
      .then(() => rename(`${path}.tmp`, path))
      .then(
        () => {
          this.markArchived(exec);
          // Released while the file was written (executions.ts release): nothing more to keep.
          if (!exec.live) exec.events = [];
        },
        (error: unknown) => {
          // Kept whole in memory (and so in the journal); the next start archives it.
          this.dirMade = undefined;
          this.log('history archive not written; kept in memory', { seq: exec.seq, error: String(error) });
        },
      )
      .finally(() => this.writing.delete(exec));
    this.writing.set(exec, write);
  }

  /** Resolves when every archive write started so far has finished (or failed). */
  async settled(): Promise<void> {
    while (this.writing.size > 0) await Promise.all(this.writing.values());
  }

  /** For an execution whose file is already written. */
  markArchived(exec: Execution): void {
    exec.events = skeleton(exec.events);
    exec.archived = true;
  }

  /** The whole history of an execution: in memory while it runs, from its archive once closed. */
  history(exec: Execution): StoredEvent[] {
    if (!exec.archived) return exec.events;
    let raw: unknown;
    try {
      raw = JSON.parse(readFileSync(this.path(exec), 'utf8'));
    } catch {
      // The archive was removed by hand: the summary (status, output) is all there is.
      return [];
    }
    // Files written before the journal's field names were spelled out are read as they are.
    return Array.isArray(raw) ? raw.map(readEvent) : [];
  }

  private path(exec: Execution): string {
    return join(this.dir, `${exec.seq}.json`);
  }
}

/**
 * What a closed execution keeps in memory and in the compacted journal: the token events
 * (so a late SendTask* gets TaskDoesNotExist or TaskTimedOut, not InvalidToken), without their
 * data, and the terminal event whole (status, output, error).
 */
function skeleton(events: StoredEvent[]): StoredEvent[] {
  return events.flatMap((event) => {
    if (TERMINAL[event.type]) return [event];
    const task =
      event.type === 'TaskSucceeded' || event.type === 'TaskFailed' || event.type === 'TaskTimedOut';
    const entered = event.topLevelState !== undefined && event.type.endsWith('StateEntered');
    if (!event.taskToken && !entered && !(task && event.attempt !== undefined)) return [];
    return [
      {
        id: event.id,
        type: event.type,
        timestamp: event.timestamp,
        details: {},
        ...(event.topLevelState !== undefined ? { topLevelState: event.topLevelState } : {}),
        ...(event.attempt !== undefined ? { attempt: event.attempt } : {}),
        ...(event.taskToken !== undefined ? { taskToken: event.taskToken } : {}),
      },
    ];
  });
}
