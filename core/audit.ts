import { ConditionalCheckFailedException, type DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, PutCommand, QueryCommand } from '@aws-sdk/lib-dynamodb';
import type { Actor } from './approvals/types.ts';
import type { WorkflowKind } from './config.ts';
import { InvalidInputError } from './errors.ts';
import { shortHash, timeId } from './ids.ts';

/**
 * One thing that happened to a workflow.
 *
 * @example { kind: 'merge-request', executionArn, action: 'approval.decided', actor, outcome: 'approved', at }
 */
export interface AuditRecord {
  id: string;
  kind: WorkflowKind;
  executionArn: string;
  /** What happened: `execution.requested`, `approval.requested`, `approval.vote`, `merge-request.merged`, … */
  action: string;
  actor: Actor;
  outcome: string;
  at: string;
  detail?: Record<string, string | number | boolean>;
}

export type NewAuditRecord = Omit<AuditRecord, 'id' | 'at'> & { at?: string };

export interface AuditQuery {
  since?: string;
  until?: string;
  limit?: number;
  cursor?: string;
}

export interface AuditPage {
  records: AuditRecord[];
  cursor?: string;
}

export interface AuditLog {
  /**
   * Append a record. Records are never updated or deleted through Signoff. With `once`, a
   * record for the same key and time is written at most once (redelivered triggers).
   */
  append(record: NewAuditRecord, options?: { once?: string }): Promise<AuditRecord>;
  byKind(kind: WorkflowKind, query?: AuditQuery): Promise<AuditPage>;
  /** `actorKey` is the user key when known, else `platform:id`. */
  byActor(actorKey: string, query?: AuditQuery): Promise<AuditPage>;
  byExecution(executionArn: string): Promise<AuditRecord[]>;
}

/** The key an actor is filed under: the configured user when known, else platform and id. */
export function actorKey(actor: Actor): string {
  return actor.user ?? `${actor.platform}:${actor.id}`;
}

const FIELDS = ['id', 'kind', 'executionArn', 'action', 'actor', 'outcome', 'at', 'detail'] as const;

function fromItem(item: Record<string, unknown>): AuditRecord {
  const record: Record<string, unknown> = {};
  for (const field of FIELDS) if (item[field] !== undefined) record[field] = item[field];
  return record as unknown as AuditRecord;
}

/** The audit log on DynamoDB: by execution on the base table, by kind on gsi1, by actor on gsi2. */
export function createAuditLog(client: DynamoDBClient, tableName: string): AuditLog {
  const db = DynamoDBDocumentClient.from(client, { marshallOptions: { removeUndefinedValues: true } });

  async function byIndex(index: 'gsi1' | 'gsi2', pk: string, query: AuditQuery = {}): Promise<AuditPage> {
    const since = query.since ?? '0000';
    const until = `${query.until ?? '9999'}~`;
    const out = await db.send(
      new QueryCommand({
        TableName: tableName,
        IndexName: index,
        KeyConditionExpression: '#pk = :pk AND #sk BETWEEN :since AND :until',
        ExpressionAttributeNames: { '#pk': `${index}pk`, '#sk': `${index}sk` },
        ExpressionAttributeValues: { ':pk': pk, ':since': since, ':until': until },
        ScanIndexForward: false,
        Limit: query.limit ?? 100,
        ...(query.cursor ? { ExclusiveStartKey: decodeCursor(query.cursor, index, pk) } : {}),
      }),
    );
    return {
      records: (out.Items ?? []).map(fromItem),
      ...(out.LastEvaluatedKey
        ? { cursor: Buffer.from(JSON.stringify(out.LastEvaluatedKey)).toString('base64url') }
        : {}),
    };
  }

  return {
    async append(input, options) {
      const at = input.at ?? new Date().toISOString();
      const id = options?.once ? `${at}#${shortHash(options.once)}` : timeId(new Date(at));
      const record: AuditRecord = { ...input, id, at };
      await db
        .send(
          new PutCommand({
            TableName: tableName,
            Item: {
              ...record,
              pk: `EXEC#${record.executionArn}`,
              sk: `AUDIT#${id}`,
              gsi1pk: `AUDIT#KIND#${record.kind}`,
              gsi1sk: id,
              gsi2pk: `AUDIT#ACTOR#${actorKey(record.actor)}`,
              gsi2sk: id,
            },
            ConditionExpression: 'attribute_not_exists(pk)',
          }),
        )
        .catch((error: unknown) => {
          // Only a `once` record may already exist; a random id never collides.
          if (!(options?.once && error instanceof ConditionalCheckFailedException)) throw error;
        });
      return record;
    },

    byKind(kind, query) {
      return byIndex('gsi1', `AUDIT#KIND#${kind}`, query);
    },

    byActor(key, query) {
      return byIndex('gsi2', `AUDIT#ACTOR#${key}`, query);
    },

    async byExecution(executionArn) {
      const records: AuditRecord[] = [];
      let start: Record<string, unknown> | undefined;
      do {
        const out = await db.send(
          new QueryCommand({
            TableName: tableName,
            KeyConditionExpression: 'pk = :pk AND begins_with(sk, :prefix)',
            ExpressionAttributeValues: { ':pk': `EXEC#${executionArn}`, ':prefix': 'AUDIT#' },
            ExclusiveStartKey: start,
          }),
        );
        records.push(...(out.Items ?? []).map(fromItem));
        start = out.LastEvaluatedKey;
      } while (start);
      return records;
    },
  };
}

/** A cursor is the LastEvaluatedKey of the same query: the table and index keys, with this query's pk. */
function decodeCursor(cursor: string, index: 'gsi1' | 'gsi2', pk: string): Record<string, unknown> {
  try {
    const key: unknown = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
    if (key && typeof key === 'object' && !Array.isArray(key)) {
      const fields = Object.entries(key);
      const names = ['pk', 'sk', `${index}pk`, `${index}sk`];
      const isKey =
        fields.length === names.length &&
        fields.every(([name, value]) => names.includes(name) && typeof value === 'string') &&
        (key as Record<string, unknown>)[`${index}pk`] === pk;
      if (isKey) return key as Record<string, unknown>;
    }
  } catch {
    // fall through to the error below
  }
  throw new InvalidInputError('cursor is not one this server returned');
}
