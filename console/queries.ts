import type { DescribeExecutionCommandOutput, ExecutionListItem, HistoryEvent } from '@aws-sdk/client-sfn';
import { EXECUTION_REQUESTED } from '../core/app.ts';
import { pendingApprovers } from '../core/approvals/nudge.ts';
import { type Delegates, NO_DELEGATES } from '../core/approvals/seats.ts';
import type { ApprovalStore } from '../core/approvals/store.ts';
import type { Approval } from '../core/approvals/types.ts';
import type { AuditLog, AuditRecord } from '../core/audit.ts';
import type { Config, WorkflowKind } from '../core/config.ts';
import { canReadDefinitions, type EngineClient } from '../core/engine.ts';
import { NotFoundError } from '../core/errors.ts';
import type { ExecutionFilter } from './filters.ts';
import { type StateStatus, stateStatuses } from './graph.tsx';

/** What the console, its API and the CLI read from: the same core clients everywhere. */
export interface ConsoleSources {
  engine: EngineClient;
  audit: AuditLog;
  store: ApprovalStore;
  config: Config;
}

/** A listed execution; a `FAILED` one also says how it ended (`Signoff.Rejected` and the reason, …). */
export type ExecutionRow = ExecutionListItem & { error?: string; cause?: string };

export interface ExecutionPage {
  executions: ExecutionRow[];
  cursor?: string;
}

function toDate(bound: string, end: boolean): Date {
  // A bare date as an upper bound means the end of that day.
  if (bound.length === 10) return new Date(`${bound}T${end ? '23:59:59.999' : '00:00:00.000'}Z`);
  return new Date(bound);
}

/**
 * Executions of one kind, newest first, filtered by status, start date and requester. The
 * requester comes from the audit log (the request record by that actor, read by its own
 * key); the rest from ListExecutions.
 */
export async function listExecutions(
  sources: ConsoleSources,
  filter: ExecutionFilter,
): Promise<ExecutionPage> {
  const since = filter.since ? toDate(filter.since, false) : undefined;
  const until = filter.until ? toDate(filter.until, true) : undefined;

  if (filter.requester) {
    const page = await sources.audit.query({
      kind: filter.kind,
      actor: filter.requester,
      action: EXECUTION_REQUESTED,
      outcome: 'started',
      ...(filter.since ? { since: filter.since } : {}),
      ...(filter.until ? { until: filter.until } : {}),
      limit: filter.limit,
      ...(filter.cursor ? { cursor: filter.cursor } : {}),
    });
    const described = await Promise.all(page.records.map((r) => sources.engine.describe(r.executionArn)));
    const executions = described
      .filter((e): e is DescribeExecutionCommandOutput => e !== undefined)
      .filter((e) => !filter.status || e.status === filter.status)
      .filter((e) => !filter.error || e.error === filter.error)
      .map(
        (e): ExecutionRow => ({
          executionArn: e.executionArn,
          stateMachineArn: e.stateMachineArn,
          name: e.name,
          status: e.status,
          startDate: e.startDate,
          ...(e.stopDate ? { stopDate: e.stopDate } : {}),
          ...(e.error !== undefined ? { error: e.error } : {}),
          ...(e.cause !== undefined ? { cause: e.cause } : {}),
        }),
      );
    return { executions, ...(page.cursor ? { cursor: page.cursor } : {}) };
  }

  const executions: ExecutionRow[] = [];
  let cursor = filter.cursor;
  // Pages are newest first: skip what is newer than `until`, stop at the first older than `since`.
  for (let pages = 0; pages < 20; pages++) {
    const page = await sources.engine.list(filter.kind, {
      ...(filter.status ? { status: filter.status } : {}),
      limit: filter.limit,
      ...(cursor ? { cursor } : {}),
    });
    let passedSince = false;
    const inRange: ExecutionListItem[] = [];
    for (const e of page.executions) {
      const started = e.startDate ? new Date(e.startDate) : undefined;
      if (until && started && started > until) continue;
      if (since && started && started < since) {
        passedSince = true;
        break;
      }
      inRange.push(e);
    }
    for (const row of await withOutcomes(sources, inRange))
      if (!filter.error || row.error === filter.error) executions.push(row);
    cursor = passedSince ? undefined : page.cursor;
    if (executions.length > 0 || !cursor) break;
  }
  return { executions, ...(cursor ? { cursor } : {}) };
}

/** Executions of several kinds merged newest first, and the cursor of each kind that has more. */
export interface AllExecutionsPage {
  executions: Array<ExecutionRow & { kind: WorkflowKind }>;
  /** Where each kind with more goes on: pass it back with that `kind`. */
  cursors: Partial<Record<WorkflowKind, string>>;
}

/**
 * The newest `limit` executions of all the given kinds (the CLI's `executions` and the API
 * without a kind): each kind's first page, merged by start time.
 */
export async function listAllExecutions(
  sources: ConsoleSources,
  kinds: readonly WorkflowKind[],
  filter: Omit<ExecutionFilter, 'kind' | 'cursor'>,
): Promise<AllExecutionsPage> {
  const pages = await Promise.all(kinds.map((kind) => listExecutions(sources, { ...filter, kind })));
  const cursors: Partial<Record<WorkflowKind, string>> = {};
  const rows = pages.flatMap((page, i) => {
    const kind = kinds[i] as WorkflowKind;
    if (page.cursor) cursors[kind] = page.cursor;
    return page.executions.map((e) => ({ ...e, kind }));
  });
  const started = (e: ExecutionRow) => new Date(e.startDate ?? 0).getTime();
  return { executions: rows.sort((a, b) => started(b) - started(a)).slice(0, filter.limit), cursors };
}

/**
 * ListExecutions does not say why a run failed: describe each `FAILED` one for its error and
 * cause, so a rejected, cancelled or expired run reads apart from a broken one.
 */
async function withOutcomes(sources: ConsoleSources, listed: ExecutionListItem[]): Promise<ExecutionRow[]> {
  return Promise.all(
    listed.map(async (e): Promise<ExecutionRow> => {
      if (e.status !== 'FAILED' || !e.executionArn) return e;
      const described = await sources.engine.describe(e.executionArn);
      return {
        ...e,
        ...(described?.error !== undefined ? { error: described.error } : {}),
        ...(described?.cause !== undefined ? { cause: described.cause } : {}),
      };
    }),
  );
}

/** Who a pending approval still waits on: approvers who have not voted (and may). */
export function waitingOn(approval: Approval, delegates: Delegates = NO_DELEGATES): string[] {
  return pendingApprovers(approval, delegates);
}

/**
 * Pending approvals the user may decide now (an approver, or the delegate of one who is away;
 * not yet voted, not their own unless allowed). A delegator back early keeps their seat, so
 * their requests stay listed for them too (whoever votes first fills it).
 */
export function approvalsFor(
  user: string,
  pending: Approval[],
  delegates: Delegates = NO_DELEGATES,
): Approval[] {
  return pending.filter(
    (a) => a.status === 'pending' && (waitingOn(a, delegates).includes(user) || waitingOn(a).includes(user)),
  );
}

export interface ExecutionDetails {
  execution: DescribeExecutionCommandOutput;
  history: HistoryEvent[];
  approvals: Approval[];
  audit: AuditRecord[];
  /** The ASL the execution runs, when the engine can say. */
  definition?: string;
  states: Record<string, StateStatus>;
}

const EXECUTION_ARN = /^arn:aws[a-z-]*:states:[a-z0-9-]+:\d{12}:execution:[^:]+:[^:]+$/;

/** One execution: description, history, definition with each state's status, approvals and audit. */
export async function executionDetails(
  sources: ConsoleSources,
  executionArn: string,
): Promise<ExecutionDetails> {
  if (!EXECUTION_ARN.test(executionArn))
    throw new NotFoundError('not an execution ARN', { code: 'ExecutionNotFound' });
  const execution = await sources.engine.describe(executionArn);
  if (!execution) throw new NotFoundError('no such execution', { code: 'ExecutionNotFound' });
  const engine = sources.engine;
  const [history, approvals, audit, definition] = await Promise.all([
    engine.history(executionArn),
    sources.store.forExecution(executionArn),
    sources.audit.byExecution(executionArn),
    canReadDefinitions(engine) ? engine.definitionFor(executionArn) : Promise.resolve(undefined),
  ]);
  const names = definition ? topLevelStates(definition) : [];
  return {
    execution,
    history,
    approvals,
    audit,
    ...(definition ? { definition } : {}),
    states: stateStatuses(names, history, execution.status),
  };
}

function topLevelStates(definition: string): string[] {
  try {
    const states = (JSON.parse(definition) as { States?: unknown }).States;
    return states && typeof states === 'object' ? Object.keys(states) : [];
  } catch {
    return [];
  }
}

/** Resolve what a person typed for an execution: an ARN, or a name within a kind. */
export function executionArnOf(
  engine: EngineClient,
  value: string,
  kind: Parameters<EngineClient['executionArn']>[0],
): string {
  return value.startsWith('arn:') ? value : engine.executionArn(kind, value);
}
