import type { StoredEvent } from './history.ts';
import { isObject, type JsonObject } from './resources.ts';

/**
 * One line of the engine journal (`engine/journal.ndjson`). `execution` is the execution's number
 * in this engine (its `seq`, also the name of its history archive).
 */
export type JournalRecord =
  | {
      record: 'started';
      execution: number;
      stateMachine: string;
      name: string;
      input: string;
      /** Epoch milliseconds. */
      startedAt: number;
    }
  | { record: 'event'; execution: number; event: StoredEvent }
  | { record: 'heartbeat'; execution: number; taskToken: string; at: number };

/**
 * A journal line as written by this version, or by the one before it, whose keys were one or two
 * letters (`{k:'s',x,m,n,i,t}`, `{k:'e',x,e}`, `{k:'h',x,tok,t}`, events with `ts`, `d`, `top`,
 * `att`, `tok`, `to`, `hb`). A data directory from before keeps recovering; the journal is
 * rewritten in this format when it is compacted at start. Unknown records are skipped.
 */
export function readRecord(raw: JsonObject): JournalRecord | undefined {
  if ('record' in raw) {
    const known = raw.record === 'started' || raw.record === 'event' || raw.record === 'heartbeat';
    return known ? (raw as JournalRecord) : undefined;
  }
  const execution = Number(raw.x);
  switch (raw.k) {
    case 's':
      return {
        record: 'started',
        execution,
        stateMachine: String(raw.m),
        name: String(raw.n),
        input: String(raw.i),
        startedAt: Number(raw.t),
      };
    case 'e':
      return { record: 'event', execution, event: readEvent(raw.e) };
    case 'h':
      return { record: 'heartbeat', execution, taskToken: String(raw.tok), at: Number(raw.t) };
    default:
      return undefined;
  }
}

/** A history event as the journal or an archive file holds it, in either format (see `readRecord`). */
export function readEvent(raw: unknown): StoredEvent {
  const event = isObject(raw) ? raw : {};
  if (isObject(event.details)) return event as unknown as StoredEvent;
  const optional = <T>(key: string, value: T | undefined) => (value === undefined ? {} : { [key]: value });
  return {
    id: Number(event.id),
    type: String(event.type),
    timestamp: Number(event.ts),
    details: isObject(event.d) ? event.d : {},
    ...optional('topLevelState', event.top as string | undefined),
    ...optional('attempt', event.att as number | undefined),
    ...optional('taskToken', event.tok as string | undefined),
    ...optional('timeoutAt', event.to as number | undefined),
    ...optional('heartbeatSeconds', event.hb as number | undefined),
  };
}
