import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { type DynamoDBDocumentClient, QueryCommand } from '@aws-sdk/lib-dynamodb';
import type { Actor } from './approvals/types.ts';
import {
  type ChainedFields,
  type ChainReport,
  chainPk,
  createAuditChain,
  seqKey,
  verifyChain,
} from './audit-chain.ts';
import { WORKFLOW_KINDS, type WorkflowKind } from './config.ts';
import { documentClient } from './db.ts';
import { InvalidInputError } from './errors.ts';
import { shortHash, timeId } from './ids.ts';

/**
 * The kinds of records: every workflow kind, `config` (the configuration's changes) and
 * `delegation` (approvers handing their decisions to someone while away).
 */
export type AuditKind = WorkflowKind | 'config' | 'delegation';
/** Each kind is a hash chain of its own. */
export const AUDIT_CHAINS: readonly AuditKind[] = [...WORKFLOW_KINDS, 'config', 'delegation'];

/**
 * One thing that happened to a workflow.
 *
 * @example { kind: 'merge-request', executionArn, action: 'approval.decided', actor, outcome: 'approved', at }
 */
export interface AuditRecord {
  id: string;
  kind: AuditKind;
  executionArn: string;
  /** What happened: `execution.requested`, `approval.requested`, `approval.vote`, `merge-request.merged`, … */
  action: string;
  actor: Actor;
  outcome: string;
  at: string;
  detail?: Record<string, string | number | boolean>;
  /** Its place in its kind's hash chain, the hash of the record before it, and its own hash. */
  seq?: number;
  prev?: string;
  hash?: string;
}

export type NewAuditRecord = Omit<AuditRecord, 'id' | 'at' | 'seq' | 'prev' | 'hash'> & { at?: string };

export interface AuditQuery {
  since?: string;
  until?: string;
  limit?: number;
  cursor?: string;
}

export interface AuditPage {
  records: AuditRecord[];
  cursor?: string;
  /** How the page was read: the key it used and how many items DynamoDB read for it. */
  stats?: AuditReadStats;
}

/** What a query cost: which key served it, items read (ScannedCount) and read capacity consumed. */
export interface AuditReadStats {
  access: 'execution' | 'actor+kind+action+outcome' | 'actor' | 'kind' | 'every kind';
  queries: number;
  scanned: number;
  capacityUnits: number;
}

/**
 * Any combination of filters; the most selective key is chosen (never a Scan).
 *
 * @example { kind: 'deploy', actor: 'bob', action: 'approval.vote', outcome: 'approve', since: '2025-05-01' }
 */
export interface AuditFilter {
  execution?: string;
  kind?: AuditKind;
  /** User key or `platform:id`. */
  actor?: string;
  action?: string;
  outcome?: string;
  /** ISO time (or a prefix of one, such as `2025-05-01`), inclusive. */
  since?: string;
  /** ISO time (or a prefix of one), inclusive: `2025-05-31` covers that whole day. */
  until?: string;
  limit?: number;
  cursor?: string;
}

/** A record to append, with the key that makes it written once (see `AuditLog.append`). */
export type OnceRecord = NewAuditRecord & { once?: string };

export interface AuditLog {
  /**
   * Append a record. Records are never updated or deleted through Signoff. With `once`, a
   * record for the same key and time is written at most once (redelivered triggers).
   */
  append(record: NewAuditRecord, options?: { once?: string }): Promise<AuditRecord>;
  /**
   * Append several records, linked in their order (in one move of the chain's head when they
   * fit). A record with `once` gets the id `append` would give it, so writing it again finds it
   * and adds nothing (the outbox redelivery after a crash); others get random ids.
   */
  appendMany(records: OnceRecord[]): Promise<AuditRecord[]>;
  /**
   * Append unless `same(last)` says the last record of the kind's chain already says it (read
   * and linked under the chain's condition, so concurrent callers append it once).
   */
  appendUnlessLast(
    record: NewAuditRecord,
    same: (last: AuditRecord | undefined) => boolean,
  ): Promise<AuditRecord | undefined>;
  /** Recompute the hash chains (every kind, or one) from `since`; each names its first broken link. */
  verify(options?: { kind?: AuditKind; since?: string }): Promise<ChainReport[]>;
  byKind(kind: AuditKind, query?: AuditQuery): Promise<AuditPage>;
  /** `actorKey` is the user key when known, else `platform:id`. */
  byActor(actorKey: string, query?: AuditQuery): Promise<AuditPage>;
  byExecution(executionArn: string): Promise<AuditRecord[]>;
  /** Filter by any of execution, kind, actor, action, outcome and time, newest first, paged. */
  query(filter: AuditFilter): Promise<AuditPage>;
}

/**
 * The gsi3 partition of a record: who did what, on which kind, with which outcome. A question
 * naming all four ("deploy approvals by bob") reads exactly its records, in time order.
 */
export function didKey(actor: string, kind: AuditKind, action: string, outcome: string): string {
  return `AUDIT#DID#${actor}#${kind}#${action}#${outcome}`;
}

/** The DynamoDB item of a record: base-table, gsi1 (kind), gsi2 (actor) and gsi3 (actor+kind+action+outcome) keys. */
export function auditItem(record: AuditRecord): Record<string, unknown> {
  const actor = actorKey(record.actor);
  return {
    ...record,
    pk: `EXEC#${record.executionArn}`,
    sk: `AUDIT#${record.id}`,
    gsi1pk: `AUDIT#KIND#${record.kind}`,
    gsi1sk: record.id,
    gsi2pk: `AUDIT#ACTOR#${actor}`,
    gsi2sk: record.id,
    gsi3pk: didKey(actor, record.kind, record.action, record.outcome),
    gsi3sk: record.id,
    ...(record.seq !== undefined ? { gsi4pk: chainPk(record.kind), gsi4sk: seqKey(record.seq) } : {}),
  };
}

/** The key an actor is filed under: the configured user when known, else platform and id. */
export function actorKey(actor: Actor): string {
  return actor.user ?? `${actor.platform}:${actor.id}`;
}

const FIELDS = [
  'id',
  'kind',
  'executionArn',
  'action',
  'actor',
  'outcome',
  'at',
  'detail',
  'seq',
  'prev',
  'hash',
] as const;

function fromItem(item: Record<string, unknown>): AuditRecord {
  const record: Record<string, unknown> = {};
  for (const field of FIELDS) if (item[field] !== undefined) record[field] = item[field];
  return record as unknown as AuditRecord;
}

/** The audit log on DynamoDB: by execution on the base table, by kind on gsi1, by actor on gsi2. */
export function createAuditLog(client: DynamoDBClient, tableName: string): AuditLog {
  const db = documentClient(client);
  const chain = createAuditChain(db, tableName);

  /**
   * Link a record into its kind's chain. A `once` record's id derives from the key and time, so
   * writing it again finds it and adds no second link.
   */
  function chained(
    input: NewAuditRecord,
    once: string | undefined,
    unless?: (last: Record<string, unknown> | undefined) => boolean,
  ): Promise<AuditRecord | undefined> {
    const at = input.at ?? new Date().toISOString();
    const id = once ? `${at}#${shortHash(once)}` : timeId(new Date(at));
    const record: AuditRecord = { ...input, id, at };
    const pk = `EXEC#${record.executionArn}`;
    return chain.append(record.kind, record, {
      itemOf: (fields: ChainedFields) => auditItem({ ...record, ...fields }),
      ...(once ? { once: { pk, sk: `AUDIT#${id}` } } : {}),
      ...(unless ? { unless } : {}),
      fromItem,
    });
  }

  /** The seq to verify from: the first record of the kind at or after `since` (gsi1), else 1. */
  async function firstSeqSince(kind: AuditKind, since: string | undefined): Promise<number> {
    if (!since) return 1;
    let start: Record<string, unknown> | undefined;
    do {
      const out = await db.send(
        new QueryCommand({
          TableName: tableName,
          IndexName: 'gsi1',
          KeyConditionExpression: 'gsi1pk = :pk AND gsi1sk >= :since',
          ExpressionAttributeValues: { ':pk': `AUDIT#KIND#${kind}`, ':since': since },
          Limit: 50,
          ExclusiveStartKey: start,
        }),
      );
      const seqs = (out.Items ?? []).map((i) => i.seq).filter((s): s is number => typeof s === 'number');
      if (seqs.length) return Math.min(...seqs);
      start = out.LastEvaluatedKey;
    } while (start);
    return Number.MAX_SAFE_INTEGER;
  }

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
    append(input, options) {
      return chained(input, options?.once) as Promise<AuditRecord>;
    },

    appendMany(inputs) {
      // Asked for together, in order: the chain links them in this order, in one move when it can.
      return Promise.all(inputs.map(({ once, ...input }) => chained(input, once) as Promise<AuditRecord>));
    },

    appendUnlessLast(input, same) {
      return chained(input, undefined, (last) => same(last ? fromItem(last) : undefined));
    },

    async verify(options = {}) {
      const kinds = options.kind ? [options.kind] : AUDIT_CHAINS;
      return Promise.all(
        kinds.map(async (kind) => verifyChain(chain, kind, await firstSeqSince(kind, options.since))),
      );
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

    query(filter) {
      return queryAudit(db, tableName, filter);
    },
  };
}

const ALL_KINDS: readonly AuditKind[] = AUDIT_CHAINS;
const ID = /^\d{4}-\d{2}-\d{2}T[0-9:.]+Z#[A-Za-z0-9_-]+$/;

interface Plan {
  access: AuditReadStats['access'];
  index?: 'gsi1' | 'gsi2' | 'gsi3';
  partitions: string[];
  /** Conditions the key does not cover, applied as a FilterExpression. */
  filters: Array<[field: 'kind' | 'action' | 'outcome' | 'actorKey', value: string]>;
}

/** Choose the narrowest key for a filter; what the key does not cover becomes a FilterExpression. */
function plan(filter: AuditFilter): Plan {
  const { kind, actor, action, outcome } = filter;
  const rest = (skip: string[]): Plan['filters'] =>
    (
      [
        ['kind', kind],
        ['action', action],
        ['outcome', outcome],
        ['actorKey', actor],
      ] as const
    ).flatMap(([field, value]) => (value !== undefined && !skip.includes(field) ? [[field, value]] : []));
  if (filter.execution)
    return { access: 'execution', partitions: [`EXEC#${filter.execution}`], filters: rest([]) };
  if (actor && kind && action && outcome) {
    return {
      access: 'actor+kind+action+outcome',
      index: 'gsi3',
      partitions: [didKey(actor, kind, action, outcome)],
      filters: [],
    };
  }
  if (actor)
    return {
      access: 'actor',
      index: 'gsi2',
      partitions: [`AUDIT#ACTOR#${actor}`],
      filters: rest(['actorKey']),
    };
  if (kind)
    return { access: 'kind', index: 'gsi1', partitions: [`AUDIT#KIND#${kind}`], filters: rest(['kind']) };
  return {
    access: 'every kind',
    index: 'gsi1',
    partitions: ALL_KINDS.map((k) => `AUDIT#KIND#${k}`),
    filters: rest([]),
  };
}

function encodeBefore(id: string): string {
  return Buffer.from(JSON.stringify({ before: id })).toString('base64url');
}

function decodeBefore(cursor: string): string {
  try {
    const value: unknown = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
    const before = (value as { before?: unknown } | null)?.before;
    if (typeof before === 'string' && ID.test(before) && Object.keys(value as object).length === 1)
      return before;
  } catch {
    // fall through to the error below
  }
  throw new InvalidInputError('cursor is not one this server returned');
}

/**
 * One page of a filtered audit query, newest first. The cursor names the last record returned;
 * the next page reads the same key range below it, so it works across merged partitions too.
 */
async function queryAudit(
  db: DynamoDBDocumentClient,
  tableName: string,
  filter: AuditFilter,
): Promise<AuditPage> {
  const limit = Math.min(Math.max(filter.limit ?? 100, 1), 1000);
  const p = plan(filter);
  const before = filter.cursor ? decodeBefore(filter.cursor) : undefined;
  const since = filter.since ?? '0000';
  const until = before ?? `${filter.until ?? '9999'}~`;
  const stats: AuditReadStats = { access: p.access, queries: 0, scanned: 0, capacityUnits: 0 };
  const pkName = p.index ? `${p.index}pk` : 'pk';
  const skName = p.index ? `${p.index}sk` : 'sk';
  const prefix = p.index ? '' : 'AUDIT#';
  const names: Record<string, string> = { '#pk': pkName, '#sk': skName };
  const values: Record<string, string> = { ':since': `${prefix}${since}`, ':until': `${prefix}${until}` };
  const conditions: string[] = [];
  p.filters.forEach(([field, value], i) => {
    if (field === 'actorKey') {
      // The actor of a record is filed under its gsi2 key; compare with that.
      names[`#f${i}`] = 'gsi2pk';
      values[`:f${i}`] = `AUDIT#ACTOR#${value}`;
    } else {
      names[`#f${i}`] = field;
      values[`:f${i}`] = value;
    }
    conditions.push(`#f${i} = :f${i}`);
  });

  const collected: AuditRecord[] = [];
  let more = false;
  for (const partition of p.partitions) {
    let start: Record<string, unknown> | undefined;
    let found = 0;
    do {
      const out = await db.send(
        new QueryCommand({
          TableName: tableName,
          ...(p.index ? { IndexName: p.index } : {}),
          KeyConditionExpression: '#pk = :pk AND #sk BETWEEN :since AND :until',
          ...(conditions.length ? { FilterExpression: conditions.join(' AND ') } : {}),
          ExpressionAttributeNames: names,
          ExpressionAttributeValues: { ...values, ':pk': partition },
          ScanIndexForward: false,
          // Without a filter every item read is a match: read just one more than a page.
          Limit: conditions.length ? Math.max(limit * 2, 200) : limit + 1,
          ReturnConsumedCapacity: 'TOTAL',
          ...(start ? { ExclusiveStartKey: start } : {}),
        }),
      );
      stats.queries++;
      stats.scanned += out.ScannedCount ?? 0;
      stats.capacityUnits += out.ConsumedCapacity?.CapacityUnits ?? 0;
      for (const item of out.Items ?? []) {
        const record = fromItem(item);
        if (before && record.id >= before) continue; // BETWEEN is inclusive; the cursor's own record was shown
        collected.push(record);
        found++;
      }
      start = out.LastEvaluatedKey;
    } while (start && found <= limit);
    if (start) more = true;
  }
  collected.sort((a, b) => (a.id < b.id ? 1 : a.id > b.id ? -1 : 0));
  if (collected.length > limit) more = true;
  const records = collected.slice(0, limit);
  const last = records[records.length - 1];
  return { records, ...(more && last ? { cursor: encodeBefore(last.id) } : {}), stats };
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
