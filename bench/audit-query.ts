/**
 * "Deploy approvals by bob in the last 30 days" over 100,000 audit records in the embedded
 * DynamoDB: items read and time with Signoff's key design (gsi3: actor + kind + action +
 * outcome, by time), next to two baselines measured in the same run — the by-actor index with
 * a filter (the key design before this bench) and a Scan.
 *
 *     npx tsx bench/audit-query.ts [records]
 */
import { performance } from 'node:perf_hooks';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { BatchWriteCommand, DynamoDBDocumentClient, QueryCommand, ScanCommand } from '@aws-sdk/lib-dynamodb';
import type { Actor } from '../core/approvals/types.ts';
import { type AuditRecord, auditItem, createAuditLog } from '../core/audit.ts';
import { WORKFLOW_KINDS } from '../core/config.ts';
import { ensureTable } from '../core/table.ts';
import { startDynamo } from '../local/dynamo.ts';

const TOTAL = Number(process.argv[2] ?? 100_000);
const TABLE = 'signoff-bench';
const DAY = 24 * 3600 * 1000;
const NOW = Date.parse('2025-06-30T12:00:00.000Z');
const SINCE = new Date(NOW - 30 * DAY).toISOString();

const USERS = ['alice', 'bob', 'carol', 'dave', 'erin', 'frank', 'grace', 'heidi'];
const ACTIONS: Array<[action: string, outcomes: string[]]> = [
  ['execution.requested', ['started']],
  ['approval.requested', ['pending']],
  ['approval.vote', ['approve', 'approve', 'approve', 'reject']],
  ['approval.decided', ['approved', 'rejected', 'expired']],
  ['workflow.deployed', ['deployed']],
];

/** A small deterministic PRNG, so every run seeds the same records. */
function rng(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function pick<T>(random: () => number, items: readonly T[]): T {
  return items[Math.floor(random() * items.length)] as T;
}

function records(total: number): AuditRecord[] {
  const random = rng(42);
  return Array.from({ length: total }, (_, i) => {
    const user = pick(random, USERS);
    const [action, outcomes] = pick(random, ACTIONS);
    const at = new Date(NOW - Math.floor(random() * 365 * DAY)).toISOString();
    const actor: Actor = {
      platform: 'console',
      id: user,
      name: user[0]?.toUpperCase() + user.slice(1),
      user,
    };
    const kind = pick(random, WORKFLOW_KINDS);
    return {
      id: `${at}#${i.toString(16).padStart(12, '0')}`,
      kind,
      executionArn: `arn:aws:states:us-east-1:123456789012:execution:signoff-${kind}:bench-${Math.floor(i / 5)}`,
      action,
      actor,
      outcome: pick(random, outcomes),
      at,
    };
  });
}

async function seed(client: DynamoDBDocumentClient, all: AuditRecord[]): Promise<void> {
  const batches: AuditRecord[][] = [];
  for (let i = 0; i < all.length; i += 25) batches.push(all.slice(i, i + 25));
  let next = 0;
  const worker = async () => {
    while (next < batches.length) {
      const batch = batches[next++] ?? [];
      let requests = batch.map((r) => ({ PutRequest: { Item: auditItem(r) } }));
      while (requests.length > 0) {
        const out = await client.send(new BatchWriteCommand({ RequestItems: { [TABLE]: requests } }));
        requests = (out.UnprocessedItems?.[TABLE] ?? []) as typeof requests;
      }
    }
  };
  await Promise.all(Array.from({ length: 16 }, worker));
}

interface Measure {
  name: string;
  read: number;
  capacity: number;
  matching: number;
  ms: number;
}

async function median(name: string, run: () => Promise<Omit<Measure, 'name' | 'ms'>>): Promise<Measure> {
  const times: number[] = [];
  let last: Omit<Measure, 'name' | 'ms'> = { read: 0, capacity: 0, matching: 0 };
  for (let i = 0; i < 5; i++) {
    const start = performance.now();
    last = await run();
    times.push(performance.now() - start);
  }
  times.sort((a, b) => a - b);
  return { name, ...last, ms: times[2] ?? 0 };
}

/** Page through a Query or Scan, adding up what DynamoDB says it read. */
async function readAll(
  client: DynamoDBDocumentClient,
  command: (start?: Record<string, unknown>) => QueryCommand | ScanCommand,
): Promise<Omit<Measure, 'name' | 'ms'>> {
  let start: Record<string, unknown> | undefined;
  const totals = { read: 0, capacity: 0, matching: 0 };
  do {
    const out = await client.send(command(start) as QueryCommand);
    totals.read += out.ScannedCount ?? 0;
    totals.capacity += out.ConsumedCapacity?.CapacityUnits ?? 0;
    totals.matching += out.Count ?? 0;
    start = out.LastEvaluatedKey;
  } while (start);
  return totals;
}

async function main(): Promise<void> {
  const dynamo = await startDynamo({ port: 0, host: '127.0.0.1' });
  const client = new DynamoDBClient({
    region: 'us-east-1',
    endpoint: dynamo.endpoint,
    credentials: { accessKeyId: 'bench', secretAccessKey: 'bench' },
  });
  try {
    await ensureTable(client, TABLE);
    const doc = DynamoDBDocumentClient.from(client);
    const all = records(TOTAL);
    const bobsWindow = all.filter((r) => r.actor.user === 'bob' && r.at >= SINCE).length;
    const expected = all.filter(
      (r) =>
        r.kind === 'deploy' &&
        r.actor.user === 'bob' &&
        r.action === 'approval.vote' &&
        r.outcome === 'approve' &&
        r.at >= SINCE,
    ).length;
    const seedStart = performance.now();
    await seed(doc, all);
    const seedSeconds = (performance.now() - seedStart) / 1000;
    process.stdout.write(
      `seeded ${TOTAL.toLocaleString('en')} audit records with BatchWriteItem in ${seedSeconds.toFixed(1)} s (${Math.round(TOTAL / seedSeconds)}/s)\n`,
    );
    process.stdout.write(
      `question: deploy approvals by bob since ${SINCE} (expected ${expected} records; bob has ${bobsWindow} records of any kind in that window)\n\n`,
    );

    const audit = createAuditLog(client, TABLE);
    const filter = {
      kind: 'deploy' as const,
      actor: 'bob',
      action: 'approval.vote',
      outcome: 'approve',
      since: SINCE,
      limit: 1000,
    };
    const signoff = await median(
      'Signoff: gsi3 actor+kind+action+outcome, by time (AuditLog.query)',
      async () => {
        let cursor: string | undefined;
        const totals = { read: 0, capacity: 0, matching: 0 };
        do {
          const page = await audit.query({ ...filter, ...(cursor ? { cursor } : {}) });
          totals.read += page.stats?.scanned ?? 0;
          totals.capacity += page.stats?.capacityUnits ?? 0;
          totals.matching += page.records.length;
          cursor = page.cursor;
        } while (cursor);
        return totals;
      },
    );

    const byActor = await median(
      'baseline: gsi2 by actor and time, FilterExpression on kind/action/outcome',
      () =>
        readAll(
          doc,
          (start) =>
            new QueryCommand({
              TableName: TABLE,
              IndexName: 'gsi2',
              KeyConditionExpression: 'gsi2pk = :pk AND gsi2sk >= :since',
              FilterExpression: '#kind = :kind AND #action = :action AND outcome = :outcome',
              ExpressionAttributeNames: { '#kind': 'kind', '#action': 'action' },
              ExpressionAttributeValues: {
                ':pk': 'AUDIT#ACTOR#bob',
                ':since': SINCE,
                ':kind': 'deploy',
                ':action': 'approval.vote',
                ':outcome': 'approve',
              },
              ReturnConsumedCapacity: 'TOTAL',
              ...(start ? { ExclusiveStartKey: start as never } : {}),
            }),
        ),
    );

    const scan = await median('baseline: Scan with FilterExpression', () =>
      readAll(
        doc,
        (start) =>
          new ScanCommand({
            TableName: TABLE,
            FilterExpression:
              '#kind = :kind AND #action = :action AND outcome = :outcome AND gsi2pk = :actor AND #at >= :since',
            ExpressionAttributeNames: { '#kind': 'kind', '#action': 'action', '#at': 'at' },
            ExpressionAttributeValues: {
              ':actor': 'AUDIT#ACTOR#bob',
              ':since': SINCE,
              ':kind': 'deploy',
              ':action': 'approval.vote',
              ':outcome': 'approve',
            },
            ReturnConsumedCapacity: 'TOTAL',
            ...(start ? { ExclusiveStartKey: start as never } : {}),
          }),
      ),
    );

    const rows = [signoff, byActor, scan];
    const width = Math.max(...rows.map((r) => r.name.length));
    process.stdout.write(
      `${'query'.padEnd(width)}  ${'matching'.padStart(8)}  ${'items read'.padStart(10)}  ${'RCU'.padStart(8)}  ${'median ms'.padStart(9)}\n`,
    );
    for (const r of rows) {
      process.stdout.write(
        `${r.name.padEnd(width)}  ${String(r.matching).padStart(8)}  ${String(r.read).padStart(10)}  ${r.capacity.toFixed(1).padStart(8)}  ${r.ms.toFixed(1).padStart(9)}\n`,
      );
    }
    const exact = signoff.read === signoff.matching && signoff.matching === expected;
    process.stdout.write(
      `\ntarget: read only the matching records, well under a second — ${exact ? 'met' : 'NOT met'}: ` +
        `${signoff.read} read for ${signoff.matching} matching (expected ${expected}), ${signoff.ms.toFixed(1)} ms; ` +
        `the by-actor baseline read ${(byActor.read / Math.max(1, signoff.read)).toFixed(1)}× as many, the Scan ${(scan.read / Math.max(1, signoff.read)).toFixed(0)}×\n`,
    );
    if (!exact) process.exitCode = 1;
  } finally {
    client.destroy();
    await dynamo.close();
  }
}

await main();
