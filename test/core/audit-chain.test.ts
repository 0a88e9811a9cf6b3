import {
  DeleteItemCommand,
  DynamoDBClient,
  GetItemCommand,
  PutItemCommand,
  UpdateItemCommand,
} from '@aws-sdk/client-dynamodb';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Actor } from '../../core/approvals/types.ts';
import { type AuditLog, type AuditRecord, createAuditLog, type NewAuditRecord } from '../../core/audit.ts';
import { auditConfiguration } from '../../core/config-audit.ts';
import { startTestDynamo, type TestDynamo } from '../support/dynamo.ts';

let dynamo: TestDynamo;
let audit: AuditLog;

beforeEach(async () => {
  dynamo = await startTestDynamo();
  audit = createAuditLog(dynamo.client, dynamo.tableName);
});

afterEach(async () => {
  await dynamo.close();
});

const bob: Actor = { platform: 'console', id: 'bob', name: 'Bob', user: 'bob' };
const arn = (name: string) => `arn:aws:states:us-east-1:123456789012:execution:signoff-deploy:${name}`;
const record = (i: number, overrides: Partial<NewAuditRecord> = {}): NewAuditRecord => ({
  kind: 'deploy',
  executionArn: arn(`exec-${i % 3}`),
  action: 'approval.vote',
  actor: bob,
  outcome: 'approve',
  detail: { n: i },
  ...overrides,
});

/** Another writer: its own client, as another Lambda instance would have. */
function anotherWriter(): { log: AuditLog; client: DynamoDBClient } {
  const config = dynamo.client.config;
  const client = new DynamoDBClient({
    region: 'us-east-1',
    endpoint: config.endpoint,
    credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
  });
  return { log: createAuditLog(client, dynamo.tableName), client };
}

async function deployChain(): Promise<AuditRecord[]> {
  const records = [...(await audit.byKind('deploy', { limit: 1000 })).records];
  return records.sort((a, b) => (a.seq ?? 0) - (b.seq ?? 0));
}

const keyOf = (r: AuditRecord) => ({ pk: { S: `EXEC#${r.executionArn}` }, sk: { S: `AUDIT#${r.id}` } });

async function verifyDeploy() {
  const [report] = await audit.verify({ kind: 'deploy' });
  if (!report) throw new Error('no report');
  return report;
}

describe('the audit hash chain', () => {
  it('stays one chain with many concurrent writers: no seq twice, none missing, verify intact', async () => {
    const writers = Array.from({ length: 4 }, anotherWriter);
    try {
      await Promise.all(
        Array.from({ length: 60 }, (_, i) =>
          (writers[i % writers.length] as { log: AuditLog }).log.append(record(i)),
        ),
      );
      const chain = await deployChain();
      expect(chain.map((r) => r.seq)).toEqual(Array.from({ length: 60 }, (_, i) => i + 1));
      for (let i = 1; i < chain.length; i++) expect(chain[i]?.prev).toBe(chain[i - 1]?.hash);
      const report = await verifyDeploy();
      expect(report.broken).toBeUndefined();
      expect(report.checked).toBe(60);
      expect(report.head).toEqual({ seq: 60, hash: chain[59]?.hash });
    } finally {
      for (const w of writers) w.client.destroy();
    }
  });

  it('links a once record once, written again one by one, concurrently, or in a batch', async () => {
    const at = '2026-12-01T10:00:00.000Z';
    const once = 'a1#vote#bob';
    const first = await audit.append(record(1, { at }), { once });
    const again = await audit.append(record(1, { at }), { once });
    expect(again).toEqual(first);
    await Promise.all(
      Array.from({ length: 5 }, () => anotherWriter()).map(async (w) => {
        await w.log.append(record(2, { at }), { once: 'a1#decided' });
        await w.log.appendMany([
          { ...record(3, { at }), once: 'a1#vote#carol' },
          { ...record(1, { at }), once },
        ]);
        w.client.destroy();
      }),
    );
    const chain = await deployChain();
    expect(chain.map((r) => r.seq)).toEqual([1, 2, 3]);
    expect((await verifyDeploy()).broken).toBeUndefined();
  });

  it('writes the record of a writer that stopped after moving the head, at the next append', async () => {
    for (let i = 0; i < 3; i++) await audit.append(record(i));
    const chain = await deployChain();
    // As if the writer of #3 died between moving the head and putting its record.
    await dynamo.client.send(
      new DeleteItemCommand({ TableName: dynamo.tableName, Key: keyOf(chain[2] as AuditRecord) }),
    );
    expect((await verifyDeploy()).broken?.seq).toBe(3);
    // The next append comes from another instance (the one that stopped is gone).
    const next = anotherWriter();
    await next.log.append(record(3));
    next.client.destroy();
    expect((await deployChain()).map((r) => r.seq)).toEqual([1, 2, 3, 4]);
    expect(await verifyDeploy()).toMatchObject({ checked: 4 });
    expect((await verifyDeploy()).broken).toBeUndefined();
  });

  it('links a burst of appends from one writer in a few moves of the head, in the order made', async () => {
    const client = new DynamoDBClient({
      region: 'us-east-1',
      endpoint: dynamo.client.config.endpoint,
      credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
    });
    let moves = 0;
    let headReads = 0;
    client.middlewareStack.add(
      (next) => async (args) => {
        // Counted on the wire: a PutItem and a GetItem of the chain's head.
        const request = args.request as { headers: Record<string, string>; body?: string };
        const body = JSON.parse(request.body ?? '{}');
        const target = request.headers['x-amz-target'] ?? '';
        if (target.endsWith('.PutItem') && body.Item?.sk?.S === 'HEAD') moves++;
        if (target.endsWith('.GetItem') && body.Key?.sk?.S === 'HEAD') headReads++;
        return next(args);
      },
      { step: 'finalizeRequest' },
    );
    const log = createAuditLog(client, dynamo.tableName);
    const count = 150;
    try {
      const written = await Promise.all(Array.from({ length: count }, (_, i) => log.append(record(i))));
      // The first append moves the head alone; the 149 made meanwhile go 100 and 49. Only the
      // first move reads the head: the others start from the head this writer moved.
      expect(moves).toBe(3);
      expect(headReads).toBe(1);
      expect(written.map((r) => r.seq)).toEqual(Array.from({ length: count }, (_, i) => i + 1));
      expect(written.map((r) => r.detail?.n)).toEqual(Array.from({ length: count }, (_, i) => i));
      const chain = await deployChain();
      expect(chain.map((r) => r.id)).toEqual(written.map((r) => r.id));
      expect(await verifyDeploy()).toMatchObject({ checked: count, head: { seq: count } });
      expect((await verifyDeploy()).broken).toBeUndefined();
      // Another writer moves the head: this one's next move fails its condition, reads, and links after it.
      const other = anotherWriter();
      await other.log.append(record(count));
      other.client.destroy();
      expect((await log.append(record(count + 1))).seq).toBe(count + 2);
      expect(headReads).toBe(2);
      expect((await verifyDeploy()).broken).toBeUndefined();
    } finally {
      client.destroy();
    }
  });

  it('writes every record of a move whose writer stopped after moving the head, at the next append', async () => {
    await Promise.all(Array.from({ length: 5 }, (_, i) => audit.append(record(i))));
    const chain = await deployChain();
    expect(chain.map((r) => r.seq)).toEqual([1, 2, 3, 4, 5]);
    // As if the writer died after moving the head past #2–#5 (one move) and before putting them.
    for (const r of chain.slice(1))
      await dynamo.client.send(new DeleteItemCommand({ TableName: dynamo.tableName, Key: keyOf(r) }));
    expect((await verifyDeploy()).broken?.seq).toBe(2);
    const next = anotherWriter();
    await next.log.append(record(5));
    next.client.destroy();
    expect((await deployChain()).map((r) => r.seq)).toEqual([1, 2, 3, 4, 5, 6]);
    expect(await verifyDeploy()).toMatchObject({ checked: 6 });
    expect((await verifyDeploy()).broken).toBeUndefined();
  });

  it('finishes a head written before moves were grouped (one record, `item`)', async () => {
    for (let i = 0; i < 3; i++) await audit.append(record(i));
    const chain = await deployChain();
    const third = chain[2] as AuditRecord;
    const headKey = { pk: { S: 'AUDITCHAIN#deploy' }, sk: { S: 'HEAD' } };
    const head = await dynamo.client.send(
      new GetItemCommand({ TableName: dynamo.tableName, Key: headKey, ConsistentRead: true }),
    );
    const { items, ...rest } = head.Item ?? {};
    const lastItem = items?.L?.at(-1);
    if (!lastItem) throw new Error('the head holds no records');
    // The head as the version before wrote it, and #3 never put.
    await dynamo.client.send(
      new PutItemCommand({ TableName: dynamo.tableName, Item: { ...rest, item: lastItem } }),
    );
    await dynamo.client.send(new DeleteItemCommand({ TableName: dynamo.tableName, Key: keyOf(third) }));
    const next = anotherWriter();
    await next.log.append(record(3));
    next.client.destroy();
    expect((await deployChain()).map((r) => r.seq)).toEqual([1, 2, 3, 4]);
    expect((await verifyDeploy()).broken).toBeUndefined();
  });

  it('names an edited record', async () => {
    for (let i = 0; i < 5; i++) await audit.append(record(i));
    const chain = await deployChain();
    const third = chain[2] as AuditRecord;
    await dynamo.client.send(
      new UpdateItemCommand({
        TableName: dynamo.tableName,
        Key: keyOf(third),
        UpdateExpression: 'SET outcome = :o',
        ExpressionAttributeValues: { ':o': { S: 'reject' } },
      }),
    );
    expect((await verifyDeploy()).broken).toEqual({
      seq: 3,
      id: third.id,
      executionArn: third.executionArn,
      problem: 'record #3 was edited (its hash does not match its fields)',
    });
  });

  it('names a deleted record, in the middle or at the end', async () => {
    for (let i = 0; i < 5; i++) await audit.append(record(i));
    const chain = await deployChain();
    await dynamo.client.send(
      new DeleteItemCommand({ TableName: dynamo.tableName, Key: keyOf(chain[4] as AuditRecord) }),
    );
    expect((await verifyDeploy()).broken?.problem).toBe(
      'the chain ends at #4 but its head is #5 (records deleted at the end?)',
    );
    await dynamo.client.send(
      new DeleteItemCommand({ TableName: dynamo.tableName, Key: keyOf(chain[1] as AuditRecord) }),
    );
    expect((await verifyDeploy()).broken).toMatchObject({
      seq: 3,
      id: chain[2]?.id,
      problem: 'record #2 is missing (deleted?); the chain resumes at #3',
    });
  });

  it('names a reordered record (two records swapped places)', async () => {
    for (let i = 0; i < 5; i++) await audit.append(record(i));
    const chain = await deployChain();
    const [second, third] = [chain[1] as AuditRecord, chain[2] as AuditRecord];
    // Give each the other's place (seq, links and gsi4 key): the order of the chain is swapped.
    for (const [r, place] of [
      [second, third],
      [third, second],
    ] as const) {
      await dynamo.client.send(
        new UpdateItemCommand({
          TableName: dynamo.tableName,
          Key: keyOf(r),
          UpdateExpression: 'SET seq = :s, prev = :p, gsi4sk = :k',
          ExpressionAttributeValues: {
            ':s': { N: String(place.seq) },
            ':p': { S: String(place.prev) },
            ':k': { S: String(place.seq).padStart(12, '0') },
          },
        }),
      );
    }
    expect((await verifyDeploy()).broken).toMatchObject({ seq: 2, id: third.id });
  });

  it('verifies from --since: the records before it are not read, their last hash is', async () => {
    for (let i = 0; i < 4; i++) await audit.append(record(i, { at: `2026-11-0${i + 1}T00:00:00.000Z` }));
    const [report] = await audit.verify({ kind: 'deploy', since: '2026-11-03' });
    expect(report).toMatchObject({ checked: 2, head: { seq: 4 } });
    expect(report?.broken).toBeUndefined();
  });

  it('audits a configuration change once, however many instances start with it', async () => {
    const config = { version: 1, users: { bob: {} } };
    const writers = Array.from({ length: 4 }, anotherWriter);
    try {
      const starts = await Promise.all(
        writers.map((w, i) =>
          auditConfiguration(w.log, config, { source: 'signoff.config.json', by: `instance-${i}` }),
        ),
      );
      expect(starts.filter(Boolean)).toHaveLength(1);
      // The same configuration again (a restart): nothing new. Key order does not count.
      expect(
        await auditConfiguration(audit, { users: { bob: {} }, version: 1 }, { source: 'x', by: 'restart' }),
      ).toBeUndefined();
      const changed = await auditConfiguration(
        audit,
        { ...config, version: 2 },
        { source: 'x', by: 'restart' },
      );
      expect(changed).toMatchObject({ kind: 'config', action: 'config.changed', seq: 2 });
      const records = (await audit.byKind('config')).records;
      expect(records).toHaveLength(2);
      expect(records.every((r) => typeof r.detail?.hash === 'string' && r.hash)).toBe(true);
      const [report] = await audit.verify({ kind: 'config' });
      expect(report?.broken).toBeUndefined();
    } finally {
      for (const w of writers) w.client.destroy();
    }
  });
});
