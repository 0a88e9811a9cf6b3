import type { ExecutionStatus } from '@aws-sdk/client-sfn';
import type { AuditFilter } from '../core/audit.ts';
import { WORKFLOW_KINDS, type WorkflowKind } from '../core/config.ts';
import { InvalidInputError } from '../core/errors.ts';

export const EXECUTION_STATUSES = ['RUNNING', 'SUCCEEDED', 'FAILED', 'TIMED_OUT', 'ABORTED'] as const;

/**
 * The errors a run ends `FAILED` with when nobody approved it (each workflow's Fail states): the
 * status filter takes them as values too, meaning `FAILED` with that error.
 */
export const OUTCOME_ERRORS = ['Signoff.Rejected', 'Signoff.Cancelled', 'Signoff.Expired'] as const;
export type OutcomeError = (typeof OUTCOME_ERRORS)[number];

/** A date (`2025-05-01`) or an ISO time (`2025-05-01T10:00:00Z`, with optional fraction). */
const TIME = /^\d{4}-\d{2}-\d{2}(T\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?Z?)?$/;
const TOKEN = /^[\w.:@+-]{1,128}$/;

type Query = (name: string) => string | undefined;

function text(query: Query, name: string): string | undefined {
  const value = query(name)?.trim();
  return value ? value : undefined;
}

/** A kind from a query value; empty means "every kind". */
export function parseKindFilter(value: string | undefined): WorkflowKind | undefined {
  if (value === undefined || value === '' || value === 'all') return undefined;
  if (!(WORKFLOW_KINDS as readonly string[]).includes(value))
    throw new InvalidInputError(`unknown workflow kind "${value.slice(0, 40)}"`);
  return value as WorkflowKind;
}

/** A time bound as stored in audit keys: dates and times compared as ISO strings (UTC). */
export function parseTime(
  name: string,
  value: string | undefined,
  bound: 'since' | 'until',
): string | undefined {
  if (value === undefined) return undefined;
  if (!TIME.test(value)) throw new InvalidInputError(`${name} must be a date (YYYY-MM-DD) or an ISO time`);
  const date = new Date(
    value.length === 10 ? `${value}T00:00:00Z` : value.endsWith('Z') ? value : `${value}Z`,
  );
  if (Number.isNaN(date.getTime())) throw new InvalidInputError(`${name} is not a real date`);
  // A bare date as an upper bound covers the whole day: keys are compared as strings.
  if (value.length === 10) return bound === 'until' ? value : `${value}T00:00:00.000Z`;
  return date.toISOString();
}

function token(name: string, value: string | undefined): string | undefined {
  if (value === undefined) return undefined;
  if (!TOKEN.test(value)) throw new InvalidInputError(`${name} has characters that are not allowed`);
  return value;
}

/** The audit filter of a request's query string; anything malformed is a 400. */
export function parseAuditFilter(query: Query, options: { limit?: number } = {}): AuditFilter {
  const since = parseTime('since', text(query, 'since'), 'since');
  const until = parseTime('until', text(query, 'until'), 'until');
  if (since && until && since > `${until}~`) throw new InvalidInputError('since is after until');
  const limitText = text(query, 'limit');
  const limit = limitText === undefined ? options.limit : Number(limitText);
  if (limit !== undefined && (!Number.isInteger(limit) || limit < 1 || limit > 1000))
    throw new InvalidInputError('limit must be a whole number from 1 to 1000');
  const execution = text(query, 'execution');
  if (execution && !/^arn:aws[a-z-]*:states:[a-z0-9-]+:\d{12}:execution:[^:\s]+:[^:\s]+$/.test(execution))
    throw new InvalidInputError('execution must be an execution ARN');
  const kindText = text(query, 'kind');
  // The configuration's changes are audited under the kind `config`, delegations under `delegation`.
  const kind = kindText === 'config' || kindText === 'delegation' ? kindText : parseKindFilter(kindText);
  const filter: AuditFilter = {
    ...(execution ? { execution } : {}),
    ...(kind ? { kind } : {}),
    ...(since ? { since } : {}),
    ...(until ? { until } : {}),
    ...(limit !== undefined ? { limit } : {}),
  };
  for (const name of ['actor', 'action', 'outcome'] as const) {
    const value = token(name, text(query, name));
    if (value) filter[name] = value;
  }
  const cursor = text(query, 'cursor');
  if (cursor) {
    if (cursor.length > 512) throw new InvalidInputError('cursor is not one this server returned');
    filter.cursor = cursor;
  }
  return filter;
}

export interface ExecutionFilter {
  kind: WorkflowKind;
  status?: ExecutionStatus;
  /** Only `FAILED` runs that ended with this error (`status=Signoff.Rejected` or `error=…`). */
  error?: OutcomeError;
  since?: string;
  until?: string;
  /** User key (or `platform:id`) of whoever requested it, found through the audit log. */
  requester?: string;
  limit: number;
  cursor?: string;
}

function outcomeError(value: string | undefined): OutcomeError | undefined {
  if (value === undefined) return undefined;
  if (!(OUTCOME_ERRORS as readonly string[]).includes(value))
    throw new InvalidInputError(`unknown outcome "${value.slice(0, 30)}" (${OUTCOME_ERRORS.join(', ')})`);
  return value as OutcomeError;
}

/** The executions filter of a query string; a kind is required (one state machine per kind). */
export function parseExecutionFilter(query: Query, defaults: { kind: WorkflowKind }): ExecutionFilter {
  const kind = parseKindFilter(text(query, 'kind')) ?? defaults.kind;
  const statusText = text(query, 'status');
  const error = outcomeError(
    text(query, 'error') ?? (statusText?.startsWith('Signoff.') ? statusText : undefined),
  );
  const status = error
    ? statusText === undefined || statusText === error
      ? 'FAILED'
      : statusText
    : statusText;
  if (status && !(EXECUTION_STATUSES as readonly string[]).includes(status))
    throw new InvalidInputError(`unknown execution status "${status.slice(0, 20)}"`);
  if (error && status !== 'FAILED') throw new InvalidInputError(`${error} goes with status FAILED only`);
  const since = parseTime('since', text(query, 'since'), 'since');
  const until = parseTime('until', text(query, 'until'), 'until');
  const limitText = text(query, 'limit');
  const limit = limitText === undefined ? 25 : Number(limitText);
  if (!Number.isInteger(limit) || limit < 1 || limit > 100)
    throw new InvalidInputError('limit must be a whole number from 1 to 100');
  const requester = token('requester', text(query, 'requester'));
  const cursor = text(query, 'cursor');
  if (cursor && cursor.length > 2048) throw new InvalidInputError('cursor is not one this server returned');
  return {
    kind,
    limit,
    ...(status ? { status: status as ExecutionStatus } : {}),
    ...(error ? { error } : {}),
    ...(since ? { since } : {}),
    ...(until ? { until } : {}),
    ...(requester ? { requester } : {}),
    ...(cursor ? { cursor } : {}),
  };
}

/** The query string of a filter (for links: next page, export). */
export function filterQuery(values: Record<string, string | number | undefined>): string {
  const params = new URLSearchParams();
  for (const [name, value] of Object.entries(values))
    if (value !== undefined && value !== '') params.set(name, String(value));
  const text = params.toString();
  return text ? `?${text}` : '';
}
