// dynalite, with its LevelDB iterators closed.
//
// dynalite 4.0.0 reads through streams over abstract-level iterators and, when a stream ends
// or a Query stops at its Limit, closes the iterator with `iterator.return()`. abstract-level 3
// iterators have no `return()` (they have `close()`), so no iterator was ever closed: each
// Query and Scan left an open LevelDB iterator behind, held by the database until it closed.
// An open LevelDB iterator pins the memtables and table files it started on, so the embedded
// DynamoDB's memory grew with every write that followed (measured: about 20 MB per 1,000
// queries, and ~100 MB per round of 1,000 approvals in `npm run reliability`). Giving the
// iterators a `return()` that closes them lets dynalite's own cleanup work.
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
const dynalite = require('dynalite');

/** `require(names.at(-1))` as the package before it sees it, starting from dynalite. */
function requireThrough(...names) {
  let from = require;
  for (const name of names.slice(0, -1)) from = createRequire(from.resolve(name));
  return from(names.at(-1));
}

/** Gives abstract-level iterators the `return()` dynalite calls to close them. Idempotent. */
function closeIteratorsOnReturn() {
  // abstract-level as each store dynalite opens sees it: classic-level on disk, memory-level in memory.
  const levels = [
    requireThrough('dynalite', 'level', 'classic-level', 'abstract-level'),
    requireThrough('dynalite', 'memory-level', 'abstract-level'),
  ];
  for (const { AbstractIterator, AbstractKeyIterator, AbstractValueIterator } of levels) {
    for (const Iterator of [AbstractIterator, AbstractKeyIterator, AbstractValueIterator]) {
      if (typeof Iterator.prototype.return === 'function') continue;
      Object.defineProperty(Iterator.prototype, 'return', {
        configurable: true,
        writable: true,
        value: async function close() {
          await this.close();
          return { done: true, value: undefined };
        },
      });
    }
  }
}

/** A dynalite server (not listening yet) whose reads close their iterators. */
export function createDynalite(options) {
  closeIteratorsOnReturn();
  return dynalite(options);
}
