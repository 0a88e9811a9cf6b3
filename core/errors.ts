/**
 * The five base errors the HTTP layer understands. Each domain error extends one of them;
 * `webhooks/app.ts` maps the base class to a status and `{ error: { code, message } }`.
 * ASL Retry/Catch match on `name`, so renaming an error class is a breaking change.
 */
export abstract class SignoffError extends Error {
  abstract readonly status: 400 | 401 | 403 | 404 | 409 | 413 | 415;
  /** A stable, machine-readable code for clients (`{ error: { code } }`). */
  readonly code: string;

  constructor(message: string, options?: ErrorOptions & { code?: string }) {
    super(message, options);
    this.name = new.target.name;
    this.code = options?.code ?? new.target.name;
  }
}

export class InvalidInputError extends SignoffError {
  readonly status = 400;
}

export class UnauthenticatedError extends SignoffError {
  readonly status = 401;
}

export class ForbiddenError extends SignoffError {
  readonly status = 403;
}

export class NotFoundError extends SignoffError {
  readonly status = 404;
}

export class ConflictError extends SignoffError {
  readonly status = 409;
}

export class PayloadTooLargeError extends SignoffError {
  readonly status = 413;
}

export class UnsupportedMediaTypeError extends SignoffError {
  readonly status = 415;
}

/** A workflow kind without a policy in the configuration: it is not set up here. */
export class WorkflowDisabledError extends ConflictError {
  readonly kind: string;
  constructor(kind: string) {
    super(`the ${kind} workflow is not set up here`);
    this.kind = kind;
  }
}

/** A configuration file or environment that cannot be used; the message names every bad field. */
export class ConfigError extends Error {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'ConfigError';
  }
}

/** A call to an integration (GitLab, Lambda, Support) failed; `retryable` guides the ASL Retry. */
export class IntegrationError extends Error {
  readonly retryable: boolean;
  constructor(message: string, options?: ErrorOptions & { retryable?: boolean }) {
    super(message, options);
    this.name = new.target.name;
    this.retryable = options?.retryable ?? false;
  }
}
