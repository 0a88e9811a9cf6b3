// A preload for the runtime of the harness's disk row (reliability/suites/disk.ts): while the
// file named by RELIABILITY_DISK_FULL exists, every write to the engine's journal is made to
// /dev/full instead, which the kernel refuses with ENOSPC as it does on a full disk. Only the
// journal's writes: the embedded DynamoDB (LevelDB, native writes) and everything else keep
// their disk, so the row sees what the engine does when its journal alone cannot be written.
//
// The journal writes with fs.writeSync; patched here before any module imports it (named
// imports of node:fs follow after syncBuiltinESMExports).
import fs from 'node:fs';
import { syncBuiltinESMExports } from 'node:module';
import { isMainThread } from 'node:worker_threads';

const flag = process.env.RELIABILITY_DISK_FULL;
if (flag && isMainThread) {
  const write = fs.writeSync;
  let full;
  const isJournal = (fd) => {
    try {
      return fs.readlinkSync(`/proc/self/fd/${fd}`).endsWith('/engine/journal.ndjson');
    } catch {
      return false;
    }
  };
  fs.writeSync = function writeSync(fd, ...rest) {
    if (typeof fd === 'number' && fs.existsSync(flag) && isJournal(fd)) {
      full ??= fs.openSync('/dev/full', 'w');
      return write.call(fs, full, ...rest);
    }
    return write.call(fs, fd, ...rest);
  };
  syncBuiltinESMExports();
}
