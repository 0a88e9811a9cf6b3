import {
  CreateTableCommand,
  type CreateTableCommandInput,
  DescribeTableCommand,
  type DynamoDBClient,
  ResourceNotFoundException,
} from '@aws-sdk/client-dynamodb';
import pRetry from 'p-retry';

/**
 * One table holds everything (docs/architecture.md, "Key design"). Items:
 *
 * | item          | pk                 | sk                      | gsi1 (listing)                 | gsi2 (lookup)              | gsi3                 | gsi4 (outbox) |
 * | approval      | APPROVAL#<id>      | APPROVAL                | APPROVALS#<status> / created#id | SUBJECT#<subject> / created | EXEC#<arn> / created | OUTBOX / id   |
 * | audit record  | EXEC#<arn>         | AUDIT#<time>#<rand>     | AUDIT#KIND#<kind> / time#rand   | AUDIT#ACTOR#<actor> / time  | AUDIT#DID#<actor>#<kind>#<action>#<outcome> / time | — |
 * | notification  | USER#<userKey>     | NOTE#<time>#<rand>      | —                              | —                          | —                    | —             |
 * | delegation    | DELEGATION#<user>  | DELEGATION              | —                              | DELEGATE#<to> / user       | —                    | —             |
 * | reject reason | REASON#<platform>#<platform user id> | REASON | —                     | —                          | —                    | —             |
 *
 * Every query is a Query on the base table or one GSI; nothing Scans.
 */
export const INDEXES = ['gsi1', 'gsi2', 'gsi3', 'gsi4'] as const;

export function tableDefinition(tableName: string): CreateTableCommandInput {
  return {
    TableName: tableName,
    BillingMode: 'PAY_PER_REQUEST',
    KeySchema: [
      { AttributeName: 'pk', KeyType: 'HASH' },
      { AttributeName: 'sk', KeyType: 'RANGE' },
    ],
    AttributeDefinitions: [
      { AttributeName: 'pk', AttributeType: 'S' },
      { AttributeName: 'sk', AttributeType: 'S' },
      ...INDEXES.flatMap((index) => [
        { AttributeName: `${index}pk`, AttributeType: 'S' as const },
        { AttributeName: `${index}sk`, AttributeType: 'S' as const },
      ]),
    ],
    GlobalSecondaryIndexes: INDEXES.map((index) => ({
      IndexName: index,
      KeySchema: [
        { AttributeName: `${index}pk`, KeyType: 'HASH' as const },
        { AttributeName: `${index}sk`, KeyType: 'RANGE' as const },
      ],
      Projection: { ProjectionType: 'ALL' as const },
    })),
  };
}

/** A table just created is not ACTIVE yet. */
class TableNotActiveError extends Error {
  override name = 'TableNotActiveError';
}

/** Create the table when it does not exist (local runtime and tests; on AWS the CDK stack owns it). */
export async function ensureTable(client: DynamoDBClient, tableName: string): Promise<void> {
  try {
    await client.send(new DescribeTableCommand({ TableName: tableName }));
    return;
  } catch (error) {
    if (!(error instanceof ResourceNotFoundException)) throw error;
  }
  await client.send(new CreateTableCommand(tableDefinition(tableName)));
  // Asked every 50 ms, 100 times (5 s), before giving up.
  await pRetry(
    async () => {
      const { Table } = await client.send(new DescribeTableCommand({ TableName: tableName }));
      if (Table?.TableStatus !== 'ACTIVE')
        throw new TableNotActiveError(`table ${tableName} did not become active`);
    },
    {
      retries: 99,
      minTimeout: 50,
      factor: 1,
      shouldRetry: ({ error }) => error instanceof TableNotActiveError,
    },
  );
}
