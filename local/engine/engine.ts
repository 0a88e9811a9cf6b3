import { chmodSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { acquireLock } from '../lock.ts';
import { HistoryArchive } from './archive.ts';
import { buildMachines } from './definitions.ts';
import { SfnApiError } from './errors.ts';
import { Executions } from './executions.ts';
import type { StoredEvent } from './history.ts';
import { Journal, type JournalWriteError } from './journal.ts';
import { readRecord } from './journal-records.ts';
import { Recorder } from './recorder.ts';
import { compactedRecords, type Replayed, replayJournal, resumeExecutions } from './recovery.ts';
import type { JsonObject } from './resources.ts';
import { TaskRunner } from './task-runner.ts';
import { TokenRegistry } from './tokens.ts';
import type { EngineConfig, Execution, Machine } from './types.ts';

export type { EngineConfig, Execution, ExecutionStatus, Machine } from './types.ts';

/**
 * The executions, their tasks and tokens, and the journal that makes them survive a crash: the
 * façade over definitions.ts (machines), recovery.ts (journal replay and resume), executions.ts
 * (runs and their history), task-runner.ts (Task states) and tokens.ts (task tokens).
 */
export class Engine {
  readonly machines: Map<string, Machine>;
  readonly executions: Map<string, Execution>;
  readonly roleArn: string;
  private readonly recorder: Recorder;
  private readonly tokens: TokenRegistry;
  private readonly runs: Executions;
  private closed = false;
  /** Set when the journal could not be written: nothing more is run or recorded. */
  private failure: JournalWriteError | undefined;

  private constructor(
    readonly config: EngineConfig,
    machines: Map<string, Machine>,
    private readonly journal: Journal,
    private readonly archive: HistoryArchive,
    private readonly unlock: () => void,
  ) {
    this.machines = machines;
    this.roleArn = `arn:aws:iam::${config.accountId}:role/signoff-local-engine`;
    this.recorder = new Recorder(journal);
    this.tokens = new TokenRegistry(this.recorder);
    this.runs = new Executions({
      scope: config,
      roleArn: this.roleArn,
      recorder: this.recorder,
      tokens: this.tokens,
      tasks: new TaskRunner(this.recorder, this.tokens, config),
      archive,
    });
    this.executions = this.runs.byArn;
  }

  /** Takes the data directory's lock, replays and compacts the journal, and resumes what was running. */
  static create(config: EngineConfig): Engine {
    const dir = join(config.dataDir, 'engine');
    // The journal and history hold task tokens: only this user may read them.
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    chmodSync(dir, 0o700);
    const unlock = acquireLock(join(dir, 'LOCK'), { what: dir, hint: 'stop the engine that uses it' });
    try {
      const machines = buildMachines(config);
      const archive = new HistoryArchive(dir, config.log);
      let replayed: Replayed | undefined;
      let engine: Engine | undefined;
      const { journal, records, torn } = Journal.open<JsonObject>(
        dir,
        (raw) => {
          const records = raw.map(readRecord).filter((record) => record !== undefined);
          replayed = replayJournal(records, machines, config, archive);
          return compactedRecords(replayed);
        },
        { writeSync: config.writeSync, onFailure: (error) => engine?.fail(error) },
      );
      if (torn > 0) config.log('journal had a torn last line (a crash mid-write); it was dropped');
      engine = new Engine(config, machines, journal, archive, unlock);
      if (replayed) engine.resume(replayed, records.length);
      return engine;
    } catch (error) {
      unlock();
      throw error;
    }
  }

  private resume(replayed: Replayed, recordCount: number): void {
    this.runs.adopt(replayed.executions, replayed.nextSeq);
    const resumed = resumeExecutions(replayed, this.runs, this.tokens, this.config);
    if (recordCount > 0)
      this.config.log('engine journal recovered', { executions: this.executions.size, resumed });
  }

  /** Starts a new execution (or returns the running one with the same name and input). */
  async startExecution(machine: Machine, name: string, input: string): Promise<Execution> {
    this.assertWritable();
    const exec = this.runs.start(machine, name, input);
    await this.saved();
    return exec;
  }

  async stopExecution(exec: Execution, error: string | undefined, cause: string | undefined): Promise<void> {
    this.assertWritable();
    if (exec.status !== 'RUNNING') return;
    this.runs.stop(exec, error, cause);
    await this.saved();
  }

  /** The whole history of an execution: in memory while it runs, from its archive once closed. */
  history(exec: Execution): StoredEvent[] {
    return this.archive.history(exec);
  }

  async sendTaskSuccess(token: string, output: string): Promise<void> {
    this.assertWritable();
    this.tokens.settle(this.tokens.waiting(token), { kind: 'succeeded', output });
    await this.saved();
  }

  async sendTaskFailure(token: string, error: string, cause: string): Promise<void> {
    this.assertWritable();
    this.tokens.settle(this.tokens.waiting(token), { kind: 'failed', error, cause });
    await this.saved();
  }

  async sendTaskHeartbeat(token: string): Promise<void> {
    this.assertWritable();
    if (this.tokens.heartbeat(token)) await this.saved();
  }

  /** True when no execution is mid-transition: each has finished or waits on a token. */
  isIdle(): boolean {
    return this.runs.isIdle();
  }

  async idle(): Promise<void> {
    for (;;) {
      if (this.closed || this.failure) return;
      // Idle before the flush and still idle after it: whatever led to idleness is on disk.
      const before = this.isIdle();
      try {
        await this.journal.flushed();
      } catch {
        return;
      }
      await this.archive.settled();
      if (before && this.isIdle()) return;
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
  }

  /** Resolves when the histories of closed executions are written to their files (archive.ts). */
  archived(): Promise<void> {
    return this.archive.settled();
  }

  close(): void {
    if (this.closed) return;
    this.halt();
    this.closed = true;
    this.journal.close();
    this.unlock();
  }

  /**
   * The journal could not be written (full disk, I/O error). What the engine would do next
   * could not be recorded, so it does nothing more: runs stop where the journal ends, and every
   * call that changes state fails with the journal's error until Signoff is restarted.
   */
  private fail(error: JournalWriteError): void {
    if (this.failure) return;
    this.failure = error;
    this.config.log('engine journal write failed; the engine stopped taking work', { error: error.message });
    if (this.closed) return;
    this.halt();
    this.config.onFailure?.(error);
  }

  /** Fails a state change once the journal has failed (requests malformed in themselves were refused before). */
  private assertWritable(): void {
    if (this.failure) throw unavailable(this.failure);
  }

  /** Waits for the journal write of a state change; a failed write fails the call with its reason. */
  private async saved(): Promise<void> {
    try {
      await this.journal.flushed();
    } catch (error) {
      throw unavailable(error as Error);
    }
  }

  /** Stops every run, timer and waiting token; the journal keeps what resumes them next start. */
  private halt(): void {
    if (this.recorder.halted) return;
    this.recorder.halted = true;
    this.runs.halt();
    this.tokens.halt();
    this.runs.clear();
  }
}

function unavailable(error: Error): SfnApiError {
  return new SfnApiError('ServiceUnavailable', error.message, 503);
}
