import type { HistoryArchive } from './archive.ts';
import { type ArnScope, executionArn } from './definitions.ts';
import { SfnApiError } from './errors.ts';
import type { ResumePoint } from './history.ts';
import type { InterpreterEvent, RunOutcome } from './interpreter.ts';
import type { Recorder } from './recorder.ts';
import { json, type TaskRunner } from './task-runner.ts';
import { setTimerAt } from './timers.ts';
import { type TokenRegistry, tokenFor } from './tokens.ts';
import type { CurrentState, Execution, LiveRun, Machine } from './types.ts';

export interface ExecutionsDeps {
  scope: ArnScope;
  roleArn: string;
  recorder: Recorder;
  tokens: TokenRegistry;
  tasks: TaskRunner;
  archive: HistoryArchive;
}

/**
 * The executions: starting and stopping them, and each run of the interpreter from its first
 * transition (or its resume point) to its terminal event, with the history it writes.
 */
export class Executions {
  readonly byArn = new Map<string, Execution>();
  /** Executions with a run in this process. */
  private readonly running = new Set<Execution>();
  private nextSeq = 1;

  constructor(private readonly deps: ExecutionsDeps) {}

  /** Takes over the executions read from the journal; new ones are numbered from `nextSeq`. */
  adopt(executions: Map<string, Execution>, nextSeq: number): void {
    for (const [arn, exec] of executions) this.byArn.set(arn, exec);
    this.nextSeq = Math.max(this.nextSeq, nextSeq);
  }

  /** Starts a new execution (or returns the running one with the same name and input). */
  start(machine: Machine, name: string, input: string): Execution {
    const arn = executionArn(this.deps.scope, machine.name, name);
    const existing = this.byArn.get(arn);
    if (existing) {
      if (existing.status === 'RUNNING' && existing.input === input) return existing;
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
    this.byArn.set(arn, exec);
    const { recorder } = this.deps;
    recorder.append({
      record: 'started',
      execution: exec.seq,
      stateMachine: machine.name,
      name,
      input,
      startedAt: exec.startMs,
    });
    recorder.emit(exec, 'ExecutionStarted', {
      input,
      inputDetails: { truncated: false },
      roleArn: this.deps.roleArn,
    });
    this.run(exec, undefined);
    return exec;
  }

  stop(exec: Execution, error: string | undefined, cause: string | undefined): void {
    if (exec.status !== 'RUNNING') return;
    this.deps.recorder.emit(exec, 'ExecutionAborted', {
      ...(error !== undefined && { error }),
      ...(cause !== undefined && { cause }),
    });
    this.teardown(exec);
  }

  /** Runs an execution's definition from its start, or from where the journal says it was. */
  run(exec: Execution, resume: ResumePoint | undefined): void {
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
      exec.deadline = setTimerAt(exec.startMs + machine.timeoutSeconds * 1000, () => this.timeOut(exec));
    }
    const attemptIndex = (current: CurrentState): number =>
      current.afterTask ? current.started - 1 : current.started;
    const context = {
      Execution: {
        Id: exec.arn,
        Name: exec.name,
        Input: JSON.parse(exec.input) as unknown,
        StartTime: new Date(exec.startMs).toISOString(),
        RoleArn: this.deps.roleArn,
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
      runTask: (stateName, resource, input) => this.deps.tasks.run(exec, live, stateName, resource, input),
    });
    live.running = running;
    void running.outcome.then((outcome) => this.onOutcome(exec, live, outcome));
  }

  /**
   * Lets go of what a closed execution no longer needs in memory: its run, its history (in the
   * archive and the journal) and its tokens' entries (their ending stays with the token registry).
   * Its summary stays: status, dates, input, output, error (DescribeExecution, ListExecutions).
   */
  release(exec: Execution): void {
    this.deps.tokens.release(exec);
    // A history still being written to its file stays until it is (archive.ts clears it then).
    if (exec.archived) exec.events = [];
    exec.live = undefined;
  }

  /** True when no execution is mid-transition: each has finished or waits on a token. */
  isIdle(): boolean {
    for (const exec of this.running) {
      const live = exec.live;
      if (exec.status === 'RUNNING' && live && !live.stopped && live.paused === 0) return false;
    }
    return true;
  }

  /** Stops every run and its timers (the engine halts); the journal keeps what resumes them. */
  halt(): void {
    for (const exec of this.running) {
      exec.deadline?.clear();
      const live = exec.live;
      if (!live) continue;
      live.stopped = true;
      for (const timer of live.timers) timer.clear();
      live.running?.abort();
    }
  }

  /** Forgets the runs once everything is stopped. */
  clear(): void {
    this.running.clear();
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
    const { recorder } = this.deps;
    if (!recorder.isLive(exec, live)) return;
    const topLevel =
      event.kind !== 'mapIteration' && event.topLevel ? { topLevelState: event.stateName } : {};
    if (event.kind === 'entered') {
      if (event.topLevel) {
        if (live.skipEntered === event.stateName) {
          live.skipEntered = undefined;
          return;
        }
        if (live.current.name === event.stateName) live.current.rawInput = event.input;
      }
      recorder.emit(
        exec,
        `${event.stateType}StateEntered`,
        { name: event.stateName, input: json(event.input), inputDetails: { truncated: false } },
        topLevel,
      );
    } else if (event.kind === 'exited') {
      if (event.topLevel && live.skipExited === event.stateName) {
        live.skipExited = undefined;
        return;
      }
      recorder.emit(
        exec,
        `${event.stateType}StateExited`,
        { name: event.stateName, output: json(event.output), outputDetails: { truncated: false } },
        topLevel,
      );
    } else {
      recorder.emit(exec, `MapIteration${event.phase}`, { name: event.stateName, index: event.index });
    }
  }

  private async onOutcome(exec: Execution, live: LiveRun, outcome: RunOutcome): Promise<void> {
    const { recorder } = this.deps;
    // Let the interpreter's last events land in the history before the terminal event.
    await recorder.flushed().catch(() => {});
    if (!recorder.isLive(exec, live)) return;
    if (outcome.status === 'SUCCEEDED') {
      recorder.emit(exec, 'ExecutionSucceeded', {
        output: json(outcome.output),
        outputDetails: { truncated: false },
      });
    } else if (outcome.status === 'FAILED') {
      recorder.emit(exec, 'ExecutionFailed', { error: outcome.error, cause: outcome.cause });
    } else {
      recorder.emit(exec, 'ExecutionAborted', {});
    }
    live.running = undefined;
    this.teardown(exec);
  }

  private timeOut(exec: Execution): void {
    if (exec.status !== 'RUNNING' || this.deps.recorder.halted) return;
    this.deps.recorder.emit(exec, 'ExecutionTimedOut', {
      error: 'States.Timeout',
      cause: 'The execution timed out.',
    });
    this.teardown(exec);
  }

  /** Stops everything still running for an execution that has closed. */
  private teardown(exec: Execution): void {
    const live = exec.live;
    exec.deadline?.clear();
    exec.deadline = undefined;
    this.running.delete(exec);
    for (const entry of [...exec.pendingTokens]) this.deps.tokens.settle(entry, { kind: 'stopped' });
    if (live) {
      live.stopped = true;
      for (const timer of live.timers) timer.clear();
      live.timers.clear();
      // abort() leaves the library's task timer running until the handler settles; the handlers above just did.
      live.running?.abort();
    }
    this.deps.archive.archive(exec);
    this.release(exec);
  }
}
