import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { PutCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { batchGetAll, documentClient } from '../../core/db.ts';
import { startTestDynamo, type TestDynamo } from '../support/dynamo.ts';

let dynamo: TestDynamo;
beforeAll(async () => {
  dynamo = await startTestDynamo();
});
afterAll(async () => {
  await dynamo?.close();
});

const key = (i: number) => ({ pk: `ITEM#${i}`, sk: 'ITEM' });

/**
 * The real table behind a client that leaves `unread` keys of each of the first `times`
 * BatchGetItems unprocessed, as DynamoDB does when it throttles; records each request's size.
 */
function throttling(db: DynamoDBDocumentClient, times: number, unread: number) {
  const sizes: number[] = [];
  const send = async (command: { input: { RequestItems: Record<string, { Keys: unknown[] }> } }) => {
    const [table, request] = Object.entries(command.input.RequestItems)[0] as [string, { Keys: unknown[] }];
    sizes.push(request.Keys.length);
    const held = sizes.length <= times ? request.Keys.slice(0, unread) : [];
    const asked = {
      ...command.input,
      RequestItems: { [table]: { ...request, Keys: request.Keys.slice(held.length) } },
    };
    const rest = request.Keys.length - held.length;
    const out = (
      rest > 0 ? await db.send(new (command.constructor as new (input: unknown) => never)(asked)) : {}
    ) as { Responses?: Record<string, unknown[]> };
    return { ...out, ...(held.length ? { UnprocessedKeys: { [table]: { Keys: held } } } : {}) };
  };
  return { client: { send } as unknown as DynamoDBDocumentClient, sizes };
}

describe('batchGetAll', () => {
  it('reads every key once, 100 a request, asking again for the keys DynamoDB left unprocessed', async () => {
    const db = documentClient(dynamo.client);
    for (let i = 0; i < 150; i++)
      await db.send(new PutCommand({ TableName: dynamo.tableName, Item: { ...key(i), n: i } }));
    const { client, sizes } = throttling(db, 2, 30);
    const keys = [...Array.from({ length: 160 }, (_, i) => key(i)), key(3), key(4)];
    const items = await batchGetAll(client, dynamo.tableName, keys);
    expect(items.map((item) => item.n).sort((a, b) => Number(a) - Number(b))).toEqual(
      Array.from({ length: 150 }, (_, i) => i),
    );
    // 160 distinct keys: 100, then the 30 left unread and the other 60 (90), then 30 again.
    expect(sizes).toEqual([100, 90, 30]);
  });

  it('gives up with an error after ten requests that left keys unread', async () => {
    const { client } = throttling(documentClient(dynamo.client), 100, 1);
    await expect(batchGetAll(client, dynamo.tableName, [key(1)])).rejects.toThrow(/unread ten times/);
  });
});
