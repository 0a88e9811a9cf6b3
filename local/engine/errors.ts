/** A Step Functions API error: `name` becomes the `__type` suffix the SDK turns into `err.name`. */
export class SfnApiError extends Error {
  constructor(
    readonly code: string,
    message: string,
    readonly status = 400,
  ) {
    super(message);
    this.name = 'SfnApiError';
  }
}

/** Builds an error as the interpreter sees it: ASL Retry/Catch match on `name`, `message` is the cause. */
export function aslError(name: string, cause: string): Error {
  const error = new Error(cause);
  error.name = name;
  return error;
}
