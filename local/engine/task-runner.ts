import { aslError } from './errors.ts';
import type { AttemptRecord, StoredEvent } from './history.ts';
import type { Recorder } from './recorder.ts';
import { isObject, type JsonObject, type TaskKind, taskKind } from './resources.ts';
import { describeFailure, newToken, resolveSeconds } from './task-support.ts';
import { setTimerAt } from './timers.ts';
import { type TokenRegistry, tokenFor } from './tokens.ts';
import { type EngineConfig, type Execution, type LiveRun, STOPPED, type TokenEntry } from './types.ts';

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

/**
 * Runs Task states for the interpreter's local handlers: a Lambda function ARN, lambda:invoke and
 * lambda:invoke.waitForTaskToken, each with its history events and timeout. On a resume, an
 * attempt whose result is journaled returns that result instead of running again.
 */
export class TaskRunner {
  constructor(
    private readonly recorder: Recorder,
    private readonly tokens: TokenRegistry,
    private readonly config: Pick<EngineConfig, 'region' | 'invokeFunction'>,
  ) {}

  async run(
    exec: Execution,
    live: LiveRun,
    stateName: string,
    resource: string,
    input: unknown,
  ): Promise<unknown> {
    this.recorder.assertLive(exec, live);
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
    await this.recorder.flushed();
    this.recorder.assertLive(exec, live);
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
      replay?.timeoutAt ?? (timeoutSeconds !== undefined ? Date.now() + timeoutSeconds * 1000 : undefined);
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
    const { exec, resource, input, replay } = task;
    const extra = attemptFields(task);
    if (!replay?.scheduled) {
      this.recorder.emit(
        exec,
        'LambdaFunctionScheduled',
        {
          resource,
          input: json(input),
          inputDetails: { truncated: false },
          ...(task.timeoutSeconds !== undefined && { timeoutInSeconds: task.timeoutSeconds }),
        },
        { ...extra, ...(task.timeoutAt !== undefined && { timeoutAt: task.timeoutAt }) },
      );
    }
    if (!replay?.started) this.recorder.emit(exec, 'LambdaFunctionStarted', {}, extra);
    return this.invokeRecorded(task, 'LambdaFunction', {}, () => ({
      functionName: resource,
      payload: input,
    }));
  }

  private async runInvoke(task: TaskRun): Promise<unknown> {
    const { exec, input, replay } = task;
    const base = { resourceType: 'lambda', resource: 'invoke' };
    const extra = attemptFields(task);
    if (!replay?.scheduled) {
      this.recorder.emit(exec, 'TaskScheduled', scheduledDetails(task, base, this.config.region), {
        ...extra,
        ...(task.timeoutAt !== undefined && { timeoutAt: task.timeoutAt }),
      });
    }
    if (!replay?.started) this.recorder.emit(exec, 'TaskStarted', base, extra);
    return this.invokeRecorded(
      task,
      'Task',
      base,
      () => invokeParameters(input),
      (result) => ({ ExecutedVersion: '$LATEST', Payload: result, StatusCode: 200 }),
    );
  }

  /**
   * Calls a task's function within its deadline and records how the call ended:
   * `<prefix>Succeeded` (with `output(result)`, which the task returns), `TimedOut` or `Failed`.
   */
  private async invokeRecorded(
    task: TaskRun,
    prefix: 'LambdaFunction' | 'Task',
    base: JsonObject,
    call: () => { functionName: string; payload: unknown },
    output: (result: unknown) => unknown = (result) => result,
  ): Promise<unknown> {
    const { exec, live } = task;
    const extra = attemptFields(task);
    try {
      const { functionName, payload } = call();
      const result = await this.invoke(live, functionName, payload, task.timeoutAt);
      this.recorder.assertLive(exec, live);
      const value = output(result);
      this.recorder.emit(
        exec,
        `${prefix}Succeeded`,
        { ...base, output: json(value), outputDetails: { truncated: false } },
        extra,
      );
      await this.recorder.flushed();
      return value;
    } catch (error) {
      this.recorder.assertLive(exec, live);
      if (error instanceof TaskTimeout) {
        this.recorder.emit(exec, `${prefix}TimedOut`, { ...base, error: 'States.Timeout', cause: '' }, extra);
        throw aslError('States.Timeout', '');
      }
      const failure = describeFailure(error);
      this.recorder.emit(exec, `${prefix}Failed`, { ...base, ...failure }, extra);
      await this.recorder.flushed();
      throw aslError(failure.error, failure.cause);
    }
  }

  private async runWaitForToken(task: TaskRun, token: string): Promise<unknown> {
    const { exec, live, replay } = task;
    const base = { resourceType: 'lambda', resource: 'invoke.waitForTaskToken' };
    const extra = attemptFields(task);
    let entry = this.tokens.get(token);
    if (!entry || entry.exec !== exec) {
      entry = this.tokens.register(exec, token, task.attempt, task.timeoutAt, task.heartbeatSeconds);
    }
    entry.live = live;
    if (!replay?.scheduled) {
      this.recorder.emit(exec, 'TaskScheduled', scheduledDetails(task, base, this.config.region), {
        ...extra,
        taskToken: token,
        ...(task.timeoutAt !== undefined && { timeoutAt: task.timeoutAt }),
        ...(task.heartbeatSeconds !== undefined && { heartbeatSeconds: task.heartbeatSeconds }),
      });
      this.recorder.emit(exec, 'TaskStarted', base, extra);
      // The token must be on disk before anyone outside can see it.
      await this.recorder.flushed();
      this.recorder.assertLive(exec, live);
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
      if (entry.status !== 'waiting' || !this.recorder.isLive(exec, live)) return;
      const output = { ExecutedVersion: '$LATEST', Payload: result, StatusCode: 200 };
      this.recorder.emit(
        exec,
        'TaskSubmitted',
        { ...base, output: json(output), outputDetails: { truncated: false } },
        extra,
      );
      entry.counted = true;
      live.paused++;
    } catch (error) {
      if (entry.status !== 'waiting' || !this.recorder.isLive(exec, live)) return;
      this.tokens.settle(entry, { kind: 'failed', ...describeFailure(error) });
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
}

function attemptFields(task: TaskRun): Partial<StoredEvent> {
  return task.attempt !== undefined ? { attempt: task.attempt } : {};
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

/** A value as history details hold it: JSON text. */
export function json(value: unknown): string {
  return JSON.stringify(value ?? null);
}
