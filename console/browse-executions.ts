import type { WorkflowKind } from '../core/config.ts';
import { InvalidInputError } from '../core/errors.ts';
import type { ExecutionFilter } from './filters.ts';
import { type ConsoleSources, type ExecutionRow, listExecutions } from './queries.ts';

/** How deep the pages go: page × limit executions of each kind are read to answer a page. */
export const MAX_PAGE = 40;

export interface ExecutionBrowse {
  executions: Array<ExecutionRow & { kind: WorkflowKind }>;
  page: number;
  hasNext: boolean;
}

/** A page number from a query value: 1 when absent, a 400 when not 1 to MAX_PAGE. */
export function parsePageNumber(value: string | undefined): number {
  if (value === undefined || value === '') return 1;
  const page = Number(value);
  if (!Number.isInteger(page) || page < 1 || page > MAX_PAGE)
    throw new InvalidInputError(
      `page must be a whole number from 1 to ${MAX_PAGE}; narrow the filter to go further`,
    );
  return page;
}

/**
 * One numbered page of executions of the given kinds, newest first across all of them, with the
 * filter's status, dates and requester. Each kind is read from its newest up to the end of the
 * page (its own cursors, kept server-side), then the kinds are merged by start time: so a page
 * can go back as well as forward, and every kind is in the same order as it would be alone.
 */
export async function browseExecutions(
  sources: ConsoleSources,
  kinds: readonly WorkflowKind[],
  filter: Omit<ExecutionFilter, 'kind' | 'cursor'>,
  page: number,
): Promise<ExecutionBrowse> {
  const need = page * filter.limit + 1;
  const perKind = await Promise.all(
    kinds.map(async (kind) => {
      const rows: Array<ExecutionRow & { kind: WorkflowKind }> = [];
      let cursor: string | undefined;
      // Bounded: listExecutions answers at least one row per call unless the kind is exhausted.
      for (let calls = 0; calls < need + 1 && rows.length < need; calls++) {
        const result = await listExecutions(sources, {
          ...filter,
          kind,
          limit: Math.min(100, need - rows.length),
          ...(cursor ? { cursor } : {}),
        });
        rows.push(...result.executions.map((e) => ({ ...e, kind })));
        cursor = result.cursor;
        if (!cursor) break;
      }
      return rows;
    }),
  );
  const time = (e: ExecutionRow) => (e.startDate ? new Date(e.startDate).getTime() : 0);
  const merged = perKind.flat().sort((a, b) => time(b) - time(a));
  const start = (page - 1) * filter.limit;
  return {
    executions: merged.slice(start, start + filter.limit),
    page,
    hasNext: merged.length > start + filter.limit,
  };
}
