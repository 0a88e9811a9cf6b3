import {
  ExecutionAbortedError,
  ExecutionError,
  StateMachine,
  type StateMachineDefinition,
} from 'aws-local-stepfunctions';
import { isObject, type JsonObject, walkStates } from './resources.ts';

/**
 * The only module that knows the interpreter (aws-local-stepfunctions). Everything the engine
 * needs from it goes through `createInterpreter`, so it can be replaced without touching the rest.
 */

/** A state entered or exited, or a Map iteration event, as the engine records it. */
export type InterpreterEvent =
  | { kind: 'entered'; stateName: string; stateType: string; input: unknown; topLevel: boolean }
  | { kind: 'exited'; stateName: string; stateType: string; output: unknown; topLevel: boolean }
  | { kind: 'mapIteration'; phase: 'Started' | 'Succeeded' | 'Failed'; stateName: string; index: number };

export type RunOutcome =
  | { status: 'SUCCEEDED'; output: unknown }
  | { status: 'FAILED'; error: string; cause: string }
  | { status: 'ABORTED' };

export interface RunRequest {
  /** Defaults to the definition's StartAt. */
  startAt?: string;
  input: unknown;
  /** The full AWS Context Object; getters are read each time a path uses them. */
  context: { Execution: JsonObject } & JsonObject;
  /** Wait state name → milliseconds to wait instead of what the definition says. */
  waitOverridesMs?: Record<string, number>;
  /** Called synchronously as a top-level state is about to be entered (before its Parameters are evaluated). */
  onTransition(stateName: string): void;
  /** Called in order; may lag the run by a few microtasks. */
  onEvent(event: InterpreterEvent): void;
  /** Runs a Task state (top level or nested) with its input after InputPath/Parameters. */
  runTask(stateName: string, resource: string, input: unknown): Promise<unknown>;
}

export interface RunningDefinition {
  /** Never rejects. */
  outcome: Promise<RunOutcome>;
  abort(): void;
}

export interface Interpreter {
  readonly startAt: string;
  readonly topLevelStates: ReadonlySet<string>;
  run(request: RunRequest): RunningDefinition;
}

/** The library's own Task timeout (60 s by default, overflowing past 24.8 days) must never fire: the engine owns timeouts. */
const LIBRARY_TASK_TIMEOUT_SECONDS = 2_000_000;

const validated = new Set<string>();

/** Validates a definition once (0.2–0.4 s) and returns something that runs it cheaply many times. */
export function createInterpreter(definition: JsonObject): Interpreter {
  // Validation is the expensive part: do it once per definition text (per process), as written.
  const key = JSON.stringify(definition);
  if (!validated.has(key)) {
    new StateMachine(definition as unknown as StateMachineDefinition);
    validated.add(key);
  }
  const prepared = prepareForLibrary(definition);
  const topLevelStates = new Set(Object.keys(isObject(definition.States) ? definition.States : {}));
  const taskResources = new Map<string, string>();
  for (const { name, state } of walkStates(definition)) {
    if (state.Type === 'Task' && typeof state.Resource === 'string') taskResources.set(name, state.Resource);
  }
  const startAt = String(definition.StartAt);

  return {
    startAt,
    topLevelStates,
    run(request) {
      const states = prepared.States as JsonObject;
      // The library looks a state up exactly once per transition: that tells us, synchronously,
      // which top-level state is about to run (for $$.State.* and the task token).
      const statesProxy = new Proxy(states, {
        get(target, key, receiver) {
          if (typeof key === 'string' && Object.hasOwn(target, key)) request.onTransition(key);
          return Reflect.get(target, key, receiver);
        },
      });
      const machine = new StateMachine(
        {
          ...prepared,
          StartAt: request.startAt ?? startAt,
          States: statesProxy,
        } as unknown as StateMachineDefinition,
        { validationOptions: { noValidate: true } },
      );
      const handlers: Record<string, (input: unknown) => Promise<unknown>> = {};
      for (const [name, resource] of taskResources) {
        handlers[name] = (input) => {
          const promise = request.runTask(name, resource, input);
          // The library may stop listening (abort); a late rejection must not become unhandled.
          promise.catch(() => {});
          return promise;
        };
      }
      const { Execution, ...rest } = request.context;
      const execution = machine.run(request.input as never, {
        overrides: {
          taskResourceLocalHandlers: handlers as never,
          waitTimeOverrides: request.waitOverridesMs,
        },
        context: {
          ...rest,
          // The library overwrites Execution.Input and StartTime with the run's own values, which are wrong
          // after a resume; the prepared definition reads these copies instead.
          Execution: { ...Execution, SignoffInput: Execution.Input, SignoffStartTime: Execution.StartTime },
        },
      });
      void forwardEvents(execution.eventLogs, topLevelStates, request.onEvent);
      const outcome = execution.result.then(
        (output): RunOutcome => ({ status: 'SUCCEEDED', output }),
        (error: unknown): RunOutcome => toOutcome(error),
      );
      return { outcome, abort: () => execution.abort() };
    },
  };
}

function toOutcome(error: unknown): RunOutcome {
  if (error instanceof ExecutionAbortedError) return { status: 'ABORTED' };
  const inner = error instanceof ExecutionError && error.cause instanceof Error ? error.cause : error;
  if (inner instanceof Error) return { status: 'FAILED', error: inner.name, cause: inner.message };
  return { status: 'FAILED', error: 'States.Runtime', cause: String(inner) };
}

async function forwardEvents(
  events: AsyncGenerator<unknown>,
  topLevel: ReadonlySet<string>,
  onEvent: (event: InterpreterEvent) => void,
): Promise<void> {
  try {
    for await (const raw of events) {
      const event = toEvent(raw, topLevel);
      if (event) onEvent(event);
    }
  } catch {
    // The event stream only ends abnormally when the run is torn down; the outcome says what happened.
  }
}

function toEvent(raw: unknown, topLevel: ReadonlySet<string>): InterpreterEvent | undefined {
  if (!isObject(raw)) return undefined;
  const state = isObject(raw.state) ? raw.state : undefined;
  const name = typeof state?.name === 'string' ? state.name : '';
  const stateType = typeof state?.type === 'string' ? state.type : '';
  // State names are unique across a whole machine (AWS rule), so a top-level name means a top-level event,
  // except inside Map iterations, which carry an index.
  const isTop = topLevel.has(name) && raw.index === undefined;
  switch (raw.type) {
    case 'StateEntered':
      return { kind: 'entered', stateName: name, stateType, input: state?.input, topLevel: isTop };
    case 'StateExited':
      return { kind: 'exited', stateName: name, stateType, output: state?.output, topLevel: isTop };
    case 'MapIterationStarted':
    case 'MapIterationSucceeded':
    case 'MapIterationFailed': {
      const parent = isObject(raw.parentState) ? raw.parentState : {};
      return {
        kind: 'mapIteration',
        phase: raw.type.slice('MapIteration'.length) as 'Started' | 'Succeeded' | 'Failed',
        stateName: String(parent.name ?? ''),
        index: typeof raw.index === 'number' ? raw.index : 0,
      };
    }
    default:
      return undefined;
  }
}

/** A copy of the definition the library runs: engine-owned timeouts removed, Execution paths redirected. */
function prepareForLibrary(definition: JsonObject): JsonObject {
  const copy = redirectExecutionPaths(structuredClone(definition)) as JsonObject;
  delete copy.TimeoutSeconds;
  for (const { state } of walkStates(copy)) {
    if (state.Type !== 'Task') continue;
    state.TimeoutSeconds = LIBRARY_TASK_TIMEOUT_SECONDS;
    delete state.TimeoutSecondsPath;
    delete state.HeartbeatSeconds;
    delete state.HeartbeatSecondsPath;
  }
  return copy;
}

const EXECUTION_PATH = /\$\$\.Execution\.(Input|StartTime)(?![A-Za-z0-9_])/g;

function redirectExecutionPaths(value: unknown): unknown {
  if (typeof value === 'string') return value.replace(EXECUTION_PATH, '$$$$.Execution.Signoff$1');
  if (Array.isArray(value)) return value.map(redirectExecutionPaths);
  if (isObject(value)) {
    const out: JsonObject = {};
    for (const [key, item] of Object.entries(value)) out[key] = redirectExecutionPaths(item);
    return out;
  }
  return value;
}
