import type { AuditFilter, AuditLog, AuditRecord } from '../core/audit.ts';
import { InvalidInputError } from '../core/errors.ts';

/** Columns of an audit CSV export, in order. */
export const CSV_COLUMNS = [
  'time',
  'kind',
  'execution',
  'action',
  'outcome',
  'actor_platform',
  'actor_id',
  'actor_name',
  'actor_user',
  'detail',
  'id',
  'seq',
  'prev',
  'hash',
] as const;

/** The most rows one export returns; a wider filter is refused rather than cut short. */
export const EXPORT_LIMIT = 50_000;

/**
 * One CSV field (RFC 4180). A value a spreadsheet would run as a formula (`=`, `+`, `-`, `@`,
 * tab, carriage return first) is prefixed with `'`: audit data comes partly from outside.
 */
export function csvField(value: string): string {
  const safe = /^[=+\-@\t\r]/.test(value) ? `'${value}` : value;
  return /[",\r\n]/.test(safe) ? `"${safe.replace(/"/g, '""')}"` : safe;
}

export function csvRow(record: AuditRecord): string {
  const values: Record<(typeof CSV_COLUMNS)[number], string> = {
    time: record.at,
    kind: record.kind,
    execution: record.executionArn,
    action: record.action,
    outcome: record.outcome,
    actor_platform: record.actor.platform,
    actor_id: record.actor.id,
    actor_name: record.actor.name,
    actor_user: record.actor.user ?? '',
    detail: record.detail ? JSON.stringify(record.detail) : '',
    id: record.id,
    seq: record.seq === undefined ? '' : String(record.seq),
    prev: record.prev ?? '',
    hash: record.hash ?? '',
  };
  return CSV_COLUMNS.map((column) => csvField(values[column])).join(',');
}

/** The audit records as CSV text with a header line, CRLF line ends. */
export function toCsv(records: AuditRecord[]): string {
  return `${[CSV_COLUMNS.join(','), ...records.map(csvRow)].join('\r\n')}\r\n`;
}

/** Every record a filter matches (all pages, newest first): exactly the rows the console lists. */
export async function allAuditRecords(audit: AuditLog, filter: AuditFilter): Promise<AuditRecord[]> {
  const records: AuditRecord[] = [];
  let cursor: string | undefined;
  do {
    const { cursor: _ignored, limit: _limit, ...rest } = filter;
    const page = await audit.query({ ...rest, limit: 1000, ...(cursor ? { cursor } : {}) });
    records.push(...page.records);
    if (records.length > EXPORT_LIMIT)
      throw new InvalidInputError(
        `more than ${EXPORT_LIMIT} records match: narrow the filter (kind, actor or dates) and export again`,
      );
    cursor = page.cursor;
  } while (cursor);
  return records;
}
