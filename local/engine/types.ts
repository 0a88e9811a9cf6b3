import type { AttemptRecord, ResumePoint, StoredEvent } from './history.ts';
import type { Interpreter, RunningDefinition } from './interpreter.ts';
import type { JournalWriteError } from './journal.ts';
import type { JsonObject } from './resources.ts';
import type { LongTimer } from './timers.ts';

/** The shapes the engine's modules share: machines, executions, their runs and their task tokens. */

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
  /** Its number in this engine: the journal's key for it and the name of its history archive. */
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

/** The top-level state a run is in, as far as $$.State.*, $$.Task.Token and a resume need it. */
export interface CurrentState {
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

/** One run of the interpreter for an execution (a fresh one after every restart). */
export interface LiveRun {
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

export type TokenStatus = 'waiting' | 'succeeded' | 'failed' | 'timedout' | 'stopped';

export interface TokenEntry {
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

/** The ASL error a run sees when the engine stops it (closed, stopped, or its journal failed). */
export const STOPPED = 'Signoff.ExecutionStopped';
