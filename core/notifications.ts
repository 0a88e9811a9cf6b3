import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { PutCommand, QueryCommand } from '@aws-sdk/lib-dynamodb';
import type { WorkflowKind } from './config.ts';
import { documentClient } from './db.ts';
import { timeId } from './ids.ts';

/** A message to a person about their workflow (shown in the console; chat adapters also send it). */
export interface Notification {
  id: string;
  user: string;
  kind: WorkflowKind;
  executionArn: string;
  text: string;
  at: string;
}

export interface NotificationStore {
  add(notification: Omit<Notification, 'id' | 'at'>, at?: Date): Promise<Notification>;
  forUser(user: string, limit?: number): Promise<Notification[]>;
}

export function createNotificationStore(client: DynamoDBClient, tableName: string): NotificationStore {
  const db = documentClient(client);
  return {
    async add(input, at = new Date()) {
      const id = timeId(at);
      const notification: Notification = { ...input, id, at: at.toISOString() };
      await db.send(
        new PutCommand({
          TableName: tableName,
          Item: { ...notification, pk: `USER#${input.user}`, sk: `NOTE#${id}` },
        }),
      );
      return notification;
    },
    async forUser(user, limit = 50) {
      const out = await db.send(
        new QueryCommand({
          TableName: tableName,
          KeyConditionExpression: 'pk = :pk AND begins_with(sk, :prefix)',
          ExpressionAttributeValues: { ':pk': `USER#${user}`, ':prefix': 'NOTE#' },
          ScanIndexForward: false,
          Limit: limit,
        }),
      );
      return (out.Items ?? []).map(({ pk: _pk, sk: _sk, ...rest }) => rest as Notification);
    },
  };
}
