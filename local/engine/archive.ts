import { existsSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
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

  constructor(engineDir: string) {
    this.dir = join(engineDir, 'history');
  }

  has(exec: Execution): boolean {
    return existsSync(this.path(exec));
  }

  remove(exec: Execution): void {
    rmSync(this.path(exec), { force: true });
  }

  /** Writes a closed execution's history to its file; memory and the journal keep its skeleton. */
  archive(exec: Execution): void {
    if (exec.archived || exec.status === 'RUNNING') return;
    const path = this.path(exec);
    mkdirSync(this.dir, { recursive: true, mode: 0o700 });
    writeFileSync(`${path}.tmp`, JSON.stringify(exec.events), { mode: 0o600 });
    renameSync(`${path}.tmp`, path);
    this.markArchived(exec);
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
