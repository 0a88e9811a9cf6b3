import { ConditionalCheckFailedException, type DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { PutCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { documentClient } from '../db.ts';
import { asLanguage, type Language } from '../messages/index.ts';
import type { DecideRequest, DecideResult } from './decide.ts';
import type { ApprovalStore } from './store.ts';
import type { Actor, Approval } from './types.ts';

/**
 * A reject that waits for its reason: the person tapped Reject where a button cannot carry typed
 * text (LINE), was asked why, and their next text within the window is the reason.
 */
export interface PendingReason {
  /** The chat identity that tapped Reject (its platform and the platform's user id). */
  platform: string;
  userId: string;
  approvalId: string;
  /** The language the question was asked in (the quick replies' reasons are in it too). */
  language: Language;
  askedAt: string;
  /** Until when the next text is the reason (ISO). */
  until: string;
}

/**
 * Pending reasons on the signoff table, one per chat identity (`REASON#<platform>#<user id>`):
 * a later Reject replaces an earlier one. Taking one is a conditional write, so a text delivered
 * twice, or two texts at once, take it once. `expiresAt` (epoch seconds) lets DynamoDB TTL
 * remove it on AWS; the window itself is checked on every take, as data.
 */
export interface PendingReasonStore {
  /** Remember that `userId` owes a reason for `approvalId` until `until`. */
  askReason(pending: PendingReason): Promise<void>;
  /**
   * Take the pending reason of this chat identity for the text event `eventId`, if it is still
   * in its window: once. The same event again (a retry after a failure) takes it again, so the
   * reject it starts can finish; undefined when there is none, it is over, or another text took it.
   */
  takeReason(
    platform: string,
    userId: string,
    eventId: string,
    now: Date,
  ): Promise<PendingReason | undefined>;
}

/** How long DynamoDB keeps a reason that was never given, after its window (TTL is lazy anyway). */
const KEEP_AFTER_SECONDS = 24 * 3600;

export function createPendingReasonStore(client: DynamoDBClient, tableName: string): PendingReasonStore {
  const db = documentClient(client);
  const key = (platform: string, userId: string) => ({ pk: `REASON#${platform}#${userId}`, sk: 'REASON' });

  return {
    async askReason(pending) {
      await db.send(
        new PutCommand({
          TableName: tableName,
          Item: {
            ...key(pending.platform, pending.userId),
            ...pending,
            state: 'waiting',
            expiresAt: Math.floor(Date.parse(pending.until) / 1000) + KEEP_AFTER_SECONDS,
          },
        }),
      );
    },

    async takeReason(platform, userId, eventId, now) {
      try {
        const out = await db.send(
          new UpdateCommand({
            TableName: tableName,
            Key: key(platform, userId),
            UpdateExpression: 'SET #state = :taken, takenBy = :event',
            ConditionExpression:
              'attribute_exists(pk) AND #until > :now AND (#state = :waiting OR takenBy = :event)',
            ExpressionAttributeNames: { '#state': 'state', '#until': 'until' },
            ExpressionAttributeValues: {
              ':taken': 'taken',
              ':waiting': 'waiting',
              ':event': eventId,
              ':now': now.toISOString(),
            },
            ReturnValues: 'ALL_NEW',
          }),
        );
        const item = out.Attributes ?? {};
        return {
          platform,
          userId,
          approvalId: String(item.approvalId),
          language: asLanguage(item.language) ?? 'en',
          askedAt: String(item.askedAt),
          until: String(item.until),
        };
      } catch (error) {
        if (error instanceof ConditionalCheckFailedException) return undefined;
        throw error;
      }
    },
  };
}

export interface AskReasonRequest {
  approvalId: string;
  /** Who tapped Reject (a configured user, through their verified chat identity). */
  actor: Actor;
  language: Language;
  now: Date;
  /** The end of the window in which their next text is the reason. */
  until: Date;
}

export type AskReasonResult =
  | { outcome: 'asked'; approval: Approval; until: string }
  | Extract<DecideResult, { outcome: 'refused' }>;

/** The rules a reject must pass (decide's, with the approval's delegations): a refusal, or undefined. */
export type RejectCheck = (
  approval: Approval,
  request: DecideRequest,
) => Promise<Extract<DecideResult, { outcome: 'refused' }> | undefined>;

/**
 * Reject tapped where no reason can come with it: check the vote as a reject would be checked
 * (so someone who may not reject hears why at once, not after typing a reason), then remember
 * the pending reason. Nothing is decided yet; the reason's text decides through `decide`, which
 * checks everything again.
 */
export async function askReason(
  store: ApprovalStore,
  check: RejectCheck,
  request: AskReasonRequest,
): Promise<AskReasonResult> {
  const approval = await store.get(request.approvalId);
  if (!approval) return { outcome: 'refused', reason: 'not-found', message: 'no such approval' };
  const refusal = await check(approval, {
    approvalId: request.approvalId,
    actor: request.actor,
    decision: 'reject',
    now: request.now,
  });
  if (refusal) return refusal;
  const until = request.until.toISOString();
  await store.askReason({
    platform: request.actor.platform,
    userId: request.actor.id,
    approvalId: approval.approvalId,
    language: request.language,
    askedAt: request.now.toISOString(),
    until,
  });
  return { outcome: 'asked', approval, until };
}

/**
 * The reject reason this chat identity owes, for its text event `eventId` (reasons are taken
 * once). A pending reason already answered another way (a quick reply, or Approve after all:
 * the person has voted on it since) is no reason: the text is then read as it is.
 */
export async function takeReason(
  store: ApprovalStore,
  actor: { platform: string; id: string },
  eventId: string,
  now: Date,
): Promise<PendingReason | undefined> {
  const pending = await store.takeReason(actor.platform, actor.id, eventId, now);
  if (!pending) return undefined;
  const approval = await store.get(pending.approvalId);
  const voted = approval?.votes.some((v) => v.actor.platform === actor.platform && v.actor.id === actor.id);
  return voted ? undefined : pending;
}
