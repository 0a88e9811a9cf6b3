import { aslError } from './errors.ts';
import type { StoredEvent } from './history.ts';
import type { Journal } from './journal.ts';
import type { JournalRecord } from './journal-records.ts';
import type { JsonObject } from './resources.ts';
import { type Execution, type ExecutionStatus, type LiveRun, STOPPED } from './types.ts';

/** The events that close an execution, and the status each leaves. */
export const TERMINAL: Record<string, ExecutionStatus> = {
  ExecutionSucceeded: 'SUCCEEDED',
  ExecutionFailed: 'FAILED',
  ExecutionAborted: 'ABORTED',
  ExecutionTimedOut: 'TIMED_OUT',
};

/**
 * Writes what happens to an execution: its history in memory and the same event in the journal,
 * in one step. Once the engine halts (closed, or the journal failed) nothing is recorded any more,
 * so memory never runs ahead of the journal.
 */
export class Recorder {
  halted = false;

  constructor(private readonly journal: Journal) {}

  emit(exec: Execution, type: string, details: JsonObject, extra: Partial<StoredEvent> = {}): void {
    if (this.halted) return;
    const event: StoredEvent = {
      id: exec.events.length + 1,
      type,
      timestamp: Date.now(),
      details,
      ...extra,
    };
    exec.events.push(event);
    applyEvent(exec, event);
    this.append({ record: 'event', execution: exec.seq, event });
  }

  append(record: JournalRecord): void {
    this.journal.append(record);
  }

  /** Resolves once everything recorded so far is written (see `Journal.flushed`). */
  flushed(): Promise<void> {
    return this.journal.flushed();
  }

  /** Whether `live` is still the run of an execution that runs here. */
  isLive(exec: Execution, live: LiveRun): boolean {
    return !this.halted && !live.stopped && exec.live === live && exec.status === 'RUNNING';
  }

  assertLive(exec: Execution, live: LiveRun): void {
    if (!this.isLive(exec, live)) throw aslError(STOPPED, 'the execution is no longer running here');
  }
}

/** Applies a terminal event to the execution's summary (status, stop date, output, error). */
export function applyEvent(exec: Execution, event: StoredEvent): void {
  const status = TERMINAL[event.type];
  if (!status) return;
  exec.status = status;
  exec.stopMs = event.timestamp;
  if (typeof event.details.output === 'string') exec.output = event.details.output;
  if (typeof event.details.error === 'string') exec.error = event.details.error;
  if (typeof event.details.cause === 'string') exec.cause = event.details.cause;
}
