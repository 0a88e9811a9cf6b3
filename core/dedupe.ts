import { ConditionalCheckFailedException, type DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, PutCommand } from '@aws-sdk/lib-dynamodb';

/** How long an event id is remembered: platforms redeliver for hours (Lark: up to ~7 h). */
const KEEP_SECONDS = 48 * 3600;

export interface EventDeduper {
  /**
   * Claim a platform event id: true the first time, false for a redelivery. Ids are kept 48 h
   * (`expiresAt`, removed by DynamoDB TTL on AWS; an expired claim is taken over).
   */
  claim(platform: string, eventId: string, now: Date): Promise<boolean>;
}

export function createEventDeduper(client: DynamoDBClient, tableName: string): EventDeduper {
  const db = DynamoDBDocumentClient.from(client);
  return {
    async claim(platform, eventId, now) {
      const nowSeconds = Math.floor(now.getTime() / 1000);
      try {
        await db.send(
          new PutCommand({
            TableName: tableName,
            Item: { pk: `EVENT#${platform}#${eventId}`, sk: 'EVENT', expiresAt: nowSeconds + KEEP_SECONDS },
            ConditionExpression: 'attribute_not_exists(pk) OR expiresAt < :now',
            ExpressionAttributeValues: { ':now': nowSeconds },
          }),
        );
        return true;
      } catch (error) {
        if (error instanceof ConditionalCheckFailedException) return false;
        throw error;
      }
    },
  };
}
