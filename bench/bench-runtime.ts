import { type ChildProcess, fork } from 'node:child_process';
import { mkdirSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Baseline, Ready, Reply, Request, Stats } from './runtime-process.ts';

export type { Baseline, CallStats, CpuSpent, Stats } from './runtime-process.ts';

/** The embedded runtime in a child process, driven over IPC. */
export interface BenchRuntime {
  urls: Ready['urls'];
  webhookToken: string;
  signingToken: string;
  /** startSignoff() inside the child, in ms. */
  startupMs: number;
  /** Seed merge requests `fromIid…` in the GitLab stand-in; returns their "open" hooks. */
  seed(fromIid: number, count: number): Promise<object[]>;
  stats(): Promise<Stats>;
  /** Zero the per-operation call counters. */
  resetCalls(): Promise<void>;
  /** The baselines, measured inside the runtime process. */
  baseline(n: number, concurrency: number): Promise<Baseline>;
  /** Stop the runtime; returns the CPU profile path when one was asked for. */
  stop(): Promise<string | undefined>;
}

const CHILD = join(import.meta.dirname, 'runtime-process.ts');

/**
 * How `npm start` runs the runtime (package.json's `start` script, `node <flags> <entry> …`): its
 * node flags (the heap settings, `--expose-gc`, `--import tsx`), its entry, and all of its
 * arguments. The bench and the reliability harness run the runtime with these, so what they
 * measure is what users run and the two cannot drift apart.
 */
export function startScript(packageJson = join(import.meta.dirname, '..', 'package.json')): {
  flags: string[];
  args: string[];
} {
  const script = (JSON.parse(readFileSync(packageJson, 'utf8')) as { scripts?: Record<string, string> })
    .scripts?.start;
  const words = script?.trim().split(/\s+/) ?? [];
  const entry = words.findIndex((word) => word.endsWith('.ts') || word.endsWith('.js'));
  if (words[0] !== 'node' || entry < 0)
    throw new Error(`package.json's start script is not "node <flags> <entry>": ${script}`);
  return { flags: words.slice(1, entry), args: words.slice(1) };
}

/** The node flags of `npm start` (startScript). */
export function startScriptNodeFlags(packageJson?: string): string[] {
  return startScript(packageJson).flags;
}

const START_LIMIT_MS = 60_000;
const CALL_LIMIT_MS = 300_000;

export async function startBenchRuntime(options: { cpuProf: boolean }): Promise<BenchRuntime> {
  const profileDir = join(tmpdir(), `signoff-bench-prof-${process.pid}-${Date.now()}`);
  if (options.cpuProf) mkdirSync(profileDir, { recursive: true });
  const child = fork(CHILD, [], {
    execArgv: [
      ...startScriptNodeFlags(),
      ...(options.cpuProf ? ['--cpu-prof', '--cpu-prof-dir', profileDir] : []),
    ],
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  const ready = await new Promise<Ready>((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new Error('the bench runtime did not start in time')),
      START_LIMIT_MS,
    );
    child.once('message', (message: Ready) => {
      clearTimeout(timer);
      resolve(message);
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`the bench runtime exited with ${code}`));
    });
  });
  const call = ipc(child);
  return {
    urls: ready.urls,
    webhookToken: ready.webhookToken,
    signingToken: ready.signingToken,
    startupMs: ready.startupMs,
    seed: (fromIid, count) => call({ type: 'seed', fromIid, count }) as Promise<object[]>,
    stats: () => call({ type: 'stats' }) as Promise<Stats>,
    resetCalls: async () => {
      await call({ type: 'reset' });
    },
    baseline: (n, concurrency) => call({ type: 'baseline', n, concurrency }) as Promise<Baseline>,
    async stop() {
      const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
      await call({ type: 'stop' }).catch(() => child.kill());
      await exited;
      if (!options.cpuProf) return undefined;
      const profiles = readdirSync(profileDir)
        .filter((name) => name.endsWith('.cpuprofile'))
        .map((name) => join(profileDir, name))
        .sort((a, b) => statSync(b).size - statSync(a).size);
      return profiles[0];
    },
  };
}

type Pending = { resolve: (value: unknown) => void; reject: (error: Error) => void; timer: NodeJS.Timeout };

/** A request without its id (distributed over the union). */
type Call = Request extends infer R ? (R extends Request ? Omit<R, 'id'> : never) : never;

function ipc(child: ChildProcess): (request: Call) => Promise<unknown> {
  let nextId = 1;
  const pending = new Map<number, Pending>();
  child.on('message', (message: Reply | Ready) => {
    if (!('id' in message)) return;
    const waiter = pending.get(message.id);
    if (!waiter) return;
    pending.delete(message.id);
    clearTimeout(waiter.timer);
    if (message.ok) waiter.resolve(message.value);
    else waiter.reject(new Error(message.error));
  });
  child.on('exit', () => {
    for (const waiter of pending.values()) {
      clearTimeout(waiter.timer);
      waiter.reject(new Error('the bench runtime exited'));
    }
    pending.clear();
  });
  return (request) =>
    new Promise((resolve, reject) => {
      const id = nextId++;
      const timer = setTimeout(() => {
        pending.delete(id);
        reject(new Error(`bench runtime did not answer ${request.type} in time`));
      }, CALL_LIMIT_MS);
      pending.set(id, { resolve, reject, timer });
      child.send({ ...request, id } as Request);
    });
}
