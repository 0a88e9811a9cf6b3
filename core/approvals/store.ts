import { ConditionalCheckFailedException, type DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { GetCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { documentClient, putIfAbsent, queryIndex } from '../db.ts';
import { createPendingReasonStore, type PendingReasonStore } from './reasons.ts';
import type { Approval, ApprovalOutcome, ApprovalStatus, CardContent, MessageRef } from './types.ts';

/** The stored item: the approval plus the task token and key attributes, which stay in here. */
interface ApprovalItem extends Approval {
  pk: string;
  sk: string;
  taskToken: string;
  /** A decided outcome not yet delivered to the execution (crash between decide and resume). */
  outbox?: ApprovalOutcome;
}

/** Approvals, and the reject reasons waiting to be typed (reasons.ts). */
export interface ApprovalStore extends PendingReasonStore {
  /** Store a new approval; a second call for the same id returns the first (created: false). */
  create(approval: Approval, taskToken: string): Promise<{ approval: Approval; created: boolean }>;
  get(approvalId: string): Promise<Approval | undefined>;
  /** For the one place that resumes executions. */
  getTaskToken(approvalId: string): Promise<string | undefined>;
  /** The approval and its task token in one read (decide() reads both before a completing write). */
  getWithToken(approvalId: string): Promise<{ approval: Approval; taskToken: string } | undefined>;
  list(status: ApprovalStatus, options?: { limit?: number }): Promise<Approval[]>;
  /** Pending approvals about one subject (e.g. a merge request), newest first. */
  pendingFor(subject: string): Promise<Approval[]>;
  forExecution(executionArn: string): Promise<Approval[]>;
  /**
   * Write a new state if nobody wrote since `expectedVersion` and it is still pending.
   * Returns the approval as written, with every card recorded so far (a card can be recorded
   * between the read and this write), or undefined when the condition failed (re-read and try
   * again).
   */
  transition(
    next: Approval,
    expectedVersion: number,
    outbox?: ApprovalOutcome,
    options?: {
      /**
       * The status it must have now (default pending). `approved`/`rejected`/`cancelled` only
       * to mark expired a decision that reached the engine after its task had timed out.
       */
      from?: ApprovalStatus;
    },
  ): Promise<Approval | undefined>;
  /** Outcomes decided but not yet delivered to their executions. */
  outbox(): Promise<Array<{ approval: Approval; outcome: ApprovalOutcome }>>;
  clearOutbox(approvalId: string): Promise<void>;
  /** Record a card sent for the approval; returns the approval as it is after the write. */
  addCard(approvalId: string, ref: MessageRef): Promise<Approval>;
  /**
   * Record a nudge at `at` if the approval is pending and was not nudged after `notAfter`
   * (a conditional write: two nudges at once, one wins). Returns the approval as written, or
   * undefined when the condition failed.
   */
  markNudged(approvalId: string, at: string, notAfter: string): Promise<Approval | undefined>;
  /**
   * Add approvers (an escalation) if nobody wrote since `expectedVersion` and it is still
   * pending; returns the approval as written, or undefined when the condition failed.
   * `delegated`: the approval's delegated seats, the new approvers' included.
   */
  addApprovers(
    approvalId: string,
    approvers: string[],
    expectedVersion: number,
    at: string,
    delegated?: Approval['delegated'],
  ): Promise<Approval | undefined>;
  /**
   * Replace what the card shows (a release's pipeline progress), and its translations when
   * given; returns the approval as written.
   */
  setCard(approvalId: string, card: CardContent, translations?: Approval['translations']): Promise<Approval>;
}

const PK = (id: string) => `APPROVAL#${id}`;

function toItem(approval: Approval, taskToken: string): ApprovalItem {
  const sortKey = `${approval.createdAt}#${approval.approvalId}`;
  return {
    ...approval,
    pk: PK(approval.approvalId),
    sk: 'APPROVAL',
    taskToken,
    ...indexKeys(approval),
    gsi3pk: `EXEC#${approval.executionArn}`,
    gsi3sk: sortKey,
  } as ApprovalItem;
}

function indexKeys(approval: Approval): Record<string, string> {
  const sortKey = `${approval.createdAt}#${approval.approvalId}`;
  const keys: Record<string, string> = { gsi1pk: `APPROVALS#${approval.status}`, gsi1sk: sortKey };
  if (approval.subject && approval.status === 'pending') {
    keys.gsi2pk = `SUBJECT#${approval.subject}`;
    keys.gsi2sk = sortKey;
  }
  return keys;
}

const INTERNAL = [
  'pk',
  'sk',
  'taskToken',
  'outbox',
  'gsi1pk',
  'gsi1sk',
  'gsi2pk',
  'gsi2sk',
  'gsi3pk',
  'gsi3sk',
  'gsi4pk',
  'gsi4sk',
];

function fromItem(item: Record<string, unknown>): Approval {
  const approval = { ...item };
  for (const key of INTERNAL) delete approval[key];
  return approval as unknown as Approval;
}

/** The item an update with `ReturnValues: 'ALL_NEW'` wrote (DynamoDB always returns it). */
function written(attributes: Record<string, unknown> | undefined): Approval {
  if (!attributes) throw new Error('approval update returned no attributes');
  return fromItem(attributes);
}

/** The approvals store on DynamoDB: conditional single-item writes only (no transactions). */
export function createApprovalStore(client: DynamoDBClient, tableName: string): ApprovalStore {
  const db = documentClient(client);

  const query = (index: string, pk: string, limit = 100, forward = false) =>
    queryIndex(db, tableName, index, pk, { limit, forward });

  return {
    ...createPendingReasonStore(client, tableName),
    async create(approval, taskToken) {
      const { value, created } = await putIfAbsent(
        db,
        tableName,
        { ...toItem(approval, taskToken) },
        approval,
        () => this.get(approval.approvalId),
      );
      return { approval: value, created };
    },

    async get(approvalId) {
      const out = await db.send(
        new GetCommand({
          TableName: tableName,
          Key: { pk: PK(approvalId), sk: 'APPROVAL' },
          ConsistentRead: true,
        }),
      );
      return out.Item ? fromItem(out.Item) : undefined;
    },

    async getWithToken(approvalId) {
      const out = await db.send(
        new GetCommand({
          TableName: tableName,
          Key: { pk: PK(approvalId), sk: 'APPROVAL' },
          ConsistentRead: true,
        }),
      );
      return out.Item ? { approval: fromItem(out.Item), taskToken: out.Item.taskToken as string } : undefined;
    },

    async getTaskToken(approvalId) {
      const out = await db.send(
        new GetCommand({
          TableName: tableName,
          Key: { pk: PK(approvalId), sk: 'APPROVAL' },
          ProjectionExpression: 'taskToken',
          ConsistentRead: true,
        }),
      );
      return out.Item?.taskToken as string | undefined;
    },

    async list(status, options) {
      return (await query('gsi1', `APPROVALS#${status}`, options?.limit ?? 100)).map(fromItem);
    },

    async pendingFor(subject) {
      const items = await query('gsi2', `SUBJECT#${subject}`);
      return items.map(fromItem).filter((a) => a.status === 'pending');
    },

    async forExecution(executionArn) {
      return (await query('gsi3', `EXEC#${executionArn}`)).map(fromItem);
    },

    async transition(next, expectedVersion, outbox, options) {
      const keys = indexKeys(next);
      const names: Record<string, string> = { '#status': 'status', '#version': 'version' };
      const values: Record<string, unknown> = {
        ':status': next.status,
        ':votes': next.votes,
        ':expected': expectedVersion,
        ':next': expectedVersion + 1,
        ':pending': options?.from ?? 'pending',
        ':gsi1pk': keys.gsi1pk,
      };
      const sets = ['#status = :status', 'votes = :votes', '#version = :next', 'gsi1pk = :gsi1pk'];
      const removes: string[] = [];
      for (const [field, value] of [
        ['decidedAt', next.decidedAt],
        ['reason', next.reason],
        ['decidedBy', next.decidedBy],
      ] as const) {
        if (value !== undefined) {
          sets.push(`${field} = :${field}`);
          values[`:${field}`] = value;
        }
      }
      if (!keys.gsi2pk) removes.push('gsi2pk', 'gsi2sk');
      if (outbox) {
        sets.push('outbox = :outbox', 'gsi4pk = :outboxKey', 'gsi4sk = :outboxSort');
        values[':outbox'] = outbox;
        values[':outboxKey'] = 'OUTBOX';
        values[':outboxSort'] = `${outbox.decidedAt}#${next.approvalId}`;
      }
      try {
        const out = await db.send(
          new UpdateCommand({
            TableName: tableName,
            Key: { pk: PK(next.approvalId), sk: 'APPROVAL' },
            UpdateExpression: `SET ${sets.join(', ')}${removes.length ? ` REMOVE ${removes.join(', ')}` : ''}`,
            ConditionExpression: '#version = :expected AND #status = :pending',
            ExpressionAttributeNames: names,
            ExpressionAttributeValues: values,
            ReturnValues: 'ALL_NEW',
          }),
        );
        return written(out.Attributes);
      } catch (error) {
        if (error instanceof ConditionalCheckFailedException) return undefined;
        throw error;
      }
    },

    async outbox() {
      const items = await query('gsi4', 'OUTBOX', 1000, true);
      return items.map((item) => ({ approval: fromItem(item), outcome: item.outbox as ApprovalOutcome }));
    },

    async clearOutbox(approvalId) {
      await db.send(
        new UpdateCommand({
          TableName: tableName,
          Key: { pk: PK(approvalId), sk: 'APPROVAL' },
          UpdateExpression: 'REMOVE outbox, gsi4pk, gsi4sk',
        }),
      );
    },

    async addCard(approvalId, ref) {
      const out = await db.send(
        new UpdateCommand({
          TableName: tableName,
          Key: { pk: PK(approvalId), sk: 'APPROVAL' },
          UpdateExpression: 'SET cards = list_append(if_not_exists(cards, :empty), :ref)',
          ConditionExpression: 'attribute_exists(pk)',
          ExpressionAttributeValues: { ':ref': [ref], ':empty': [] },
          ReturnValues: 'ALL_NEW',
        }),
      );
      return written(out.Attributes);
    },

    async markNudged(approvalId, at, notAfter) {
      try {
        const out = await db.send(
          new UpdateCommand({
            TableName: tableName,
            Key: { pk: PK(approvalId), sk: 'APPROVAL' },
            UpdateExpression: 'SET lastNudgedAt = :at',
            ConditionExpression:
              'attribute_exists(pk) AND #status = :pending AND (attribute_not_exists(lastNudgedAt) OR lastNudgedAt <= :notAfter)',
            ExpressionAttributeNames: { '#status': 'status' },
            ExpressionAttributeValues: { ':at': at, ':pending': 'pending', ':notAfter': notAfter },
            ReturnValues: 'ALL_NEW',
          }),
        );
        return written(out.Attributes);
      } catch (error) {
        if (error instanceof ConditionalCheckFailedException) return undefined;
        throw error;
      }
    },

    async addApprovers(approvalId, approvers, expectedVersion, at, delegated) {
      try {
        const out = await db.send(
          new UpdateCommand({
            TableName: tableName,
            Key: { pk: PK(approvalId), sk: 'APPROVAL' },
            UpdateExpression: `SET policy.approvers = :approvers, escalatedAt = :at, #version = :next${delegated?.length ? ', delegated = :delegated' : ''}`,
            ConditionExpression: '#version = :expected AND #status = :pending',
            ExpressionAttributeNames: { '#status': 'status', '#version': 'version' },
            ExpressionAttributeValues: {
              ':approvers': approvers,
              ':at': at,
              ':expected': expectedVersion,
              ':next': expectedVersion + 1,
              ':pending': 'pending',
              ...(delegated?.length ? { ':delegated': delegated } : {}),
            },
            ReturnValues: 'ALL_NEW',
          }),
        );
        return written(out.Attributes);
      } catch (error) {
        if (error instanceof ConditionalCheckFailedException) return undefined;
        throw error;
      }
    },

    async setCard(approvalId, card, translations) {
      const out = await db.send(
        new UpdateCommand({
          TableName: tableName,
          Key: { pk: PK(approvalId), sk: 'APPROVAL' },
          UpdateExpression: translations
            ? 'SET card = :card, translations = :translations'
            : 'SET card = :card',
          ConditionExpression: 'attribute_exists(pk)',
          ExpressionAttributeValues: {
            ':card': card,
            ...(translations ? { ':translations': translations } : {}),
          },
          ReturnValues: 'ALL_NEW',
        }),
      );
      return written(out.Attributes);
    },
  };
}
