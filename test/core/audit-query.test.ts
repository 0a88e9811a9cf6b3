import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Actor } from '../../core/approvals/types.ts';
import { type AuditLog, createAuditLog, type NewAuditRecord } from '../../core/audit.ts';
import { InvalidInputError } from '../../core/errors.ts';
import { startTestDynamo, type TestDynamo } from '../support/dynamo.ts';

let dynamo: TestDynamo;
let audit: AuditLog;

const bob: Actor = { platform: 'console', id: 'bob', name: 'Bob', user: 'bob' };
const carol: Actor = { platform: 'console', id: 'carol', name: 'Carol', user: 'carol' };
const arn = (kind: string, n: number) =>
  `arn:aws:states:us-east-1:123456789012:execution:signoff-${kind}:e${n}`;
const day = (d: number) => `2040-03-${String(d).padStart(2, '0')}T10:00:00.000Z`;

function rec(over: Partial<NewAuditRecord>): NewAuditRecord {
  return {
    kind: 'deploy',
    executionArn: arn('deploy', 1),
    action: 'approval.vote',
    actor: bob,
    outcome: 'approve',
    ...over,
  };
}

beforeAll(async () => {
  dynamo = await startTestDynamo();
  audit = createAuditLog(dynamo.client, dynamo.tableName);
  // bob approves deploys on days 1..10; other records around them that must not be read.
  for (let d = 1; d <= 10; d++) await audit.append(rec({ at: day(d), executionArn: arn('deploy', d) }));
  for (let d = 1; d <= 10; d++) {
    await audit.append(rec({ at: day(d), outcome: 'reject', executionArn: arn('deploy', d) }));
    await audit.append(rec({ at: day(d), kind: 'rollback', executionArn: arn('rollback', d) }));
    await audit.append(rec({ at: day(d), action: 'execution.requested', outcome: 'started' }));
    await audit.append(rec({ at: day(d), actor: carol, executionArn: arn('deploy', d) }));
  }
}, 30_000);

afterAll(async () => {
  await dynamo.close();
});

describe('AuditLog.query', () => {
  it('answers "deploy approvals by bob" from its own key, reading only the matching records', async () => {
    const page = await audit.query({
      kind: 'deploy',
      actor: 'bob',
      action: 'approval.vote',
      outcome: 'approve',
      since: day(4),
      until: '2040-03-08',
    });
    expect(page.records.map((r) => r.at)).toEqual([day(8), day(7), day(6), day(5), day(4)]);
    expect(page.stats).toMatchObject({ access: 'actor+kind+action+outcome', scanned: 5, queries: 1 });
    expect(page.cursor).toBeUndefined();
  });

  it('filters what the key does not cover, and says how much it read', async () => {
    const page = await audit.query({
      actor: 'bob',
      outcome: 'reject',
      since: '2040-03-01',
      until: '2040-03-31',
    });
    expect(page.records).toHaveLength(10);
    expect(page.records.every((r) => r.outcome === 'reject' && r.actor.user === 'bob')).toBe(true);
    expect(page.stats?.access).toBe('actor');
    expect(page.stats?.scanned).toBeGreaterThan(10);
  });

  it('merges every kind newest first and pages with its cursor without repeats or gaps', async () => {
    const seen: string[] = [];
    let cursor: string | undefined;
    let pages = 0;
    do {
      const page = await audit.query({
        actor: 'bob',
        action: 'approval.vote',
        outcome: 'approve',
        since: '2040-03-01',
        until: '2040-03-31',
        limit: 3,
        ...(cursor ? { cursor } : {}),
      });
      seen.push(...page.records.map((r) => r.id));
      cursor = page.cursor;
      pages++;
    } while (cursor && pages < 20);
    expect(seen).toHaveLength(20); // 10 deploy + 10 rollback
    expect(new Set(seen).size).toBe(20);
    expect([...seen].sort().reverse()).toEqual(seen);

    const everyKind = await audit.query({ outcome: 'started', since: '2040-03-01', until: '2040-03-31' });
    expect(everyKind.stats?.access).toBe('every kind');
    expect(everyKind.records).toHaveLength(10);
  });

  it('reads one execution from the base table', async () => {
    const page = await audit.query({ execution: arn('rollback', 3) });
    expect(page.stats?.access).toBe('execution');
    expect(page.records).toHaveLength(1);
    expect(page.records[0]?.kind).toBe('rollback');
  });

  it('refuses a cursor it did not make', async () => {
    await expect(audit.query({ kind: 'deploy', cursor: 'nope' })).rejects.toBeInstanceOf(InvalidInputError);
    const forged = Buffer.from(JSON.stringify({ before: 'x' })).toString('base64url');
    await expect(audit.query({ kind: 'deploy', cursor: forged })).rejects.toBeInstanceOf(InvalidInputError);
  });
});
