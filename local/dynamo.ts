import { Worker } from 'node:worker_threads';

export interface EmbeddedDynamo {
  endpoint: string;
  close(): Promise<void>;
}

/**
 * The embedded DynamoDB-compatible server (dynalite), on its own worker thread. With `path`,
 * data persists there; without it, it lives in memory (tests). Two processes on one
 * directory corrupt it: the caller holds the data-dir lock (local/lock.ts).
 */
export async function startDynamo(options: {
  path?: string;
  port: number;
  host: string;
}): Promise<EmbeddedDynamo> {
  const worker = new Worker(new URL('./dynamo-worker.mjs', import.meta.url), {
    workerData: { path: options.path, port: options.port, host: options.host },
    // dynalite allocates many short-lived objects per request; a small young generation keeps
    // the worker's memory near what it holds (V8 would otherwise size it up to 64 MB × 2).
    resourceLimits: { maxYoungGenerationSizeMb: 16 },
  });
  const port = await new Promise<number>((resolve, reject) => {
    worker.once('message', (message: { port?: number; error?: string }) =>
      message.port
        ? resolve(message.port)
        : reject(new Error(`embedded DynamoDB failed to start: ${message.error}`)),
    );
    worker.once('error', reject);
  });
  return {
    endpoint: `http://${options.host}:${port}`,
    async close() {
      await new Promise<void>((resolve) => {
        worker.once('message', () => resolve());
        worker.once('exit', () => resolve());
        worker.postMessage('close');
      });
      await worker.terminate();
    },
  };
}
