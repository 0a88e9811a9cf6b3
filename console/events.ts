import { createHash } from 'node:crypto';
import { WORKFLOW_KINDS } from '../core/config.ts';
import type { ConsoleSources } from './queries.ts';

/** What a page learns when approvals or executions change. */
export interface ConsoleChange {
  /** Changes whenever anything a page shows may have changed. */
  marker: string;
  /** Pending approvals, all of them. */
  pending: number;
}

export interface ChangeFeed {
  /** Calls `listener` with the current state once known, then on every change; returns the unsubscribe. */
  subscribe(listener: (change: ConsoleChange) => void): () => void;
}

/**
 * One poller per app, running only while a page listens: every `intervalMs` it reads a cheap
 * fingerprint of what the pages show (the pending approvals and their votes, the newest audit
 * record, the newest executions of each kind and their status) and tells the listeners when it
 * moved. Polling the store works on every runtime (a decision made by another Lambda, a chat
 * click, the CLI) where an in-process event would miss what other processes did.
 */
export function createChangeFeed(
  sources: Pick<ConsoleSources, 'store' | 'audit' | 'engine'>,
  options: { intervalMs?: number; onError?: (error: unknown) => void } = {},
): ChangeFeed {
  const intervalMs = options.intervalMs ?? 1500;
  const listeners = new Set<(change: ConsoleChange) => void>();
  let last: ConsoleChange | undefined;

  async function read(): Promise<ConsoleChange> {
    const [pending, audit, executions] = await Promise.all([
      sources.store.list('pending'),
      sources.audit.query({ limit: 1 }),
      Promise.all(WORKFLOW_KINDS.map((kind) => sources.engine.list(kind, { limit: 5 }))),
    ]);
    const fingerprint = JSON.stringify([
      pending.map((a) => [a.approvalId, a.votes.length, a.status]),
      audit.records[0]?.id ?? '',
      executions.map((page) => page.executions.map((e) => [e.executionArn, e.status])),
    ]);
    return {
      marker: createHash('sha256').update(fingerprint).digest('base64url').slice(0, 16),
      pending: pending.length,
    };
  }

  let running = false;
  // One loop at a time: it ends once nobody listens, and the next subscriber starts it again.
  async function run() {
    running = true;
    while (listeners.size > 0) {
      try {
        const change = await read();
        if (change.marker !== last?.marker) {
          last = change;
          for (const listener of listeners) listener(change);
        }
      } catch (error) {
        // A failed read is retried on the next tick; pages keep what they show.
        options.onError?.(error);
      }
      if (listeners.size > 0) await new Promise((resolve) => setTimeout(resolve, intervalMs));
    }
    running = false;
    last = undefined;
  }

  return {
    subscribe(listener) {
      listeners.add(listener);
      if (last) listener(last);
      if (!running) void run();
      return () => {
        listeners.delete(listener);
      };
    },
  };
}
