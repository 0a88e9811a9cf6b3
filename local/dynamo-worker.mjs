// The embedded DynamoDB (dynalite) on a worker thread: its LevelDB work runs on the second
// core instead of the event loop that serves webhooks, the engine and the tasks. A thread,
// not a child process, so a kill -9 of the runtime can never leave it holding the data dir.
import { mkdirSync } from 'node:fs';
import { parentPort, workerData } from 'node:worker_threads';
import { createDynalite } from './dynalite.mjs';

const { path, port, host } = workerData;
// LevelDB creates its files with the process umask, which the runtime sets to 077 (local/data-dir.ts).
if (path) mkdirSync(path, { recursive: true, mode: 0o700 });
const server = createDynalite({
  ...(path ? { path } : {}),
  createTableMs: 0,
  deleteTableMs: 0,
  updateTableMs: 0,
});
server.once('error', (error) => parentPort.postMessage({ error: String(error) }));
server.listen(port, host, () => parentPort.postMessage({ port: server.address().port }));
parentPort.on('message', (message) => {
  if (message !== 'close') return;
  server.close(() => parentPort.postMessage({ closed: true }));
  // Everything that calls DynamoDB has stopped by now: a request still open after 2 s is one
  // whose client went away mid-request, and must not keep the runtime from stopping.
  server.closeIdleConnections();
  setTimeout(() => server.closeAllConnections(), 2000).unref();
});
