import { ConditionalCheckFailedException, type DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { BatchGetCommand, DynamoDBDocumentClient, PutCommand, QueryCommand } from '@aws-sdk/lib-dynamodb';

/**
 * Attempts per DynamoDB call. The SDK's default of 3 gives up after ~0.3 s of throttling; a
 * throttled write that gives up fails a webhook or a task. 10 is what SDK v2 used for DynamoDB,
 * with exponential backoff and jitter (capped at 20 s) between attempts.
 */
export const DYNAMODB_MAX_ATTEMPTS = 10;

/** The document client every store uses (plain objects in and out; undefined fields dropped). */
export function documentClient(client: DynamoDBClient): DynamoDBDocumentClient {
  return DynamoDBDocumentClient.from(client, { marshallOptions: { removeUndefinedValues: true } });
}

/**
 * Query one partition of a GSI (`<index>pk = pk`), newest first unless `forward`. A page
 * stops at 1 MB, so this keeps reading until `limit` items or the end.
 */
export async function queryIndex(
  db: DynamoDBDocumentClient,
  tableName: string,
  index: string,
  pk: string,
  options: { limit?: number; forward?: boolean } = {},
): Promise<Record<string, unknown>[]> {
  const limit = options.limit ?? 100;
  const items: Record<string, unknown>[] = [];
  let start: Record<string, unknown> | undefined;
  do {
    const out = await db.send(
      new QueryCommand({
        TableName: tableName,
        IndexName: index,
        KeyConditionExpression: '#pk = :pk',
        ExpressionAttributeNames: { '#pk': `${index}pk` },
        ExpressionAttributeValues: { ':pk': pk },
        ScanIndexForward: options.forward ?? false,
        Limit: limit - items.length,
        ExclusiveStartKey: start,
      }),
    );
    items.push(...(out.Items ?? []));
    start = out.LastEvaluatedKey;
  } while (start && items.length < limit);
  return items;
}

/**
 * Read items by key, consistently, as few BatchGetItems as it takes: 100 keys a request, and the
 * keys DynamoDB leaves unprocessed (throttling) asked again after a backoff (10 ms doubling), ten
 * requests at most before it gives up. Duplicate keys are read once. The items come back in no
 * particular order; missing ones are not there.
 */
export async function batchGetAll(
  db: DynamoDBDocumentClient,
  tableName: string,
  keys: Array<{ pk: string; sk: string }>,
): Promise<Record<string, unknown>[]> {
  const found: Record<string, unknown>[] = [];
  let pending: Array<Record<string, unknown>> = [
    ...new Map(keys.map((key) => [`${key.pk} ${key.sk}`, key])).values(),
  ];
  let retries = 0;
  while (pending.length > 0) {
    const out = await db.send(
      new BatchGetCommand({
        RequestItems: { [tableName]: { Keys: pending.slice(0, 100), ConsistentRead: true } },
      }),
    );
    found.push(...(out.Responses?.[tableName] ?? []));
    const unread = (out.UnprocessedKeys?.[tableName]?.Keys ?? []) as typeof pending;
    pending = [...unread, ...pending.slice(100)];
    if (unread.length === 0) continue;
    retries += 1;
    if (retries >= 10) throw new Error(`DynamoDB left ${unread.length} key(s) unread ten times`);
    await new Promise((resolve) => setTimeout(resolve, 10 * 2 ** retries));
  }
  return found;
}

/**
 * Put an item only if its key is new; when it exists (a retried task, a redelivery), answer
 * with what is stored instead. The building block of every idempotent create.
 */
export async function putIfAbsent<T>(
  db: DynamoDBDocumentClient,
  tableName: string,
  item: Record<string, unknown>,
  created: T,
  readExisting: () => Promise<T | undefined>,
): Promise<{ value: T; created: boolean }> {
  try {
    await db.send(
      new PutCommand({ TableName: tableName, Item: item, ConditionExpression: 'attribute_not_exists(pk)' }),
    );
    return { value: created, created: true };
  } catch (error) {
    if (!(error instanceof ConditionalCheckFailedException)) throw error;
    const existing = await readExisting();
    if (!existing) throw error;
    return { value: existing, created: false };
  }
}
