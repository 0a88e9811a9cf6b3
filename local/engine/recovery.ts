import type { HistoryArchive } from './archive.ts';
import { type ArnScope, executionArn, stateMachineArn } from './definitions.ts';
import type { Executions } from './executions.ts';
import { findResumePoint } from './history.ts';
import type { JournalRecord } from './journal-records.ts';
import { applyEvent } from './recorder.ts';
import type { TokenRegistry } from './tokens.ts';
import type { EngineConfig, Execution, Machine } from './types.ts';

/** AWS keeps closed executions for 90 days; compaction drops older ones. */
const RETENTION_MS = 90 * 24 * 3600 * 1000;

/** The executions a journal describes, before any of them runs again. */
export interface Replayed {
  executions: Map<string, Execution>;
  /** The next execution number: above every number the journal used. */
  nextSeq: number;
  /** The last heartbeat of each task token, by execution. */
  heartbeats: Map<Execution, Map<string, number>>;
}

/**
 * Rebuilds the executions from the journal's records. A closed execution keeps its summary and
 * the skeleton of its history (the rest is in its archive, written now if a crash came first);
 * one closed more than 90 days ago is dropped with its archive.
 */
export function replayJournal(
  records: JournalRecord[],
  machines: Map<string, Machine>,
  scope: ArnScope,
  archive: HistoryArchive,
): Replayed {
  const replayed: Replayed = { executions: new Map(), nextSeq: 1, heartbeats: new Map() };
  const bySeq = new Map<number, Execution>();
  for (const record of records) {
    if (record.record === 'started') {
      const exec: Execution = {
        seq: record.execution,
        arn: executionArn(scope, record.stateMachine, record.name),
        name: record.name,
        machineName: record.stateMachine,
        machineArn: stateMachineArn(scope, record.stateMachine),
        machine: machines.get(stateMachineArn(scope, record.stateMachine)),
        input: record.input,
        startMs: record.startedAt,
        status: 'RUNNING',
        events: [],
        pendingTokens: new Set(),
      };
      bySeq.set(record.execution, exec);
      replayed.executions.set(exec.arn, exec);
      replayed.nextSeq = Math.max(replayed.nextSeq, record.execution + 1);
      continue;
    }
    const exec = bySeq.get(record.execution);
    if (!exec) continue;
    if (record.record === 'event') {
      exec.events.push(record.event);
      applyEvent(exec, record.event);
    } else if (record.record === 'heartbeat') {
      const beats = replayed.heartbeats.get(exec) ?? new Map<string, number>();
      beats.set(record.taskToken, record.at);
      replayed.heartbeats.set(exec, beats);
    }
  }
  const cutoff = Date.now() - RETENTION_MS;
  for (const exec of replayed.executions.values()) {
    if (exec.status === 'RUNNING') continue;
    replayed.heartbeats.delete(exec);
    if ((exec.stopMs ?? 0) < cutoff) {
      replayed.executions.delete(exec.arn);
      archive.remove(exec);
    } else if (archive.has(exec)) {
      archive.markArchived(exec);
    } else {
      archive.archive(exec);
    }
  }
  return replayed;
}

/** The journal rewritten at start: what was replayed, with one heartbeat per waiting token and no expired executions. */
export function compactedRecords(replayed: Replayed): JournalRecord[] {
  const out: JournalRecord[] = [];
  for (const exec of replayed.executions.values()) {
    out.push({
      record: 'started',
      execution: exec.seq,
      stateMachine: exec.machineName,
      name: exec.name,
      input: exec.input,
      startedAt: exec.startMs,
    });
    for (const event of exec.events) out.push({ record: 'event', execution: exec.seq, event });
    for (const [taskToken, at] of replayed.heartbeats.get(exec) ?? []) {
      out.push({ record: 'heartbeat', execution: exec.seq, taskToken, at });
    }
  }
  return out;
}

/**
 * Runs every replayed execution that was running again, from the last top-level state it entered
 * with that state's recorded input; a task waiting on a token waits on the same token again, with
 * its original deadline. Tokens of every execution are restored so late answers are refused clearly.
 */
export function resumeExecutions(
  replayed: Replayed,
  runs: Executions,
  tokens: TokenRegistry,
  config: Pick<EngineConfig, 'log'>,
): number {
  let resumed = 0;
  for (const exec of replayed.executions.values()) {
    tokens.restore(exec);
    if (exec.status !== 'RUNNING') {
      runs.release(exec);
      continue;
    }
    if (!exec.machine) {
      config.log('cannot resume execution: unknown state machine', { executionArn: exec.arn });
      continue;
    }
    const resume = findResumePoint(exec);
    const attempt = resume?.attempts.at(-1);
    if (resume && attempt?.taskToken && !attempt.outcome) {
      const entry = tokens.register(
        exec,
        attempt.taskToken,
        resume.attempts.length - 1,
        attempt.timeoutAt,
        attempt.heartbeatSeconds,
      );
      if (entry.heartbeatMs !== undefined) {
        // The process was down: give the heartbeat a full period from now (or from the last beat, if later).
        const lastBeat = replayed.heartbeats.get(exec)?.get(attempt.taskToken) ?? 0;
        tokens.armHeartbeat(entry, Math.max(lastBeat, Date.now()) + entry.heartbeatMs);
      }
    }
    runs.run(exec, resume);
    resumed++;
  }
  return resumed;
}
