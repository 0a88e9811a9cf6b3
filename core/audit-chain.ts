import { createHash } from 'node:crypto';
import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import {
  BatchWriteCommand,
  type DynamoDBDocumentClient,
  GetCommand,
  PutCommand,
  QueryCommand,
} from '@aws-sdk/lib-dynamodb';
import pRetry from 'p-retry';
import { batchGetAll } from './db.ts';

/**
 * The hash chains of the audit log: one per kind (every workflow kind, and `config`). Each
 * record carries its place (`seq`), the hash of the record before it (`prev`) and its own hash
 * (`hash` = sha256 over `prev` and the record's fields). The head of a chain is one item,
 * `AUDITCHAIN#<kind>` / `HEAD`, holding the last seq, its hash and the records of the last move.
 *
 * Appending is a group commit: the appends a writer is asked for while its previous move of a
 * chain is under way wait, and go together in the next one (at most 100). A move reads the head
 * (unless this writer moved it last); finishes the previous move (puts its records if a crash
 * left them unwritten); links the new records in order; moves the head past them with `seq = :seen` (a lost race re-reads and tries
 * again: two writers can never both take the same seq, so a chain cannot fork); then puts the
 * records (BatchWriteItem, 25 at a time, side by side). A `once` record already written (found by
 * its key, or among the head's records) is returned without a new link. A move costs the same
 * three or four round trips whether it links one record or 100, so a burst of appends no longer
 * queues (and races) on the head one record at a time.
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

/** Records linked by one move of a head; put 25 to a BatchWriteItem (its limit), side by side. */
const MOVE_RECORDS = 100;
const BATCH_WRITE = 25;
/**
 * Bytes of records one move links (as JSON; a record that is larger goes alone). The head holds
 * them, and a DynamoDB item is at most 400 KB.
 */
const MOVE_BYTES = 150_000;

interface Head {
  seq: number;
  hash: string;
  /** The records of the head's last move (a head written before moves were grouped holds one, `item`). */
  items: Record<string, unknown>[];
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

/** One append waiting for its move. */
interface Waiting {
  record: ChainRecord;
  options: ChainAppendOptions<unknown>;
  bytes: number;
  done: (result: unknown) => void;
  fail: (error: unknown) => void;
}

export function createAuditChain(db: DynamoDBDocumentClient, tableName: string) {
  /** The last seq of each chain whose records this writer put itself: no need to finish those. */
  const putByMe = new Map<string, number>();
  /**
   * The head as this writer last moved it. The next move starts from it without reading the head
   * again; when another writer moved it meanwhile, the conditional move fails and the head is read.
   */
  const movedByMe = new Map<string, Head>();
  /** Appends waiting for the next move of their chain, and the chains being moved now. */
  const waiting = new Map<string, Waiting[]>();
  const moving = new Set<string>();

  async function readHead(kind: string): Promise<Head> {
    const out = await db.send(
      new GetCommand({ TableName: tableName, Key: { pk: chainPk(kind), sk: 'HEAD' }, ConsistentRead: true }),
    );
    if (!out.Item) return { seq: 0, hash: GENESIS, items: [] };
    const items = out.Item.items ?? (out.Item.item ? [out.Item.item] : []);
    return { seq: Number(out.Item.seq), hash: String(out.Item.hash), items };
  }

  /** Put records that may have been written already (a previous move's): never over one that is there. */
  async function finishRecords(items: Record<string, unknown>[]): Promise<void> {
    await Promise.all(
      items.map(async (item) => {
        try {
          await db.send(
            new PutCommand({
              TableName: tableName,
              Item: item,
              ConditionExpression: 'attribute_not_exists(pk)',
            }),
          );
        } catch (error) {
          if (!(error instanceof ConditionalCheckFailedException)) throw error;
        }
      }),
    );
  }

  /** Put records just linked (fresh keys: new ids, or `once` keys read as absent before the move). */
  async function putRecords(items: Record<string, unknown>[]): Promise<void> {
    const chunks: Record<string, unknown>[][] = [];
    for (let i = 0; i < items.length; i += BATCH_WRITE) chunks.push(items.slice(i, i + BATCH_WRITE));
    await Promise.all(chunks.map(putChunk));
  }

  async function putChunk(items: Record<string, unknown>[]): Promise<void> {
    let requests = items.map((Item) => ({ PutRequest: { Item } }));
    for (let attempt = 0; requests.length > 0; attempt++) {
      if (attempt >= 10) throw new Error('DynamoDB left audit records unprocessed ten times');
      if (attempt > 0) await new Promise((resolve) => setTimeout(resolve, 10 * 2 ** attempt));
      const out = await db.send(new BatchWriteCommand({ RequestItems: { [tableName]: requests } }));
      requests = (out.UnprocessedItems?.[tableName] ?? []) as typeof requests;
    }
  }

  /** The `once` records among `keys` that are in the table already, by `pk sk`. */
  async function existing(
    keys: Array<{ pk: string; sk: string }>,
  ): Promise<Map<string, Record<string, unknown>>> {
    const items = await batchGetAll(db, tableName, keys);
    return new Map(items.map((item) => [`${item.pk} ${item.sk}`, item]));
  }

  /**
   * One move of a chain's head for `batch`, in order; the answer of each append. Throws
   * ChainRaceError when another writer moved the head first.
   */
  async function move(kind: string, batch: Waiting[]): Promise<unknown[]> {
    const head = movedByMe.get(kind) ?? (await readHead(kind));
    // Read again if this move fails (a lost race, an error): the head may have moved.
    movedByMe.delete(kind);
    // Finish the previous move if its writer stopped between the head and the records.
    if (head.items.length > 0 && putByMe.get(kind) !== head.seq) await finishRecords(head.items);
    const keyOf = (item: Record<string, unknown>) => `${item.pk} ${item.sk}`;
    const known = new Map(head.items.map((item) => [keyOf(item), item]));
    const onceKeys = batch.flatMap(({ options }) =>
      options.once && !known.has(`${options.once.pk} ${options.once.sk}`) ? [options.once] : [],
    );
    if (onceKeys.length > 0) for (const [key, item] of await existing(onceKeys)) known.set(key, item);

    let seq = head.seq;
    let hash = head.hash;
    let last = head.items.at(-1);
    const linked: Record<string, unknown>[] = [];
    const answers = batch.map(({ record, options }) => {
      if (options.unless?.(last)) return undefined;
      const found = options.once && known.get(`${options.once.pk} ${options.once.sk}`);
      if (found) return options.fromItem(found);
      seq++;
      const fields: ChainedFields = { seq, prev: hash, hash: recordHash(hash, seq, record) };
      const item = options.itemOf(fields);
      hash = fields.hash;
      last = item;
      linked.push(item);
      // A second append of the same `once` record in this move gets this one.
      if (options.once) known.set(`${options.once.pk} ${options.once.sk}`, item);
      return options.fromItem(item);
    });
    if (linked.length === 0) return answers;
    try {
      await db.send(
        new PutCommand({
          TableName: tableName,
          Item: { pk: chainPk(kind), sk: 'HEAD', seq, hash, items: linked },
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
    await putRecords(linked);
    putByMe.set(kind, seq);
    movedByMe.set(kind, { seq, hash, items: linked });
    return answers;
  }

  /** The next appends of a chain that fit one move, oldest first. */
  function nextBatch(kind: string): Waiting[] {
    const queue = waiting.get(kind) ?? [];
    let bytes = 0;
    let count = 0;
    while (count < queue.length && count < MOVE_RECORDS) {
      const entry = queue[count] as Waiting;
      if (count > 0 && bytes + entry.bytes > MOVE_BYTES) break;
      bytes += entry.bytes;
      count++;
    }
    const batch = queue.splice(0, count);
    if (queue.length === 0) waiting.delete(kind);
    return batch;
  }

  /** Move the chain's head until no append waits; one mover per chain in this writer. */
  async function drain(kind: string): Promise<void> {
    if (moving.has(kind)) return;
    moving.add(kind);
    try {
      for (let batch = nextBatch(kind); batch.length > 0; batch = nextBatch(kind)) {
        try {
          const answers = await pRetry(() => move(kind, batch), {
            ...RACE_RETRY,
            shouldRetry: ({ error }) => error instanceof ChainRaceError,
          });
          for (const [i, entry] of batch.entries()) entry.done(answers[i]);
        } catch (error) {
          for (const entry of batch) entry.fail(error);
        }
      }
    } finally {
      moving.delete(kind);
    }
  }

  return {
    readHead,

    /**
     * Link a record into its kind's chain and put it; resolves once both are written. Appends
     * made while the chain is being moved go together in its next move, in the order made.
     */
    append<R>(kind: string, record: ChainRecord, options: ChainAppendOptions<R>): Promise<R | undefined> {
      return new Promise<R | undefined>((resolve, reject) => {
        const queue = waiting.get(kind) ?? [];
        waiting.set(kind, queue);
        queue.push({
          record,
          options: options as ChainAppendOptions<unknown>,
          bytes: canonical(record).length,
          done: (answer) => resolve(answer as R | undefined),
          fail: reject,
        });
        void drain(kind);
      });
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
