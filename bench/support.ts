import { setTimeout as sleep } from 'node:timers/promises';

export { sleep };

/** Bench options from `--name value` / `--name=value` / `--flag` arguments. */
export interface BenchOptions {
  only?: 'engine' | 'webhook' | 'bundles';
  /** Merge requests in the engine bench. */
  n: number;
  /** Requests in flight in the engine bench. */
  concurrency: number;
  /** Seconds per autocannon run in the webhook bench. */
  duration: number;
  /** autocannon connections. */
  connections: number;
  /** Write a CPU profile of the runtime process and print its hottest functions. */
  cpuProf: boolean;
  /** Seconds each phase of the engine bench may take before it reports what it got. */
  phaseLimit: number;
}

export function parseArgs(argv: string[]): BenchOptions {
  const options: BenchOptions = {
    n: 1000,
    concurrency: 50,
    duration: 5,
    connections: 20,
    cpuProf: false,
    phaseLimit: 120,
  };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i] ?? '';
    if (!arg.startsWith('--')) throw new Error(`unexpected argument "${arg}"`);
    const [name, inline] = arg.slice(2).split('=', 2) as [string, string | undefined];
    if (name === 'cpu-prof') {
      options.cpuProf = true;
      continue;
    }
    const value = inline ?? argv[++i];
    if (value === undefined) throw new Error(`--${name} needs a value`);
    switch (name) {
      case 'only':
        if (value !== 'engine' && value !== 'webhook' && value !== 'bundles')
          throw new Error('--only takes engine, webhook or bundles');
        options.only = value;
        break;
      case 'n':
        options.n = positiveInt(name, value, 100_000);
        break;
      case 'concurrency':
        options.concurrency = positiveInt(name, value, 1000);
        break;
      case 'duration':
        options.duration = positiveInt(name, value, 600);
        break;
      case 'connections':
        options.connections = positiveInt(name, value, 1000);
        break;
      case 'phase-limit':
        options.phaseLimit = positiveInt(name, value, 3600);
        break;
      default:
        throw new Error(`unknown option --${name}`);
    }
  }
  return options;
}

function positiveInt(name: string, value: string, max: number): number {
  const parsed = Number(value);
  if (!Number.isInteger(parsed) || parsed < 1 || parsed > max)
    throw new Error(`--${name} must be an integer from 1 to ${max}, got "${value}"`);
  return parsed;
}

/**
 * Run `work` over `items` with at most `limit` in flight. Stops starting new items after
 * `deadline` (epoch ms); returns how many were started.
 */
export async function pool<T>(
  items: readonly T[],
  limit: number,
  deadline: number,
  work: (item: T, index: number) => Promise<void>,
): Promise<number> {
  let next = 0;
  const worker = async () => {
    while (next < items.length && Date.now() < deadline) {
      const index = next++;
      await work(items[index] as T, index);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return next;
}

/** Poll `check` until it returns a value, with a bound on time; undefined when the bound was hit. */
export async function waitFor<T>(
  check: () => Promise<T | undefined>,
  options: { deadline: number; intervalMs: number },
): Promise<T | undefined> {
  while (Date.now() < options.deadline) {
    const value = await check();
    if (value !== undefined) return value;
    await sleep(options.intervalMs);
  }
  return undefined;
}

/** The p-th percentile (0–100) of unsorted values, nearest rank. */
export function percentile(values: readonly number[], p: number): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const rank = Math.min(sorted.length, Math.max(1, Math.ceil((p / 100) * sorted.length)));
  return sorted[rank - 1] as number;
}

/** Peak resident set size of this process, sampled every 100 ms, with the memory breakdown at the peak. */
export function sampleRss(): { peak(): number; atPeak(): NodeJS.MemoryUsage; stop(): void } {
  let atPeak = process.memoryUsage();
  // process.memoryUsage() walks the heap spaces (a visible cost in the runtime's profile at
  // 10 samples a second); its cheap rss() first, the full figures only at a new peak.
  const sample = () => {
    if (process.memoryUsage.rss() > atPeak.rss) atPeak = process.memoryUsage();
  };
  const timer = setInterval(sample, 100);
  timer.unref();
  return {
    peak: () => {
      sample();
      return atPeak.rss;
    },
    atPeak: () => atPeak,
    stop: () => clearInterval(timer),
  };
}

export interface Row {
  figure: string;
  value: string;
  target?: string;
  /** undefined: no target for this row. */
  met?: boolean;
  note?: string;
}

/** Print rows as an aligned table; targets are reported, never enforced. */
export function printTable(title: string, rows: Row[]): void {
  const cells = rows.map((row) => [
    row.figure,
    row.value,
    row.target ?? '',
    row.met === undefined ? '' : row.met ? 'target met' : 'target missed',
    row.note ?? '',
  ]);
  const header = ['figure', 'value', 'target', 'verdict', 'note'];
  const widths = header.map((h, i) => Math.max(h.length, ...cells.map((c) => (c[i] ?? '').length)));
  const line = (c: string[]) =>
    c
      .map((v, i) => v.padEnd(widths[i] ?? 0))
      .join('  ')
      .trimEnd();
  process.stdout.write(`\n${title}\n`);
  process.stdout.write(`${line(header)}\n${widths.map((w) => '-'.repeat(w)).join('  ')}\n`);
  for (const c of cells) process.stdout.write(`${line(c)}\n`);
}

export const ms = (value: number): string => `${Math.round(value)} ms`;
export const seconds = (valueMs: number): string => `${(valueMs / 1000).toFixed(2)} s`;
export const mb = (bytes: number): string => `${Math.round(bytes / 1024 / 1024)} MB`;
export const perSecond = (count: number, elapsedMs: number): string =>
  `${Math.round(count / (elapsedMs / 1000))}/s`;
