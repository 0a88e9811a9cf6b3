import { aslError, SfnApiError } from './errors.ts';
import type { Recorder } from './recorder.ts';
import { newToken } from './task-support.ts';
import { setTimerAt } from './timers.ts';
import { type CurrentState, type Execution, STOPPED, type TokenEntry, type TokenStatus } from './types.ts';

/** How a waiting token ends. */
export type TokenResult =
  | { kind: 'succeeded'; output: string }
  | { kind: 'failed' | 'timedout'; error: string; cause: string }
  | { kind: 'stopped' };

/**
 * The task tokens of wait-for-token tasks: the promise the interpreter waits on, the task's
 * TimeoutSeconds and HeartbeatSeconds (the engine owns both: the library ignores heartbeats and
 * its own timers overflow), and how each token ended, so a late SendTask* gets a clear answer.
 */
export class TokenRegistry {
  private readonly entries = new Map<string, TokenEntry>();
  /**
   * Tokens of closed executions and how they ended: a late SendTask* still gets
   * TaskTimedOut or TaskDoesNotExist (not InvalidToken) without the execution's run in memory.
   */
  private readonly closed = new Map<string, TokenStatus>();

  constructor(private readonly recorder: Recorder) {}

  get(token: string): TokenEntry | undefined {
    return this.entries.get(token);
  }

  /** Registers a waiting token, arming its deadline and heartbeat. */
  register(
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
    this.entries.set(token, entry);
    exec.pendingTokens.add(entry);
    if (timeoutAt !== undefined) {
      entry.timeout = setTimerAt(timeoutAt, () =>
        this.settle(entry, { kind: 'timedout', error: 'States.Timeout', cause: 'the task timed out' }),
      );
    }
    if (heartbeatSeconds !== undefined) {
      entry.heartbeatMs = heartbeatSeconds * 1000;
      this.armHeartbeat(entry, Date.now() + entry.heartbeatMs);
    }
    return entry;
  }

  armHeartbeat(entry: TokenEntry, at: number): void {
    entry.heartbeat?.clear();
    entry.heartbeat = setTimerAt(at, () =>
      this.settle(entry, {
        kind: 'timedout',
        error: 'States.HeartbeatTimeout',
        cause: 'no heartbeat in time',
      }),
    );
  }

  /** Ends a waiting token: records the task's result (while the execution runs) and settles its promise. */
  settle(entry: TokenEntry, result: TokenResult): void {
    if (entry.status !== 'waiting') return;
    const { exec } = entry;
    entry.status = result.kind;
    entry.timeout?.clear();
    entry.heartbeat?.clear();
    exec.pendingTokens.delete(entry);
    if (entry.counted && entry.live) entry.live.paused--;
    const base = { resourceType: 'lambda', resource: 'invoke.waitForTaskToken' };
    const extra = entry.attempt !== undefined ? { attempt: entry.attempt } : {};
    const recording = exec.status === 'RUNNING';
    if (result.kind === 'succeeded') {
      if (recording) {
        this.recorder.emit(
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
        this.recorder.emit(exec, type, { ...base, error: result.error, cause: result.cause }, extra);
      }
      entry.reject?.(aslError(result.error, result.cause));
    }
  }

  /** The entry a SendTask* call answers; a token that is not waiting is refused the way AWS refuses it. */
  waiting(token: string): TokenEntry {
    const entry = this.entries.get(token);
    const status = entry?.status ?? this.closed.get(token);
    if (!status) throw new SfnApiError('InvalidToken', 'Invalid Token');
    if (status === 'timedout') throw new SfnApiError('TaskTimedOut', 'Task Timed Out');
    if (!entry || status !== 'waiting')
      throw new SfnApiError('TaskDoesNotExist', 'Task does not exist anymore');
    return entry;
  }

  /** Gives a waiting task a new heartbeat period; false when the task has no HeartbeatSeconds. */
  heartbeat(token: string): boolean {
    const entry = this.waiting(token);
    if (entry.heartbeatMs === undefined) return false;
    this.armHeartbeat(entry, Date.now() + entry.heartbeatMs);
    this.recorder.append({
      record: 'heartbeat',
      execution: entry.exec.seq,
      taskToken: token,
      at: Date.now(),
    });
    return true;
  }

  /**
   * Every token a recovered execution ever handed out, with how it ended, so a late answer gets
   * TaskDoesNotExist or TaskTimedOut, not InvalidToken.
   */
  restore(exec: Execution): void {
    let attemptTokens = new Map<number, TokenEntry>();
    for (const event of exec.events) {
      if (event.topLevelState && event.type.endsWith('StateEntered')) attemptTokens = new Map();
      if (event.taskToken) {
        const entry: TokenEntry = {
          token: event.taskToken,
          exec,
          attempt: event.attempt,
          status: 'stopped',
          counted: false,
        };
        this.entries.set(event.taskToken, entry);
        attemptTokens.set(event.attempt ?? -1, entry);
      }
      const entry = event.attempt !== undefined ? attemptTokens.get(event.attempt) : undefined;
      if (!entry) continue;
      if (event.type === 'TaskSucceeded') entry.status = 'succeeded';
      if (event.type === 'TaskFailed') entry.status = 'failed';
      if (event.type === 'TaskTimedOut') entry.status = 'timedout';
    }
  }

  /** Forgets a closed execution's token entries, keeping only how each ended. */
  release(exec: Execution): void {
    for (const event of exec.events) {
      const entry = event.taskToken ? this.entries.get(event.taskToken) : undefined;
      if (!entry || entry.exec !== exec) continue;
      this.entries.delete(entry.token);
      this.closed.set(entry.token, entry.status);
    }
  }

  /** Clears every token timer and settles every pending task promise (so the library's own timer is cleared too). */
  halt(): void {
    for (const entry of this.entries.values()) {
      entry.timeout?.clear();
      entry.heartbeat?.clear();
      entry.reject?.(aslError(STOPPED, 'the engine closed'));
    }
  }
}

/** The token of a task attempt in the current state: the journaled one on a resume, else a fresh one. */
export function tokenFor(current: CurrentState, attempt: number): string {
  const existing = current.tokens[attempt];
  if (existing) return existing;
  const token = current.replay?.[attempt]?.taskToken ?? newToken();
  current.tokens[attempt] = token;
  return token;
}
