import { mkdtempSync, rmSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { queryObjects } from 'node:v8';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { type DynamoDBDocumentClient, PutCommand, QueryCommand, ScanCommand } from '@aws-sdk/lib-dynamodb';
import { AbstractIterator } from 'abstract-level';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { documentClient, queryIndex } from '../../core/db.ts';
import { ensureTable } from '../../core/table.ts';
import { createDynalite } from '../../local/dynalite.mjs';

// dynalite on disk (classic-level, as `npm start` runs it), in this process so its iterators
// can be counted; Signoff's own table and index queries.
const dir = mkdtempSync(join(tmpdir(), 'signoff-dynalite-'));
const server = createDynalite({ path: dir, createTableMs: 0 });
const TABLE = 'signoff';
let client: DynamoDBClient;
let db: DynamoDBDocumentClient;

beforeAll(async () => {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  client = new DynamoDBClient({
    region: 'us-east-1',
    endpoint: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
  });
  db = documentClient(client);
  await ensureTable(client, TABLE);
  for (let n = 0; n < 40; n++) {
    const sk = String(n).padStart(3, '0');
    await db.send(
      new PutCommand({ TableName: TABLE, Item: { pk: `P#${n % 2}`, sk, gsi1pk: 'LIST', gsi1sk: sk } }),
    );
  }
});

afterAll(async () => {
  client.destroy();
  await new Promise((resolve) => server.close(resolve));
  rmSync(dir, { recursive: true, force: true });
});

/** LevelDB iterators still reachable after a full collection: the ones nobody closed. */
const liveIterators = () => queryObjects(AbstractIterator, { format: 'count' }) as number;

describe('createDynalite', () => {
  it('closes the LevelDB iterator of every Query and Scan, whether it stops at a Limit or at the end', async () => {
    const before = liveIterators();
    for (let i = 0; i < 50; i++) {
      await Promise.all([
        // An index Query that stops at its Limit (the listings), one that reads to the end of
        // its range, and a Scan.
        queryIndex(db, TABLE, 'gsi1', 'LIST', { limit: 1 }),
        db.send(
          new QueryCommand({
            TableName: TABLE,
            KeyConditionExpression: 'pk = :p AND sk BETWEEN :a AND :b',
            ExpressionAttributeValues: { ':p': 'P#1', ':a': '001', ':b': '009' },
          }),
        ),
        db.send(new ScanCommand({ TableName: TABLE, Limit: 3 })),
      ]);
    }
    // 150 reads; dynalite 4.0.0 alone leaves one open iterator behind for each of them.
    expect(liveIterators() - before).toBeLessThan(10);
  });
});
