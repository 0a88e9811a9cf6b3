import { randomBytes } from 'node:crypto';
import { ConditionalCheckFailedException, type DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { GetCommand, PutCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { documentClient } from './db.ts';

/** How long an event id is remembered: platforms redeliver for hours (Lark: up to ~7 h). */
const KEEP_SECONDS = 48 * 3600;

/**
 * How long an "in progress" claim holds off a redelivery. Longer than any webhook's work (the
 * platforms give up after 2–10 s), shorter than their next retry, so a claim left by a process
 * that died mid-work is taken over by the platform's redelivery instead of swallowing it.
 */
const LEASE_SECONDS = 60;

/** What processing an event the first time returned, or what a duplicate finds. */
export type Once<T> =
  | { duplicate: false; value: T }
  /** Someone processed (`done`, with the result they remembered) or is processing this event. */
  | { duplicate: true; state: 'done' | 'in-progress'; result?: unknown };

export interface EventDeduper {
  /**
   * Run `work` once per platform event: claim the id as "in progress", run, then mark it
   * "done" (keeping `remember(value)`, so a duplicate can be answered the same way). When
   * `work` throws, the claim is released and the error rethrown: the platform's redelivery is
   * processed, not swallowed. Ids are kept 48 h (`expiresAt`, DynamoDB TTL on AWS).
   *
   * @example await dedupe.once('line', event.webhookEventId, now, () => decide(…))
   */
  once<T>(
    platform: string,
    eventId: string,
    now: Date,
    work: () => Promise<T>,
    remember?: (value: T) => unknown,
  ): Promise<Once<T>>;
}

/** Event de-duplication on the signoff table: conditional single-item writes (no transactions). */
export function createEventDeduper(client: DynamoDBClient, tableName: string): EventDeduper {
  const db = documentClient(client);
  const key = (platform: string, eventId: string) => ({ pk: `EVENT#${platform}#${eventId}`, sk: 'EVENT' });

  return {
    async once(platform, eventId, now, work, remember) {
      const nowSeconds = Math.floor(now.getTime() / 1000);
      const claimId = randomBytes(12).toString('base64url');
      try {
        await db.send(
          new PutCommand({
            TableName: tableName,
            Item: {
              ...key(platform, eventId),
              state: 'in-progress',
              claimId,
              leaseUntil: nowSeconds + LEASE_SECONDS,
              expiresAt: nowSeconds + KEEP_SECONDS,
            },
            // Free, expired, or an in-progress claim whose holder died (lease over).
            ConditionExpression:
              'attribute_not_exists(pk) OR expiresAt < :now OR (#state = :inProgress AND leaseUntil < :now)',
            ExpressionAttributeNames: { '#state': 'state' },
            ExpressionAttributeValues: { ':now': nowSeconds, ':inProgress': 'in-progress' },
          }),
        );
      } catch (error) {
        if (!(error instanceof ConditionalCheckFailedException)) throw error;
        const seen = await db.send(
          new GetCommand({ TableName: tableName, Key: key(platform, eventId), ConsistentRead: true }),
        );
        const state = seen.Item?.state === 'done' || seen.Item?.state === undefined ? 'done' : 'in-progress';
        return {
          duplicate: true,
          state,
          ...(seen.Item?.result !== undefined ? { result: seen.Item.result } : {}),
        };
      }

      let value: Awaited<ReturnType<typeof work>>;
      try {
        value = await work();
      } catch (error) {
        // Release only our own claim, by ending its lease (an Update, so the webhook role needs
        // no DeleteItem): the platform's redelivery takes it over and is processed.
        await db
          .send(
            new UpdateCommand({
              TableName: tableName,
              Key: key(platform, eventId),
              UpdateExpression: 'SET leaseUntil = :released',
              ConditionExpression: 'claimId = :claimId AND #state = :inProgress',
              ExpressionAttributeNames: { '#state': 'state' },
              ExpressionAttributeValues: {
                ':claimId': claimId,
                ':inProgress': 'in-progress',
                ':released': 0,
              },
            }),
          )
          .catch(() => undefined);
        throw error;
      }
      const result = remember?.(value);
      const remembered = result === undefined ? {} : { ':result': result };
      await db.send(
        new UpdateCommand({
          TableName: tableName,
          Key: key(platform, eventId),
          UpdateExpression: `SET #state = :done${result === undefined ? '' : ', #result = :result'} REMOVE leaseUntil`,
          ExpressionAttributeNames: {
            '#state': 'state',
            ...(result === undefined ? {} : { '#result': 'result' }),
          },
          ExpressionAttributeValues: { ':done': 'done', ...remembered },
        }),
      );
      return { duplicate: false, value };
    },
  };
}
