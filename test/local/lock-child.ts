/**
 * Child process for the lock race test: reads commands from stdin, one a line, on the data
 * directory argv[2]. `go` tries to lock it and prints `locked <pid>` or `refused <message>`;
 * `release` lets go of a lock it holds and prints `released`.
 */
import { createInterface } from 'node:readline';
import { lockDataDir } from '../../local/lock.ts';

const [dataDir = ''] = process.argv.slice(2);
let release: (() => void) | undefined;
process.stdout.write('ready\n');
for await (const line of createInterface({ input: process.stdin })) {
  if (line === 'go') {
    try {
      release = lockDataDir(dataDir);
      process.stdout.write(`locked ${process.pid}\n`);
    } catch (error) {
      process.stdout.write(`refused ${(error as Error).message}\n`);
    }
  } else if (line === 'release') {
    release?.();
    release = undefined;
    process.stdout.write('released\n');
  }
}
