import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { randomId } from '../../core/ids.ts';
import { ensureTable } from '../../core/table.ts';
import { startDynamo } from '../../local/dynamo.ts';

export interface TestDynamo {
  client: DynamoDBClient;
  /** The embedded DynamoDB's URL, for a test that builds a client of its own. */
  endpoint: string;
  tableName: string;
  close(): Promise<void>;
}

/** An in-memory embedded DynamoDB on a free loopback port, with a fresh Signoff table. */
export async function startTestDynamo(): Promise<TestDynamo> {
  const dynamo = await startDynamo({ port: 0, host: '127.0.0.1' });
  const client = new DynamoDBClient({
    region: 'us-east-1',
    endpoint: dynamo.endpoint,
    credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
  });
  const tableName = `signoff-test-${randomId()
    .replace(/[^0-9A-Za-z]/g, '')
    .slice(0, 12)}`;
  await ensureTable(client, tableName);
  return {
    client,
    endpoint: dynamo.endpoint,
    tableName,
    async close() {
      client.destroy();
      await dynamo.close();
    },
  };
}
