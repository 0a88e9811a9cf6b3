import type { ExecutionListItem } from '@aws-sdk/client-sfn';
import { describe, expect, it } from 'vitest';
import { browseExecutions, parsePageNumber } from '../../console/browse-executions.ts';
import type { ConsoleSources } from '../../console/queries.ts';
import type { WorkflowKind } from '../../core/config.ts';
import { InvalidInputError } from '../../core/errors.ts';

/** An engine holding executions per kind, newest first, paged by an offset cursor like ListExecutions. */
function engineWith(byKind: Partial<Record<WorkflowKind, number[]>>) {
  const calls: string[] = [];
  const items = (kind: WorkflowKind): ExecutionListItem[] =>
    (byKind[kind] ?? [])
      .slice()
      .sort((a, b) => b - a)
      .map((minute) => ({
        executionArn: `arn:aws:states:us-east-1:123456789012:execution:signoff-${kind}:${kind}-${minute}`,
        stateMachineArn: `arn:aws:states:us-east-1:123456789012:stateMachine:signoff-${kind}`,
        name: `${kind}-${minute}`,
        status: 'SUCCEEDED',
        startDate: new Date(Date.UTC(2026, 0, 1, 0, minute)),
      }));
  const engine = {
    async list(kind: WorkflowKind, options: { limit?: number; cursor?: string } = {}) {
      calls.push(`${kind}@${options.cursor ?? 0}+${options.limit}`);
      const from = Number(options.cursor ?? 0);
      const to = from + (options.limit ?? 50);
      const all = items(kind);
      return { executions: all.slice(from, to), ...(to < all.length ? { cursor: String(to) } : {}) };
    },
  };
  return { sources: { engine } as unknown as ConsoleSources, calls };
}

const names = (page: { executions: Array<{ name?: string }> }) => page.executions.map((e) => e.name);

describe('browseExecutions', () => {
  const { sources } = engineWith({
    'merge-request': [1, 4, 7, 10],
    deploy: [2, 5, 8],
    rollback: [3],
  });
  const kinds = ['merge-request', 'deploy', 'rollback', 'support-case'] as const;

  it('merges every kind newest first, a page at a time, forward and back', async () => {
    const first = await browseExecutions(sources, kinds, { limit: 3 }, 1);
    expect(names(first)).toEqual(['merge-request-10', 'deploy-8', 'merge-request-7']);
    expect(first.hasNext).toBe(true);
    const second = await browseExecutions(sources, kinds, { limit: 3 }, 2);
    expect(names(second)).toEqual(['deploy-5', 'merge-request-4', 'rollback-3']);
    const third = await browseExecutions(sources, kinds, { limit: 3 }, 3);
    expect(names(third)).toEqual(['deploy-2', 'merge-request-1']);
    expect(third.hasNext).toBe(false);
    expect(third.executions.map((e) => e.kind)).toEqual(['deploy', 'merge-request']);
    // Back from page 3 is exactly page 2 again.
    expect(names(await browseExecutions(sources, kinds, { limit: 3 }, 2))).toEqual(names(second));
  });

  it('follows each kind past its first page of ListExecutions', async () => {
    const many = engineWith({ deploy: Array.from({ length: 30 }, (_, i) => i) });
    const page = await browseExecutions(many.sources, ['deploy'], { limit: 10 }, 3);
    expect(names(page)).toEqual(Array.from({ length: 10 }, (_, i) => `deploy-${9 - i}`));
    expect(page.hasNext).toBe(false);
  });

  it('reads a page from pages of one kind only when asked for one kind', async () => {
    const one = engineWith({ 'merge-request': [1], deploy: [2] });
    const page = await browseExecutions(one.sources, ['merge-request'], { limit: 5 }, 1);
    expect(names(page)).toEqual(['merge-request-1']);
    expect(one.calls.every((call) => call.startsWith('merge-request@'))).toBe(true);
  });
});

describe('parsePageNumber', () => {
  it('takes 1 to 40, and answers anything else with a 400', () => {
    expect(parsePageNumber(undefined)).toBe(1);
    expect(parsePageNumber('')).toBe(1);
    expect(parsePageNumber('7')).toBe(7);
    for (const bad of ['0', '-1', '1.5', '41', 'x', '1e3'])
      expect(() => parsePageNumber(bad), bad).toThrow(InvalidInputError);
  });
});
