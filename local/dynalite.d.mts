import type { Server } from 'node:http';

/** A dynalite server (not listening yet) whose reads close their iterators. */
export function createDynalite(options?: {
  path?: string;
  createTableMs?: number;
  deleteTableMs?: number;
  updateTableMs?: number;
  maxItemSizeKb?: number;
}): Server;
