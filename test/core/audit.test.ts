import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Actor } from '../../core/approvals/types.ts';
import { type AuditLog, actorKey, createAuditLog, type NewAuditRecord } from '../../core/audit.ts';
import { InvalidInputError } from '../../core/errors.ts';
import { startTestDynamo, type TestDynamo } from '../support/dynamo.ts';

let dynamo: TestDynamo;
let audit: AuditLog;

beforeAll(async () => {
  dynamo = await startTestDynamo();
  audit = createAuditLog(dynamo.client, dynamo.tableName);
});

afterAll(async () => {
  await dynamo.close();
});

const bob: Actor = { platform: 'console', id: 'bob', name: 'Bob', user: 'bob' };
const stranger: Actor = { platform: 'line', id: 'U42', name: 'Stranger' };
const arn = (name: string) => `arn:aws:states:us-east-1:123456789012:execution:signoff-deploy:${name}`;

function record(overrides: Partial<NewAuditRecord> = {}): NewAuditRecord {
  return {
    kind: 'deploy',
    executionArn: arn('exec-1'),
    action: 'approval.vote',
    actor: bob,
    outcome: 'approve',
    ...overrides,
  };
}

/** Each test writes in its own year, so range queries see only that test's records. */
const inYear = (year: number, day: number) => `${year}-01-${String(day).padStart(2, '0')}T12:00:00.000Z`;

describe('actorKey', () => {
  it('files a known person under their user key and anyone else under platform and id', () => {
    expect(actorKey(bob)).toBe('bob');
    expect(actorKey(stranger)).toBe('line:U42');
  });
});

describe('createAuditLog', () => {
  it('appends a record with a time-ordered id and reads it back by execution', async () => {
    const executionArn = arn('append-read');
    const written = await audit.append(
      record({ executionArn, at: inYear(2031, 1), detail: { approvalId: 'a1', attempt: 2, final: true } }),
    );
    expect(written.id.startsWith(`${inYear(2031, 1)}#`)).toBe(true);
    expect(await audit.byExecution(executionArn)).toEqual([written]);
  });

  it('keeps both records when two are appended for the same execution at the same instant', async () => {
    const executionArn = arn('same-instant');
    const at = inYear(2032, 1);
    const first = await audit.append(record({ executionArn, at, outcome: 'approve' }));
    const second = await audit.append(record({ executionArn, at, outcome: 'reject' }));

    expect(first.id).not.toBe(second.id);
    const records = await audit.byExecution(executionArn);
    expect(records.map((r) => r.outcome).sort()).toEqual(['approve', 'reject']);
  });

  it('returns the records of an execution oldest first', async () => {
    const executionArn = arn('ordered');
    for (const day of [3, 1, 2])
      await audit.append(record({ executionArn, at: inYear(2033, day), outcome: `d${day}` }));
    expect((await audit.byExecution(executionArn)).map((r) => r.outcome)).toEqual(['d1', 'd2', 'd3']);
  });

  it('queries by kind within a time range, newest first, bounds included', async () => {
    for (const day of [1, 2, 3, 4, 5]) {
      await audit.append(record({ kind: 'rollback', at: inYear(2034, day), outcome: `d${day}` }));
    }
    await audit.append(record({ kind: 'deploy', at: inYear(2034, 3), outcome: 'other-kind' }));

    const page = await audit.byKind('rollback', { since: inYear(2034, 2), until: inYear(2034, 4) });
    expect(page.records.map((r) => r.outcome)).toEqual(['d4', 'd3', 'd2']);
    expect(page.cursor).toBeUndefined();

    const fromDay4 = await audit.byKind('rollback', { since: inYear(2034, 4), until: '2034-12-31' });
    expect(fromDay4.records.map((r) => r.outcome)).toEqual(['d5', 'd4']);
  });

  it('queries by actor within a time range, for known and unknown identities', async () => {
    await audit.append(record({ actor: bob, at: inYear(2035, 1), outcome: 'bob-1' }));
    await audit.append(record({ actor: bob, at: inYear(2035, 9), outcome: 'bob-9' }));
    await audit.append(record({ actor: stranger, at: inYear(2035, 2), outcome: 'stranger-2' }));

    const bobs = await audit.byActor('bob', { since: '2035-01-01', until: '2035-01-05' });
    expect(bobs.records.map((r) => r.outcome)).toEqual(['bob-1']);
    const strangers = await audit.byActor('line:U42', { since: '2035-01-01', until: '2035-12-31' });
    expect(strangers.records.map((r) => r.outcome)).toEqual(['stranger-2']);
    expect(strangers.records[0]?.actor).toEqual(stranger);
  });

  it('pages through a range with the returned cursor, without repeats or gaps', async () => {
    const days = [1, 2, 3, 4, 5, 6, 7];
    for (const day of days)
      await audit.append(record({ kind: 'support-case', at: inYear(2036, day), outcome: `d${day}` }));
    const range = { since: '2036-01-01', until: '2036-12-31', limit: 3 };

    const seen: string[] = [];
    let cursor: string | undefined;
    let pages = 0;
    do {
      const page = await audit.byKind('support-case', { ...range, ...(cursor ? { cursor } : {}) });
      expect(page.records.length).toBeLessThanOrEqual(3);
      seen.push(...page.records.map((r) => r.outcome));
      cursor = page.cursor;
      pages++;
    } while (cursor && pages < 10);

    expect(seen).toEqual(['d7', 'd6', 'd5', 'd4', 'd3', 'd2', 'd1']);
    expect(pages).toBeGreaterThanOrEqual(3);
  });

  it('rejects a cursor that is not base64 JSON as invalid input', async () => {
    await expect(audit.byKind('deploy', { cursor: 'not a cursor!' })).rejects.toBeInstanceOf(
      InvalidInputError,
    );
    const notAnObject = Buffer.from('[1,2]').toString('base64url');
    await expect(audit.byActor('bob', { cursor: notAnObject })).rejects.toBeInstanceOf(InvalidInputError);
  });

  it('rejects a well-formed cursor that is not a key of this query as invalid input', async () => {
    const empty = Buffer.from('{}').toString('base64url');
    await expect(audit.byKind('deploy', { cursor: empty })).rejects.toBeInstanceOf(InvalidInputError);

    for (const day of [1, 2]) await audit.append(record({ kind: 'deploy', at: inYear(2037, day) }));
    const page = await audit.byKind('deploy', { since: '2037-01-01', until: '2037-12-31', limit: 1 });
    expect(page.cursor).toBeDefined();
    // A cursor from the by-kind listing means nothing to the by-actor listing.
    await expect(audit.byActor('bob', { cursor: page.cursor as string })).rejects.toBeInstanceOf(
      InvalidInputError,
    );
  });
});

describe('appendMany', () => {
  it('writes several records in one round trip, each findable by execution, kind and actor', async () => {
    const { client, tableName, close } = await startTestDynamo();
    try {
      const log = createAuditLog(client, tableName);
      const executionArn = 'arn:aws:states:us-east-1:123456789012:execution:signoff-deploy:batch-1';
      const actor = { platform: 'console' as const, id: 'bob', name: 'Bob', user: 'bob' };
      const records = await log.appendMany(
        Array.from({ length: 30 }, (_, i) => ({
          kind: 'deploy' as const,
          executionArn,
          action: i === 0 ? 'approval.vote' : 'approval.decided',
          actor,
          outcome: 'approve',
          at: new Date(Date.UTC(2026, 10, 23, 0, 0, i)).toISOString(),
        })),
      );
      expect(new Set(records.map((r) => r.id)).size).toBe(30);
      expect(await log.byExecution(executionArn)).toHaveLength(30);
      expect((await log.byActor('bob', { limit: 100 })).records.length).toBeGreaterThanOrEqual(30);
    } finally {
      await close();
    }
  });
});
