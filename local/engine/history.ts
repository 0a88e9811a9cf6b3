import type { JsonObject } from './resources.ts';

/** A history event as journaled: AWS type and details, plus what a resume needs (never sent to clients). */
export interface StoredEvent {
  id: number;
  type: string;
  /** Epoch milliseconds. */
  timestamp: number;
  /** AWS-shaped details (the object under `<x>EventDetails`). */
  details: JsonObject;
  /** Name of the top-level state, on its Entered/Exited events. */
  topLevelState?: string;
  /** Task attempt within the current top-level state entry. */
  attempt?: number;
  /** The task token handed out, on a wait-for-token task's Scheduled event. */
  taskToken?: string;
  /** Task deadline, epoch milliseconds. */
  timeoutAt?: number;
  heartbeatSeconds?: number;
}

/** What the journal says about one attempt of a task in the state an execution resumes at. */
export interface AttemptRecord {
  taskToken?: string;
  timeoutAt?: number;
  heartbeatSeconds?: number;
  scheduled: boolean;
  started: boolean;
  submitted: boolean;
  outcome?: { ok: true; output: string } | { ok: false; error: string; cause: string; timedOut: boolean };
}

export interface ResumePoint {
  stateName: string;
  input: unknown;
  enteredAt: number;
  exited: boolean;
  attempts: AttemptRecord[];
}

/** Where a journaled RUNNING execution picks up: its last entered top-level state, with that state's input. */
export function findResumePoint(exec: { events: StoredEvent[] }): ResumePoint | undefined {
  let index = -1;
  for (let i = exec.events.length - 1; i >= 0; i--) {
    const event = exec.events[i];
    if (event?.topLevelState && event.type.endsWith('StateEntered')) {
      index = i;
      break;
    }
  }
  const entered = exec.events[index];
  if (!entered?.topLevelState) return undefined;
  const resume: ResumePoint = {
    stateName: entered.topLevelState,
    input: JSON.parse(String(entered.details.input ?? 'null')),
    enteredAt: entered.timestamp,
    exited: false,
    attempts: [],
  };
  for (const event of exec.events.slice(index + 1)) {
    if (event.topLevelState === entered.topLevelState && event.type.endsWith('StateExited'))
      resume.exited = true;
    if (event.attempt === undefined) continue;
    const record = resume.attempts[event.attempt] ?? { scheduled: false, started: false, submitted: false };
    resume.attempts[event.attempt] = record;
    switch (event.type) {
      case 'TaskScheduled':
      case 'LambdaFunctionScheduled':
        record.scheduled = true;
        record.taskToken = event.taskToken;
        record.timeoutAt = event.timeoutAt;
        record.heartbeatSeconds = event.heartbeatSeconds;
        break;
      case 'TaskStarted':
      case 'LambdaFunctionStarted':
        record.started = true;
        break;
      case 'TaskSubmitted':
        record.submitted = true;
        break;
      case 'TaskSucceeded':
      case 'LambdaFunctionSucceeded':
        record.outcome = { ok: true, output: String(event.details.output ?? 'null') };
        break;
      case 'TaskFailed':
      case 'TaskTimedOut':
      case 'LambdaFunctionFailed':
      case 'LambdaFunctionTimedOut':
        record.outcome = {
          ok: false,
          error: String(event.details.error ?? ''),
          cause: String(event.details.cause ?? ''),
          timedOut: event.type.endsWith('TimedOut'),
        };
        break;
    }
  }
  return resume;
}
