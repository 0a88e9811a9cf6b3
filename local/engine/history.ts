import type { JsonObject } from './resources.ts';

/** A history event as journaled: AWS type and details, plus what a resume needs (never sent to clients). */
export interface StoredEvent {
  id: number;
  type: string;
  /** Epoch milliseconds. */
  ts: number;
  /** AWS-shaped details (the object under `<x>EventDetails`). */
  d: JsonObject;
  /** Name of the top-level state, on its Entered/Exited events. */
  top?: string;
  /** Task attempt within the current top-level state entry. */
  att?: number;
  tok?: string;
  /** Task deadline, epoch milliseconds. */
  to?: number;
  /** Heartbeat seconds. */
  hb?: number;
}

/** What the journal says about one attempt of a task in the state an execution resumes at. */
export interface AttemptRecord {
  tok?: string;
  to?: number;
  hb?: number;
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
    if (event?.top && event.type.endsWith('StateEntered')) {
      index = i;
      break;
    }
  }
  const entered = exec.events[index];
  if (!entered?.top) return undefined;
  const resume: ResumePoint = {
    stateName: entered.top,
    input: JSON.parse(String(entered.d.input ?? 'null')),
    enteredAt: entered.ts,
    exited: false,
    attempts: [],
  };
  for (const event of exec.events.slice(index + 1)) {
    if (event.top === entered.top && event.type.endsWith('StateExited')) resume.exited = true;
    if (event.att === undefined) continue;
    const record = resume.attempts[event.att] ?? { scheduled: false, started: false, submitted: false };
    resume.attempts[event.att] = record;
    switch (event.type) {
      case 'TaskScheduled':
      case 'LambdaFunctionScheduled':
        record.scheduled = true;
        record.tok = event.tok;
        record.to = event.to;
        record.hb = event.hb;
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
        record.outcome = { ok: true, output: String(event.d.output ?? 'null') };
        break;
      case 'TaskFailed':
      case 'TaskTimedOut':
      case 'LambdaFunctionFailed':
      case 'LambdaFunctionTimedOut':
        record.outcome = {
          ok: false,
          error: String(event.d.error ?? ''),
          cause: String(event.d.cause ?? ''),
          timedOut: event.type.endsWith('TimedOut'),
        };
        break;
    }
  }
  return resume;
}
