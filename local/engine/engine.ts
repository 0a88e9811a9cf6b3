import { chmodSync, existsSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { acquireLock } from '../lock.ts';
import { aslError, SfnApiError } from './errors.ts';
import { type AttemptRecord, findResumePoint, type ResumePoint, type StoredEvent } from './history.ts';
import {
  createInterpreter,
  type Interpreter,
  type InterpreterEvent,
  type RunningDefinition,
  type RunOutcome,
} from './interpreter.ts';
import { Journal, type JournalWriteError } from './journal.ts';
import { lintDefinition } from './lint.ts';
import { isObject, type JsonObject, type TaskKind, taskKind, walkStates } from './resources.ts';
import { describeFailure, newToken, resolveSeconds } from './task-support.ts';
import { type LongTimer, setTimerAt } from './timers.ts';

export type ExecutionStatus = 'RUNNING' | 'SUCCEEDED' | 'FAILED' | 'ABORTED' | 'TIMED_OUT';

export interface EngineConfig {
  dataDir: string;
  accountId: string;
  region: string;
  stateMachines: Array<{ name: string; definition: string }>;
  invokeFunction(functionName: string, payload: unknown): Promise<unknown>;
  log(message: string, fields?: Record<string, unknown>): void;
  /** The journal's `fs.writeSync` (tests pass one that fails like a full disk). */
  writeSync?: (fd: number, buffer: Buffer, offset: number) => number;
  /** Called once if the journal cannot be written: the engine has stopped taking work. */
  onFailure?: (error: JournalWriteError) => void;
}

type JournalRecord =
  | { k: 's'; x: number; m: string; n: string; i: string; t: number }
  | { k: 'e'; x: number; e: StoredEvent }
  | { k: 'h'; x: number; tok: string; t: number };

export interface Machine {
  name: string;
  arn: string;
  definition: string;
  interpreter: Interpreter;
  /** Task states by name (top level and nested), as written. */
  tasks: Map<string, JsonObject>;
  /** Wait states with a fixed `Seconds`, for resuming a wait with the time it has left. */
  waitSeconds: Map<string, number>;
  timeoutSeconds?: number;
  createdMs: number;
}

export interface Execution {
  seq: number;
  arn: string;
  name: string;
  machineName: string;
  machineArn: string;
  machine?: Machine;
  input: string;
  startMs: number;
  status: ExecutionStatus;
  stopMs?: number;
  output?: string;
  error?: string;
  cause?: string;
  /**
   * The history while the execution runs. Once it has closed, the full history is in its archive
   * file (`history/<seq>.json`), the journal keeps what recovery needs (see `skeleton`), and
   * this is empty.
   */
  events: StoredEvent[];
  archived?: true;
  live?: LiveRun;
  deadline?: LongTimer;
  pendingTokens: Set<TokenEntry>;
}

interface CurrentState {
  name: string;
  enteredAt: number;
  rawInput: unknown;
  /** Task attempts started in this entry of the state. */
  started: number;
  /** Whether the latest attempt returned (so $$.State.RetryCount and the token refer to it). */
  afterTask: boolean;
  tokens: string[];
  replay?: AttemptRecord[];
}

interface LiveRun {
  running?: RunningDefinition;
  current: CurrentState;
  /** Tokens this run waits on whose function already returned. */
  paused: number;
  stopped: boolean;
  resume?: ResumePoint;
  firstTransition: boolean;
  skipEntered?: string;
  skipExited?: string;
  timers: Set<LongTimer>;
}

type TokenStatus = 'waiting' | 'succeeded' | 'failed' | 'timedout' | 'stopped';

interface TokenEntry {
  token: string;
  exec: Execution;
  attempt?: number;
  status: TokenStatus;
  live?: LiveRun;
  counted: boolean;
  promise?: Promise<unknown>;
  resolve?: (value: unknown) => void;
  reject?: (error: Error) => void;
  timeout?: LongTimer;
  heartbeat?: LongTimer;
  heartbeatMs?: number;
}

const TERMINAL: Record<string, ExecutionStatus> = {
  ExecutionSucceeded: 'SUCCEEDED',
  ExecutionFailed: 'FAILED',
  ExecutionAborted: 'ABORTED',
  ExecutionTimedOut: 'TIMED_OUT',
};
/** AWS keeps closed executions for 90 days; compaction drops older ones. */
const RETENTION_MS = 90 * 24 * 3600 * 1000;
const STOPPED = 'Signoff.ExecutionStopped';

/** The executions, their tasks and tokens, and the journal that makes them survive a crash. */
export class Engine {
  readonly machines = new Map<string, Machine>();
  readonly executions = new Map<string, Execution>();
  readonly roleArn: string;
  private readonly running = new Set<Execution>();
  private readonly tokens = new Map<string, TokenEntry>();
  /**
   * Tokens of closed executions and how they ended: a late SendTask* still gets
   * TaskTimedOut or TaskDoesNotExist (not InvalidToken) without the execution's run in memory.
   */
  private readonly closedTokens = new Map<string, TokenStatus>();
  private readonly dir: string;
  private journal!: Journal;
  private nextSeq = 1;
  private closed = false;
  /** Set when the journal could not be written: nothing more is run or recorded. */
  private failure: JournalWriteError | undefined;
  private halted = false;
  private unlock: () => void = () => {};

  private constructor(readonly config: EngineConfig) {
    this.dir = join(config.dataDir, 'engine');
    this.roleArn = `arn:aws:iam::${config.accountId}:role/signoff-local-engine`;
  }

  static create(config: EngineConfig): Engine {
    const engine = new Engine(config);
    // The journal and history hold task tokens: only this user may read them.
    mkdirSync(engine.dir, { recursive: true, mode: 0o700 });
    chmodSync(engine.dir, 0o700);
    engine.unlock = acquireLock(join(engine.dir, 'LOCK'), {
      what: engine.dir,
      hint: 'stop the engine that uses it',
    });
    try {
      engine.buildMachines();
      const { journal, records, torn } = Journal.open<JournalRecord>(
        engine.dir,
        (records) => {
          engine.load(records);
          return engine.compacted();
        },
        { writeSync: config.writeSync, onFailure: (error) => engine.fail(error) },
      );
      engine.journal = journal;
      if (torn > 0) config.log('journal had a torn last line (a crash mid-write); it was dropped');
      engine.recover(records.length);
    } catch (error) {
      engine.unlock();
      throw error;
    }
    return engine;
  }

  // ---------------------------------------------------------------- machines and journal

  private buildMachines(): void {
    const createdMs = Date.now();
    for (const { name, definition } of this.config.stateMachines) {
      const parsed: unknown = JSON.parse(definition);
      if (!isObject(parsed)) throw new Error(`state machine ${name}: definition is not an object`);
      let interpreter: Interpreter;
      try {
        interpreter = createInterpreter(parsed);
      } catch (error) {
        throw new Error(`state machine ${name}: ${(error as Error).message}`, { cause: error });
      }
      const problems = lintDefinition(definition);
      // Resuming after a crash relies on these rules (e.g. token waits at the top level): say so loudly.
      if (problems.length > 0)
        this.config.log('state machine definition has lint problems', { name, problems });
      const tasks = new Map<string, JsonObject>();
      const waitSeconds = new Map<string, number>();
      for (const { name: stateName, state } of walkStates(parsed)) {
        if (state.Type === 'Task') tasks.set(stateName, state);
        if (state.Type === 'Wait' && typeof state.Seconds === 'number')
          waitSeconds.set(stateName, state.Seconds);
      }
      const arn = `arn:aws:states:${this.config.region}:${this.config.accountId}:stateMachine:${name}`;
      this.machines.set(arn, {
        name,
        arn,
        definition,
        interpreter,
        tasks,
        waitSeconds,
        timeoutSeconds: typeof parsed.TimeoutSeconds === 'number' ? parsed.TimeoutSeconds : undefined,
        createdMs,
      });
    }
  }

  private machineArn(name: string): string {
    return `arn:aws:states:${this.config.region}:${this.config.accountId}:stateMachine:${name}`;
  }

  private load(records: JournalRecord[]): void {
    const bySeq = new Map<number, Execution>();
    for (const record of records) {
      if (record.k === 's') {
        const machineArn = this.machineArn(record.m);
        const exec: Execution = {
          seq: record.x,
          arn: `arn:aws:states:${this.config.region}:${this.config.accountId}:execution:${record.m}:${record.n}`,
          name: record.n,
          machineName: record.m,
          machineArn,
          machine: this.machines.get(machineArn),
          input: record.i,
          startMs: record.t,
          status: 'RUNNING',
          events: [],
          pendingTokens: new Set(),
        };
        bySeq.set(record.x, exec);
        this.executions.set(exec.arn, exec);
        this.nextSeq = Math.max(this.nextSeq, record.x + 1);
      } else if (record.k === 'e') {
        const exec = bySeq.get(record.x);
        if (!exec) continue;
        exec.events.push(record.e);
        applyEvent(exec, record.e);
      } else if (record.k === 'h') {
        const exec = bySeq.get(record.x);
        if (exec) exec.events.push({ id: 0, type: '_Heartbeat', ts: record.t, d: {}, tok: record.tok });
      }
    }
    const cutoff = Date.now() - RETENTION_MS;
    for (const exec of this.executions.values()) {
      if (exec.status === 'RUNNING') continue;
      if ((exec.stopMs ?? 0) < cutoff) {
        this.executions.delete(exec.arn);
        rmSync(this.archivePath(exec), { force: true });
      } else if (existsSync(this.archivePath(exec))) {
        exec.events = skeleton(exec.events);
        exec.archived = true;
      } else {
        this.archive(exec);
      }
    }
  }

  private archivePath(exec: Execution): string {
    return join(this.dir, 'history', `${exec.seq}.json`);
  }

  /**
   * A closed execution's history goes to its own file and leaves memory, so the engine's memory
   * does not grow with every execution it ever ran (AWS keeps closed executions 90 days; so do
   * we, on disk). The journal keeps the skeleton, and its terminal event for status and output.
   */
  private archive(exec: Execution): void {
    if (exec.archived || exec.status === 'RUNNING') return;
    const path = this.archivePath(exec);
    mkdirSync(join(this.dir, 'history'), { recursive: true, mode: 0o700 });
    writeFileSync(`${path}.tmp`, JSON.stringify(exec.events.filter((e) => e.type !== '_Heartbeat')), {
      mode: 0o600,
    });
    renameSync(`${path}.tmp`, path);
    exec.events = skeleton(exec.events);
    exec.archived = true;
  }

  /** The whole history of an execution: in memory while it runs, from its archive once closed. */
  history(exec: Execution): StoredEvent[] {
    if (!exec.archived) return exec.events;
    try {
      return JSON.parse(readFileSync(this.archivePath(exec), 'utf8')) as StoredEvent[];
    } catch {
      // The archive was removed by hand: the summary (status, output) is all there is.
      return [];
    }
  }

  /** Journal records for what was loaded: heartbeats and expired executions dropped. */
  private compacted(): JournalRecord[] {
    const out: JournalRecord[] = [];
    for (const exec of this.executions.values()) {
      out.push({ k: 's', x: exec.seq, m: exec.machineName, n: exec.name, i: exec.input, t: exec.startMs });
      const lastBeat = new Map<string, number>();
      for (const event of exec.events) {
        if (event.type === '_Heartbeat') {
          if (event.tok) lastBeat.set(event.tok, event.ts);
          continue;
        }
        out.push({ k: 'e', x: exec.seq, e: event });
      }
      if (exec.status === 'RUNNING') {
        for (const [tok, t] of lastBeat) out.push({ k: 'h', x: exec.seq, tok, t });
      }
      exec.events = exec.events.filter((event) => event.type !== '_Heartbeat');
      if (exec.status === 'RUNNING') {
        for (const [tok, t] of lastBeat) exec.events.push({ id: 0, type: '_Heartbeat', ts: t, d: {}, tok });
      }
    }
    return out;
  }

  // ---------------------------------------------------------------- recovery

  private recover(recordCount: number): void {
    let resumed = 0;
    for (const exec of this.executions.values()) {
      const beats = new Map<string, number>();
      for (const event of exec.events) {
        if (event.type === '_Heartbeat' && event.tok) beats.set(event.tok, event.ts);
      }
      exec.events = exec.events.filter((event) => event.type !== '_Heartbeat');
      // Every token ever handed out, so a late answer gets TaskDoesNotExist/TaskTimedOut, not InvalidToken.
      let attemptTokens = new Map<number, TokenEntry>();
      for (const event of exec.events) {
        if (event.top && event.type.endsWith('StateEntered')) attemptTokens = new Map();
        if (event.tok) {
          const entry: TokenEntry = {
            token: event.tok,
            exec,
            attempt: event.att,
            status: 'stopped',
            counted: false,
          };
          this.tokens.set(event.tok, entry);
          attemptTokens.set(event.att ?? -1, entry);
        }
        const entry = event.att !== undefined ? attemptTokens.get(event.att) : undefined;
        if (!entry) continue;
        if (event.type === 'TaskSucceeded') entry.status = 'succeeded';
        if (event.type === 'TaskFailed') entry.status = 'failed';
        if (event.type === 'TaskTimedOut') entry.status = 'timedout';
      }
      if (exec.status !== 'RUNNING') {
        this.release(exec);
        continue;
      }
      if (!exec.machine) {
        this.config.log('cannot resume execution: unknown state machine', { executionArn: exec.arn });
        continue;
      }
      const resume = findResumePoint(exec);
      const attempt = resume?.attempts.at(-1);
      if (resume && attempt?.tok && !attempt.outcome) {
        const entry = this.registerToken(
          exec,
          attempt.tok,
          resume.attempts.length - 1,
          attempt.to,
          attempt.hb,
        );
        if (entry.heartbeatMs !== undefined) {
          // The process was down: give the heartbeat a full period from now (or from the last beat, if later).
          const last = Math.max(beats.get(attempt.tok) ?? 0, Date.now());
          this.armHeartbeat(entry, last + entry.heartbeatMs);
        }
      }
      this.startRun(exec, resume);
      resumed++;
    }
    if (recordCount > 0)
      this.config.log('engine journal recovered', { executions: this.executions.size, resumed });
  }

  // ---------------------------------------------------------------- executions

  /** Starts a new execution (or returns the running one with the same name and input). */
  async startExecution(machine: Machine, name: string, input: string): Promise<Execution> {
    this.assertWritable();
    const arn = `arn:aws:states:${this.config.region}:${this.config.accountId}:execution:${machine.name}:${name}`;
    const existing = this.executions.get(arn);
    if (existing) {
      if (existing.status === 'RUNNING' && existing.input === input) {
        await this.saved();
        return existing;
      }
      throw new SfnApiError('ExecutionAlreadyExists', `Execution Already Exists: '${arn}'`);
    }
    const exec: Execution = {
      seq: this.nextSeq++,
      arn,
      name,
      machineName: machine.name,
      machineArn: machine.arn,
      machine,
      input,
      startMs: Date.now(),
      status: 'RUNNING',
      events: [],
      pendingTokens: new Set(),
    };
    this.executions.set(arn, exec);
    this.journal.append({ k: 's', x: exec.seq, m: machine.name, n: name, i: input, t: exec.startMs });
    this.emit(exec, 'ExecutionStarted', { input, inputDetails: { truncated: false }, roleArn: this.roleArn });
    this.startRun(exec, undefined);
    await this.saved();
    return exec;
  }

  async stopExecution(exec: Execution, error: string | undefined, cause: string | undefined): Promise<void> {
    this.assertWritable();
    if (exec.status !== 'RUNNING') return;
    this.emit(exec, 'ExecutionAborted', {
      ...(error !== undefined && { error }),
      ...(cause !== undefined && { cause }),
    });
    this.teardown(exec);
    await this.saved();
  }

  private startRun(exec: Execution, resume: ResumePoint | undefined): void {
    const machine = exec.machine;
    if (!machine) return;
    const live: LiveRun = {
      current: { name: '', enteredAt: 0, rawInput: undefined, started: 0, afterTask: false, tokens: [] },
      paused: 0,
      stopped: false,
      resume,
      firstTransition: true,
      timers: new Set(),
    };
    exec.live = live;
    this.running.add(exec);
    for (const entry of exec.pendingTokens) entry.live = live;
    if (machine.timeoutSeconds !== undefined) {
      exec.deadline = setTimerAt(exec.startMs + machine.timeoutSeconds * 1000, () =>
        this.timeOutExecution(exec),
      );
    }
    const attemptIndex = (current: CurrentState): number =>
      current.afterTask ? current.started - 1 : current.started;
    const context = {
      Execution: {
        Id: exec.arn,
        Name: exec.name,
        Input: JSON.parse(exec.input) as unknown,
        StartTime: new Date(exec.startMs).toISOString(),
        RoleArn: this.roleArn,
      },
      StateMachine: { Id: machine.arn, Name: machine.name },
      State: {
        get Name() {
          return live.current.name;
        },
        get EnteredTime() {
          return new Date(live.current.enteredAt).toISOString();
        },
        get RetryCount() {
          return Math.max(0, attemptIndex(live.current));
        },
      },
      Task: {
        get Token() {
          return tokenFor(live.current, attemptIndex(live.current));
        },
      },
    };
    const waitOverridesMs: Record<string, number> = {};
    if (resume && machine.waitSeconds.has(resume.stateName)) {
      const seconds = machine.waitSeconds.get(resume.stateName) ?? 0;
      waitOverridesMs[resume.stateName] = Math.max(0, resume.enteredAt + seconds * 1000 - Date.now());
    }
    const running = machine.interpreter.run({
      startAt: resume?.stateName,
      input: resume ? resume.input : context.Execution.Input,
      context,
      waitOverridesMs,
      onTransition: (stateName) => this.onTransition(live, stateName),
      onEvent: (event) => this.onEvent(exec, live, event),
      runTask: (stateName, resource, input) => this.runTask(exec, live, stateName, resource, input),
    });
    live.running = running;
    void running.outcome.then((outcome) => this.onOutcome(exec, live, outcome));
  }

  private onTransition(live: LiveRun, stateName: string): void {
    if (live.stopped) return;
    const resume = live.firstTransition && live.resume?.stateName === stateName ? live.resume : undefined;
    live.firstTransition = false;
    live.current = {
      name: stateName,
      enteredAt: resume ? resume.enteredAt : Date.now(),
      rawInput: resume?.input,
      started: 0,
      afterTask: false,
      tokens: [],
      replay: resume?.attempts,
    };
    if (resume) {
      live.skipEntered = stateName;
      if (resume.exited) live.skipExited = stateName;
    }
  }

  private onEvent(exec: Execution, live: LiveRun, event: InterpreterEvent): void {
    if (!this.isLive(exec, live)) return;
    if (event.kind === 'entered') {
      if (event.topLevel) {
        if (live.skipEntered === event.stateName) {
          live.skipEntered = undefined;
          return;
        }
        if (live.current.name === event.stateName) live.current.rawInput = event.input;
      }
      this.emit(
        exec,
        `${event.stateType}StateEntered`,
        { name: event.stateName, input: json(event.input), inputDetails: { truncated: false } },
        event.topLevel ? { top: event.stateName } : {},
      );
    } else if (event.kind === 'exited') {
      if (event.topLevel && live.skipExited === event.stateName) {
        live.skipExited = undefined;
        return;
      }
      this.emit(
        exec,
        `${event.stateType}StateExited`,
        { name: event.stateName, output: json(event.output), outputDetails: { truncated: false } },
        event.topLevel ? { top: event.stateName } : {},
      );
    } else {
      this.emit(exec, `MapIteration${event.phase}`, { name: event.stateName, index: event.index });
    }
  }

  private async onOutcome(exec: Execution, live: LiveRun, outcome: RunOutcome): Promise<void> {
    // Let the interpreter's last events land in the history before the terminal event.
    await this.journal.flushed().catch(() => {});
    if (!this.isLive(exec, live)) return;
    if (outcome.status === 'SUCCEEDED') {
      this.emit(exec, 'ExecutionSucceeded', {
        output: json(outcome.output),
        outputDetails: { truncated: false },
      });
    } else if (outcome.status === 'FAILED') {
      this.emit(exec, 'ExecutionFailed', { error: outcome.error, cause: outcome.cause });
    } else {
      this.emit(exec, 'ExecutionAborted', {});
    }
    live.running = undefined;
    this.teardown(exec);
  }

  private timeOutExecution(exec: Execution): void {
    if (exec.status !== 'RUNNING' || this.halted) return;
    this.emit(exec, 'ExecutionTimedOut', { error: 'States.Timeout', cause: 'The execution timed out.' });
    this.teardown(exec);
  }

  /** Stops everything still running for an execution that has closed. */
  private teardown(exec: Execution): void {
    const live = exec.live;
    exec.deadline?.clear();
    exec.deadline = undefined;
    this.running.delete(exec);
    for (const entry of [...exec.pendingTokens]) this.settleToken(entry, { kind: 'stopped' });
    if (live) {
      live.stopped = true;
      for (const timer of live.timers) timer.clear();
      live.timers.clear();
      // abort() leaves the library's task timer running until the handler settles; the handlers above just did.
      live.running?.abort();
    }
    this.archive(exec);
    this.release(exec);
  }

  /**
   * Lets go of what a closed execution no longer needs in memory: its run, its history (in the
   * archive and the journal) and its tokens' entries (their ending stays in `closedTokens`).
   * Its summary stays: status, dates, input, output, error (DescribeExecution, ListExecutions).
   */
  private release(exec: Execution): void {
    for (const event of exec.events) {
      const entry = event.tok ? this.tokens.get(event.tok) : undefined;
      if (!entry || entry.exec !== exec) continue;
      this.tokens.delete(entry.token);
      this.closedTokens.set(entry.token, entry.status);
    }
    exec.events = [];
    exec.live = undefined;
  }

  private isLive(exec: Execution, live: LiveRun): boolean {
    return !this.halted && !live.stopped && exec.live === live && exec.status === 'RUNNING';
  }

  private assertLive(exec: Execution, live: LiveRun): void {
    if (!this.isLive(exec, live)) throw aslError(STOPPED, 'the execution is no longer running here');
  }

  private emit(exec: Execution, type: string, details: JsonObject, extra: Partial<StoredEvent> = {}): void {
    // After close or a journal failure nothing is recorded, so memory never runs ahead of the journal.
    if (this.halted) return;
    const event: StoredEvent = { id: exec.events.length + 1, type, ts: Date.now(), d: details, ...extra };
    exec.events.push(event);
    applyEvent(exec, event);
    this.journal.append({ k: 'e', x: exec.seq, e: event });
  }

  // ---------------------------------------------------------------- tasks

  private async runTask(
    exec: Execution,
    live: LiveRun,
    stateName: string,
    resource: string,
    input: unknown,
  ): Promise<unknown> {
    this.assertLive(exec, live);
    const kind = taskKind(resource);
    const current = live.current;
    const topLevel =
      current.name === stateName && (exec.machine?.interpreter.topLevelStates.has(stateName) ?? false);
    const attempt = topLevel ? current.started++ : undefined;
    if (topLevel) current.afterTask = false;
    const replay = attempt !== undefined ? current.replay?.[attempt] : undefined;
    const token =
      kind === 'token' ? (attempt !== undefined ? tokenFor(current, attempt) : newToken()) : undefined;
    // Wait until the interpreter's events (this state's Entered) are in the history and on disk.
    await this.journal.flushed();
    this.assertLive(exec, live);
    const done = (result: unknown): unknown => {
      if (topLevel && live.current === current) current.afterTask = true;
      return result;
    };
    if (replay?.outcome) {
      if (replay.outcome.ok) return done(JSON.parse(replay.outcome.output));
      throw aslError(replay.outcome.error, replay.outcome.cause);
    }
    if (!kind) throw aslError('States.Runtime', `the local engine cannot run resource ${resource}`);
    const state = exec.machine?.tasks.get(stateName) ?? {};
    const timeoutSeconds = resolveSeconds(state, 'TimeoutSeconds', current.rawInput, input);
    const heartbeatSeconds = resolveSeconds(state, 'HeartbeatSeconds', current.rawInput, input);
    const timeoutAt =
      replay?.to ?? (timeoutSeconds !== undefined ? Date.now() + timeoutSeconds * 1000 : undefined);
    const task: TaskRun = {
      exec,
      live,
      kind,
      resource,
      input,
      attempt,
      replay,
      timeoutAt,
      timeoutSeconds,
      heartbeatSeconds,
    };
    if (kind === 'function') return done(await this.runFunction(task));
    if (kind === 'invoke') return done(await this.runInvoke(task));
    return done(await this.runWaitForToken(task, token ?? newToken()));
  }

  private async runFunction(task: TaskRun): Promise<unknown> {
    const { exec, live, resource, input, replay } = task;
    const extra = attemptFields(task);
    if (!replay?.scheduled) {
      this.emit(
        exec,
        'LambdaFunctionScheduled',
        {
          resource,
          input: json(input),
          inputDetails: { truncated: false },
          ...(task.timeoutSeconds !== undefined && { timeoutInSeconds: task.timeoutSeconds }),
        },
        { ...extra, ...(task.timeoutAt !== undefined && { to: task.timeoutAt }) },
      );
    }
    if (!replay?.started) this.emit(exec, 'LambdaFunctionStarted', {}, extra);
    try {
      const result = await this.invoke(live, resource, input, task.timeoutAt);
      this.assertLive(exec, live);
      this.emit(
        exec,
        'LambdaFunctionSucceeded',
        { output: json(result), outputDetails: { truncated: false } },
        extra,
      );
      await this.journal.flushed();
      return result;
    } catch (error) {
      this.assertLive(exec, live);
      if (error instanceof TaskTimeout) {
        this.emit(exec, 'LambdaFunctionTimedOut', { error: 'States.Timeout', cause: '' }, extra);
        throw aslError('States.Timeout', '');
      }
      const failure = describeFailure(error);
      this.emit(exec, 'LambdaFunctionFailed', failure, extra);
      await this.journal.flushed();
      throw aslError(failure.error, failure.cause);
    }
  }

  private async runInvoke(task: TaskRun): Promise<unknown> {
    const { exec, live, input, replay } = task;
    const base = { resourceType: 'lambda', resource: 'invoke' };
    const extra = attemptFields(task);
    if (!replay?.scheduled) {
      this.emit(exec, 'TaskScheduled', scheduledDetails(task, base, this.config.region), {
        ...extra,
        ...(task.timeoutAt !== undefined && { to: task.timeoutAt }),
      });
    }
    if (!replay?.started) this.emit(exec, 'TaskStarted', base, extra);
    try {
      const { functionName, payload } = invokeParameters(input);
      const result = await this.invoke(live, functionName, payload, task.timeoutAt);
      this.assertLive(exec, live);
      const output = { ExecutedVersion: '$LATEST', Payload: result, StatusCode: 200 };
      this.emit(
        exec,
        'TaskSucceeded',
        { ...base, output: json(output), outputDetails: { truncated: false } },
        extra,
      );
      await this.journal.flushed();
      return output;
    } catch (error) {
      this.assertLive(exec, live);
      if (error instanceof TaskTimeout) {
        this.emit(exec, 'TaskTimedOut', { ...base, error: 'States.Timeout', cause: '' }, extra);
        throw aslError('States.Timeout', '');
      }
      const failure = describeFailure(error);
      this.emit(exec, 'TaskFailed', { ...base, ...failure }, extra);
      await this.journal.flushed();
      throw aslError(failure.error, failure.cause);
    }
  }

  private async runWaitForToken(task: TaskRun, token: string): Promise<unknown> {
    const { exec, live, replay } = task;
    const base = { resourceType: 'lambda', resource: 'invoke.waitForTaskToken' };
    const extra = attemptFields(task);
    let entry = this.tokens.get(token);
    if (!entry || entry.exec !== exec) {
      entry = this.registerToken(exec, token, task.attempt, task.timeoutAt, task.heartbeatSeconds);
    }
    entry.live = live;
    if (!replay?.scheduled) {
      this.emit(exec, 'TaskScheduled', scheduledDetails(task, base, this.config.region), {
        ...extra,
        tok: token,
        ...(task.timeoutAt !== undefined && { to: task.timeoutAt }),
        ...(task.heartbeatSeconds !== undefined && { hb: task.heartbeatSeconds }),
      });
      this.emit(exec, 'TaskStarted', base, extra);
      // The token must be on disk before anyone outside can see it.
      await this.journal.flushed();
      this.assertLive(exec, live);
    }
    const waiting = entry;
    if (!replay?.submitted && waiting.status === 'waiting') {
      void this.submitForToken(task, waiting, base, extra);
    } else if (waiting.status === 'waiting' && !waiting.counted) {
      waiting.counted = true;
      live.paused++;
    }
    if (!waiting.promise) throw aslError(STOPPED, 'the task is no longer waiting');
    return waiting.promise;
  }

  /** Invokes the function of a waitForTaskToken task; its result only says the request was handed over. */
  private async submitForToken(
    task: TaskRun,
    entry: TokenEntry,
    base: JsonObject,
    extra: Partial<StoredEvent>,
  ) {
    const { exec, live } = task;
    try {
      const { functionName, payload } = invokeParameters(task.input);
      const result = await this.config.invokeFunction(functionName, payload);
      if (entry.status !== 'waiting' || !this.isLive(exec, live)) return;
      const output = { ExecutedVersion: '$LATEST', Payload: result, StatusCode: 200 };
      this.emit(
        exec,
        'TaskSubmitted',
        { ...base, output: json(output), outputDetails: { truncated: false } },
        extra,
      );
      entry.counted = true;
      live.paused++;
    } catch (error) {
      if (entry.status !== 'waiting' || !this.isLive(exec, live)) return;
      this.settleToken(entry, { kind: 'failed', ...describeFailure(error) });
    }
  }

  private invoke(
    live: LiveRun,
    functionName: string,
    payload: unknown,
    timeoutAt: number | undefined,
  ): Promise<unknown> {
    const call = Promise.resolve().then(() => this.config.invokeFunction(functionName, payload));
    call.catch(() => {});
    if (timeoutAt === undefined) return call;
    return new Promise((resolve, reject) => {
      const timer = setTimerAt(timeoutAt, () => {
        live.timers.delete(timer);
        reject(new TaskTimeout());
      });
      live.timers.add(timer);
      call.then(
        (value) => {
          timer.clear();
          live.timers.delete(timer);
          resolve(value);
        },
        (error: unknown) => {
          timer.clear();
          live.timers.delete(timer);
          reject(error);
        },
      );
    });
  }

  // ---------------------------------------------------------------- tokens

  private registerToken(
    exec: Execution,
    token: string,
    attempt: number | undefined,
    timeoutAt: number | undefined,
    heartbeatSeconds: number | undefined,
  ): TokenEntry {
    const entry: TokenEntry = { token, exec, attempt, status: 'waiting', counted: false };
    entry.promise = new Promise((resolve, reject) => {
      entry.resolve = resolve;
      entry.reject = reject;
    });
    entry.promise.catch(() => {});
    this.tokens.set(token, entry);
    exec.pendingTokens.add(entry);
    if (timeoutAt !== undefined) {
      entry.timeout = setTimerAt(timeoutAt, () =>
        this.settleToken(entry, { kind: 'timedout', error: 'States.Timeout', cause: 'the task timed out' }),
      );
    }
    if (heartbeatSeconds !== undefined) {
      entry.heartbeatMs = heartbeatSeconds * 1000;
      this.armHeartbeat(entry, Date.now() + entry.heartbeatMs);
    }
    return entry;
  }

  private armHeartbeat(entry: TokenEntry, at: number): void {
    entry.heartbeat?.clear();
    entry.heartbeat = setTimerAt(at, () =>
      this.settleToken(entry, {
        kind: 'timedout',
        error: 'States.HeartbeatTimeout',
        cause: 'no heartbeat in time',
      }),
    );
  }

  private settleToken(
    entry: TokenEntry,
    result:
      | { kind: 'succeeded'; output: string }
      | { kind: 'failed' | 'timedout'; error: string; cause: string }
      | { kind: 'stopped' },
  ): void {
    if (entry.status !== 'waiting') return;
    const { exec } = entry;
    entry.status = result.kind;
    entry.timeout?.clear();
    entry.heartbeat?.clear();
    exec.pendingTokens.delete(entry);
    if (entry.counted && entry.live) entry.live.paused--;
    const base = { resourceType: 'lambda', resource: 'invoke.waitForTaskToken' };
    const extra = entry.attempt !== undefined ? { att: entry.attempt } : {};
    const recording = exec.status === 'RUNNING';
    if (result.kind === 'succeeded') {
      if (recording) {
        this.emit(
          exec,
          'TaskSucceeded',
          { ...base, output: result.output, outputDetails: { truncated: false } },
          extra,
        );
      }
      entry.resolve?.(JSON.parse(result.output));
    } else if (result.kind === 'stopped') {
      entry.reject?.(aslError(STOPPED, 'the execution stopped'));
    } else {
      if (recording) {
        const type = result.kind === 'failed' ? 'TaskFailed' : 'TaskTimedOut';
        this.emit(exec, type, { ...base, error: result.error, cause: result.cause }, extra);
      }
      entry.reject?.(aslError(result.error, result.cause));
    }
  }

  private tokenEntry(token: string): TokenEntry {
    const entry = this.tokens.get(token);
    const status = entry?.status ?? this.closedTokens.get(token);
    if (!status) throw new SfnApiError('InvalidToken', 'Invalid Token');
    if (status === 'timedout') throw new SfnApiError('TaskTimedOut', 'Task Timed Out');
    if (!entry || status !== 'waiting')
      throw new SfnApiError('TaskDoesNotExist', 'Task does not exist anymore');
    return entry;
  }

  async sendTaskSuccess(token: string, output: string): Promise<void> {
    this.assertWritable();
    const entry = this.tokenEntry(token);
    this.settleToken(entry, { kind: 'succeeded', output });
    await this.saved();
  }

  async sendTaskFailure(token: string, error: string, cause: string): Promise<void> {
    this.assertWritable();
    const entry = this.tokenEntry(token);
    this.settleToken(entry, { kind: 'failed', error, cause });
    await this.saved();
  }

  async sendTaskHeartbeat(token: string): Promise<void> {
    this.assertWritable();
    const entry = this.tokenEntry(token);
    if (entry.heartbeatMs === undefined) return;
    this.armHeartbeat(entry, Date.now() + entry.heartbeatMs);
    this.journal.append({ k: 'h', x: entry.exec.seq, tok: token, t: Date.now() });
    await this.saved();
  }

  // ---------------------------------------------------------------- journal failure

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

  // ---------------------------------------------------------------- lifecycle

  /** True when no execution is mid-transition: each has finished or waits on a token. */
  isIdle(): boolean {
    for (const exec of this.running) {
      const live = exec.live;
      if (exec.status === 'RUNNING' && live && !live.stopped && live.paused === 0) return false;
    }
    return true;
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
      if (before && this.isIdle()) return;
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
  }

  close(): void {
    if (this.closed) return;
    this.halt();
    this.closed = true;
    this.journal.close();
    this.unlock();
  }

  /** Stops every run, timer and waiting token; the journal keeps what resumes them next start. */
  private halt(): void {
    if (this.halted) return;
    this.halted = true;
    for (const exec of this.running) {
      exec.deadline?.clear();
      const live = exec.live;
      if (!live) continue;
      live.stopped = true;
      for (const timer of live.timers) timer.clear();
      live.running?.abort();
    }
    for (const entry of this.tokens.values()) {
      entry.timeout?.clear();
      entry.heartbeat?.clear();
      // Settles the library's pending task promise so its own timer is cleared too.
      entry.reject?.(aslError(STOPPED, 'the engine closed'));
    }
    this.running.clear();
  }
}

interface TaskRun {
  exec: Execution;
  live: LiveRun;
  kind: TaskKind;
  resource: string;
  input: unknown;
  attempt?: number;
  replay?: AttemptRecord;
  timeoutAt?: number;
  timeoutSeconds?: number;
  heartbeatSeconds?: number;
}

class TaskTimeout extends Error {
  override name = 'TaskTimeout';
}

function attemptFields(task: TaskRun): Partial<StoredEvent> {
  return task.attempt !== undefined ? { att: task.attempt } : {};
}

function scheduledDetails(task: TaskRun, base: JsonObject, region: string): JsonObject {
  return {
    ...base,
    region,
    parameters: json(task.input),
    ...(task.timeoutSeconds !== undefined && { timeoutInSeconds: task.timeoutSeconds }),
    ...(task.heartbeatSeconds !== undefined && { heartbeatInSeconds: task.heartbeatSeconds }),
  };
}

function invokeParameters(input: unknown): { functionName: string; payload: unknown } {
  if (!isObject(input) || typeof input.FunctionName !== 'string') {
    throw aslError('States.Runtime', 'Parameters.FunctionName must be a string');
  }
  return { functionName: input.FunctionName, payload: input.Payload ?? {} };
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
    const entered = event.top !== undefined && event.type.endsWith('StateEntered');
    if (!event.tok && !entered && !(task && event.att !== undefined)) return [];
    return [
      {
        id: event.id,
        type: event.type,
        ts: event.ts,
        d: {},
        ...(event.top !== undefined ? { top: event.top } : {}),
        ...(event.att !== undefined ? { att: event.att } : {}),
        ...(event.tok !== undefined ? { tok: event.tok } : {}),
      },
    ];
  });
}

function applyEvent(exec: Execution, event: StoredEvent): void {
  const status = TERMINAL[event.type];
  if (!status) return;
  exec.status = status;
  exec.stopMs = event.ts;
  if (typeof event.d.output === 'string') exec.output = event.d.output;
  if (typeof event.d.error === 'string') exec.error = event.d.error;
  if (typeof event.d.cause === 'string') exec.cause = event.d.cause;
}

function tokenFor(current: CurrentState, attempt: number): string {
  const existing = current.tokens[attempt];
  if (existing) return existing;
  const token = current.replay?.[attempt]?.tok ?? newToken();
  current.tokens[attempt] = token;
  return token;
}

function json(value: unknown): string {
  return JSON.stringify(value ?? null);
}

function unavailable(error: Error): SfnApiError {
  return new SfnApiError('ServiceUnavailable', error.message, 503);
}
