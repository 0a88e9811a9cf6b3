/** The fields of the one error-level line a failed task logs (`task failed`). */
export interface TaskFailureLog {
  task: string;
  executionId?: string;
  /** The error's class name, which ASL Retry/Catch match on. */
  errorName: string;
  error: string;
  /** The chain of causes, outermost first: `Name: message ← Name: message`. */
  cause?: string;
}

/** How many causes deep the line goes, and how much of each message it keeps. */
const MAX_CAUSES = 3;
const MAX_MESSAGE = 300;

/**
 * What to log when a task throws: the task, its execution, the error's name and message, and
 * the names and messages of its causes. Only names and messages, never a cause's other fields
 * (a client error carries the request, headers and token included, and the raw response), and
 * the payload's task token, should a message quote it, is cut out.
 */
export function taskFailureLog(task: string, payload: unknown, error: unknown): TaskFailureLog {
  const fields = isRecord(payload) ? payload : {};
  const token = typeof fields.taskToken === 'string' && fields.taskToken ? fields.taskToken : undefined;
  const clean = (text: string) => {
    const scrubbed = token ? text.split(token).join('[task token]') : text;
    return scrubbed.length > MAX_MESSAGE ? `${scrubbed.slice(0, MAX_MESSAGE)}…` : scrubbed;
  };
  const causes: string[] = [];
  // A cause that is not an Error (gitbeaker's is its request and response) ends the chain.
  let cause = error instanceof Error ? error.cause : undefined;
  for (let depth = 0; depth < MAX_CAUSES && cause instanceof Error; depth++) {
    causes.push(clean(`${cause.name}: ${cause.message}`));
    cause = cause.cause;
  }
  return {
    task,
    ...(typeof fields.executionArn === 'string' ? { executionId: fields.executionArn } : {}),
    errorName: error instanceof Error ? error.name : typeof error,
    error: clean(error instanceof Error ? error.message : describe(error)),
    ...(causes.length > 0 ? { cause: causes.join(' ← ') } : {}),
  };
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null;
}

/** A thrown non-Error: a string is kept; anything else is named by its type, not dumped. */
function describe(value: unknown): string {
  return typeof value === 'string' ? value : `a thrown ${typeof value}`;
}
