import { createHash } from 'node:crypto';
import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import { type DynamoDBDocumentClient, GetCommand, PutCommand, QueryCommand } from '@aws-sdk/lib-dynamodb';
import pRetry from 'p-retry';

/**
 * The hash chains of the audit log: one per kind (every workflow kind, and `config`). Each
 * record carries its place (`seq`), the hash of the record before it (`prev`) and its own hash
 * (`hash` = sha256 over `prev` and the record's fields). The head of a chain is one item,
 * `AUDITCHAIN#<kind>` / `HEAD`, holding the last seq, its hash and the last record itself.
 *
 * Appending (single-item conditional writes only, so the embedded DynamoDB and AWS behave alike):
 * read the head; finish the previous append (put its record if a crash left it unwritten); move
 * the head to the new record with `seq = :seen` (a lost race re-reads and tries again: two writers
 * can never both take the same seq, so a chain cannot fork); then put the record. A `once` record
 * already written (found by its key, or as the head's record) is returned without a new link.
 */

export interface ChainedFields {
  seq: number;
  prev: string;
  hash: string;
}

/** The `prev` of a chain's first record. */
export const GENESIS = '0'.repeat(64);

/** A record's own fields, as hashed: everything but the keys and the chain fields. */
export interface ChainRecord {
  id: string;
  kind: string;
  executionArn: string;
  action: string;
  actor: unknown;
  outcome: string;
  at: string;
  detail?: unknown;
}

/** JSON with object keys sorted, so the same record always hashes the same. */
export function canonical(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonical).join(',')}]`;
  if (value && typeof value === 'object')
    return `{${Object.keys(value)
      .filter((k) => (value as Record<string, unknown>)[k] !== undefined)
      .sort()
      .map((k) => `${JSON.stringify(k)}:${canonical((value as Record<string, unknown>)[k])}`)
      .join(',')}}`;
  return JSON.stringify(value);
}

export function recordHash(prev: string, seq: number, record: ChainRecord): string {
  const { id, kind, executionArn, action, actor, outcome, at, detail } = record;
  return createHash('sha256')
    .update(canonical({ prev, seq, id, kind, executionArn, action, actor, outcome, at, detail }))
    .digest('hex');
}

export const chainPk = (kind: string) => `AUDITCHAIN#${kind}`;
/** The gsi4 sort key of a chained record: its seq, zero-padded so strings sort as numbers. */
export const seqKey = (seq: number) => String(seq).padStart(12, '0');

class ChainRaceError extends Error {
  override name = 'ChainRaceError';
  constructor() {
    super('another writer moved the audit chain head first');
  }
}

/** Attempts when writers race for a head: many Lambda instances may append at once. */
const RACE_RETRY = { retries: 100, minTimeout: 2, factor: 1.5, maxTimeout: 100, randomize: true };

interface Head {
  seq: number;
  hash: string;
  item?: Record<string, unknown>;
}

export interface ChainAppendOptions<R> {
  /** The record's item, given its chain fields (keys included). */
  itemOf: (fields: ChainedFields) => Record<string, unknown>;
  /** Written once: the key of the record (pk, sk) to look for before linking it. */
  once?: { pk: string; sk: string };
  /** Skip the append (answer undefined) when the chain's last record says it is not needed. */
  unless?: (last: Record<string, unknown> | undefined) => boolean;
  fromItem: (item: Record<string, unknown>) => R;
}

export function createAuditChain(db: DynamoDBDocumentClient, tableName: string) {
  /** The last seq of each chain whose record this writer put itself: no need to finish that one. */
  const putByMe = new Map<string, number>();

  async function readHead(kind: string): Promise<Head> {
    const out = await db.send(
      new GetCommand({ TableName: tableName, Key: { pk: chainPk(kind), sk: 'HEAD' }, ConsistentRead: true }),
    );
    if (!out.Item) return { seq: 0, hash: GENESIS };
    return {
      seq: Number(out.Item.seq),
      hash: String(out.Item.hash),
      item: out.Item.item as Record<string, unknown>,
    };
  }

  async function putRecord(item: Record<string, unknown>): Promise<boolean> {
    try {
      await db.send(
        new PutCommand({ TableName: tableName, Item: item, ConditionExpression: 'attribute_not_exists(pk)' }),
      );
      return true;
    } catch (error) {
      if (error instanceof ConditionalCheckFailedException) return false;
      throw error;
    }
  }

  return {
    readHead,

    async append<R>(
      kind: string,
      record: ChainRecord,
      options: ChainAppendOptions<R>,
    ): Promise<R | undefined> {
      return pRetry(
        async () => {
          const head = await readHead(kind);
          // Finish the previous append if its writer stopped between the head and the record.
          if (head.item && putByMe.get(kind) !== head.seq) await putRecord(head.item);
          if (options.unless?.(head.item)) return undefined;
          if (options.once) {
            const { pk, sk } = options.once;
            if (head.item && head.item.pk === pk && head.item.sk === sk) return options.fromItem(head.item);
            const existing = await db.send(
              new GetCommand({ TableName: tableName, Key: { pk, sk }, ConsistentRead: true }),
            );
            if (existing.Item) return options.fromItem(existing.Item);
          }
          const seq = head.seq + 1;
          const fields: ChainedFields = { seq, prev: head.hash, hash: recordHash(head.hash, seq, record) };
          const item = options.itemOf(fields);
          try {
            await db.send(
              new PutCommand({
                TableName: tableName,
                Item: { pk: chainPk(kind), sk: 'HEAD', seq, hash: fields.hash, item },
                ConditionExpression: head.seq === 0 ? 'attribute_not_exists(pk)' : '#seq = :seen',
                ...(head.seq === 0
                  ? {}
                  : {
                      ExpressionAttributeNames: { '#seq': 'seq' },
                      ExpressionAttributeValues: { ':seen': head.seq },
                    }),
              }),
            );
          } catch (error) {
            if (error instanceof ConditionalCheckFailedException) throw new ChainRaceError();
            throw error;
          }
          await putRecord(item);
          putByMe.set(kind, seq);
          return options.fromItem(item);
        },
        { ...RACE_RETRY, shouldRetry: ({ error }) => error instanceof ChainRaceError },
      );
    },

    /** The chained records of a kind in seq order from `fromSeq` (gsi4 `AUDITCHAIN#<kind>`). */
    async *records(kind: string, fromSeq: number): AsyncGenerator<Record<string, unknown>> {
      let start: Record<string, unknown> | undefined;
      do {
        const out = await db.send(
          new QueryCommand({
            TableName: tableName,
            IndexName: 'gsi4',
            KeyConditionExpression: 'gsi4pk = :pk AND gsi4sk >= :from',
            ExpressionAttributeValues: { ':pk': chainPk(kind), ':from': seqKey(fromSeq) },
            ExclusiveStartKey: start,
          }),
        );
        for (const item of out.Items ?? []) yield item;
        start = out.LastEvaluatedKey;
      } while (start);
    },
  };
}

export type AuditChain = ReturnType<typeof createAuditChain>;

/** What `verify` found for one chain. */
export interface ChainReport {
  kind: string;
  /** Records checked (from the first at or after `since`). */
  checked: number;
  /** The head's seq and hash (publish the hash elsewhere to anchor it). */
  head: { seq: number; hash: string };
  /** The first broken link, if any. */
  broken?: { seq: number; id?: string; executionArn?: string; problem: string };
}

/**
 * Walk a chain from `fromSeq` and recompute every link: a gap in seq is a deleted record, a
 * `prev` that is not the hash before it is a reordered or re-linked record, a hash that does not
 * match the fields is an edited record; the last one must be the head.
 */
export async function verifyChain(chain: AuditChain, kind: string, fromSeq: number): Promise<ChainReport> {
  const head = await chain.readHead(kind);
  const report: ChainReport = { kind, checked: 0, head: { seq: head.seq, hash: head.hash } };
  let expectedSeq = Math.max(1, fromSeq);
  let prevHash: string | undefined;
  for await (const item of chain.records(kind, Math.max(1, fromSeq - 1))) {
    const seq = Number(item.seq);
    const at = { seq, id: String(item.id), executionArn: String(item.executionArn) };
    if (prevHash === undefined && seq === fromSeq - 1) {
      prevHash = String(item.hash);
      continue;
    }
    if (seq !== expectedSeq) {
      report.broken = {
        ...at,
        problem:
          seq > expectedSeq
            ? `record #${expectedSeq} is missing (deleted?); the chain resumes at #${seq}`
            : `record #${seq} appears twice`,
      };
      return report;
    }
    if (prevHash !== undefined && item.prev !== prevHash) {
      report.broken = {
        ...at,
        problem: `record #${seq} does not follow #${seq - 1} (reordered or relinked)`,
      };
      return report;
    }
    if (seq === 1 && item.prev !== GENESIS) {
      report.broken = { ...at, problem: 'the first record does not start the chain' };
      return report;
    }
    if (recordHash(String(item.prev), seq, item as unknown as ChainRecord) !== item.hash) {
      report.broken = { ...at, problem: `record #${seq} was edited (its hash does not match its fields)` };
      return report;
    }
    prevHash = String(item.hash);
    report.checked++;
    expectedSeq = seq + 1;
  }
  if (head.seq >= fromSeq && expectedSeq - 1 !== head.seq) {
    report.broken = {
      seq: expectedSeq,
      problem: `the chain ends at #${expectedSeq - 1} but its head is #${head.seq} (records deleted at the end?)`,
    };
  } else if (head.seq >= fromSeq && prevHash !== undefined && prevHash !== head.hash) {
    report.broken = { seq: head.seq, problem: `the last record #${head.seq} is not the one the head holds` };
  }
  return report;
}
