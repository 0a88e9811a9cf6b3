// A diagnostic preload for the runtime: every 2 s, one JSON line per thread with its memory.
//
//   RELIABILITY_RUNTIME_ARGS="--import ./reliability/memory-sampler.mjs" \
//     MEMORY_SAMPLES=/tmp/samples.ndjson npm run reliability -- --only load --saturation 0
//
// Preloads run in worker threads too, so the embedded DynamoDB's worker reports its own heap
// (`main: false`). `anon` and `file` are the whole process's (RssAnon, RssFile in /proc).
import { appendFileSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { getHeapSpaceStatistics } from 'node:v8';
import { isMainThread, threadId } from 'node:worker_threads';

const out = process.env.MEMORY_SAMPLES ?? join(tmpdir(), 'signoff-memory-samples.ndjson');
const mb = (bytes) => Math.round((bytes / 2 ** 20) * 10) / 10;
const started = Date.now();

setInterval(() => {
  const status = readFileSync('/proc/self/status', 'utf8');
  const kb = (field) => Number(new RegExp(`${field}:\\s+(\\d+)`).exec(status)?.[1] ?? 0) * 1024;
  const usage = process.memoryUsage();
  const sample = {
    t: Math.round((Date.now() - started) / 1000),
    main: isMainThread,
    thread: threadId,
    anon: mb(kb('RssAnon')),
    file: mb(kb('RssFile')),
    heapTotal: mb(usage.heapTotal),
    heapUsed: mb(usage.heapUsed),
    external: mb(usage.external),
    arrayBuffers: mb(usage.arrayBuffers),
    spaces: Object.fromEntries(getHeapSpaceStatistics().map((s) => [s.space_name, mb(s.space_size)])),
  };
  appendFileSync(out, `${JSON.stringify(sample)}\n`);
}, 2000).unref();
