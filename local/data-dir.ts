import { chmodSync, mkdirSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { isMainThread } from 'node:worker_threads';

/**
 * Makes `dataDir` private to this user before anything is written to it: it holds task tokens
 * (journal, history, DynamoDB). Sets the process umask to 077, so every file the runtime and
 * its DynamoDB thread create is 0600 and every directory 0700, creates the directory 0700, and
 * tightens a directory an older Signoff left readable (0755, files 0644), contents included.
 */
export function secureDataDir(dataDir: string): void {
  // Only the main thread may set the umask; it applies to the whole process, workers included.
  if (isMainThread) process.umask(0o077);
  mkdirSync(dataDir, { recursive: true, mode: 0o700 });
  if ((statSync(dataDir).mode & 0o077) !== 0) tighten(dataDir);
}

/** chmod 0700 for `path` and every directory below it, 0600 for every file. */
function tighten(path: string): void {
  chmodSync(path, 0o700);
  for (const entry of readdirSync(path, { withFileTypes: true })) {
    const child = join(path, entry.name);
    if (entry.isDirectory()) tighten(child);
    else if (entry.isFile()) chmodSync(child, 0o600);
  }
}
