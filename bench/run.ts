/**
 * `npm run bench [-- --only engine|webhook] [--n 1000] [--concurrency 50] [--duration 5]
 *  [--connections 20] [--phase-limit 120] [--cpu-prof]`
 *
 * Prints figures next to their targets and a baseline measured in the same run. Never fails on a
 * missed target: the verdict column says "target met" or "target missed".
 */
import { cpus } from 'node:os';
import { startBenchRuntime } from './bench-runtime.ts';
import { bundleReport, measureBundles } from './bundles.ts';
import { summarizeCpuProfile } from './cpu-profile.ts';
import {
  callRows,
  callTargetRows,
  cpuRows,
  engineRows,
  runEngineBench,
  slowestRows,
} from './engine-bench.ts';
import { type BenchOptions, mb, parseArgs, printTable } from './support.ts';
import { requestCount, runWebhookBench, webhookRows } from './webhook-bench.ts';

async function engine(options: BenchOptions): Promise<void> {
  const runtime = await startBenchRuntime({ cpuProf: options.cpuProf });
  let profile: string | undefined;
  try {
    const figures = await runEngineBench(runtime, options);
    printTable(`engine bench: ${options.n} merge requests, ${options.concurrency} requests in flight`, [
      ...engineRows(figures),
      ...callTargetRows(figures),
    ]);
    printTable('slowest approval round trips: where in the execution the time went', slowestRows(figures));
    printTable('runtime CPU (main thread busy; process = main + DynamoDB worker)', cpuRows(figures));
    printTable('runtime calls per merge request, webhook → paused', callRows(figures.startCalls, options.n));
    printTable(
      'runtime calls per merge request, decision → SUCCEEDED',
      callRows(figures.approveCalls, options.n),
    );
  } finally {
    profile = await runtime.stop();
  }
  if (profile) printProfile('engine bench', profile);
}

async function webhook(options: BenchOptions): Promise<void> {
  const runtime = await startBenchRuntime({ cpuProf: options.cpuProf });
  let profile: string | undefined;
  try {
    const figures = await runWebhookBench(runtime, options);
    printTable(
      `webhook bench: autocannon, ${options.connections} connections, ${options.duration} s each`,
      webhookRows(figures),
    );
    const requests = requestCount(figures.webhook);
    printTable(
      `runtime calls per duplicate webhook (runtime peak RSS ${mb(figures.rssPeak)})`,
      callRows(figures.webhookCalls, Math.max(1, requests), 'request'),
    );
  } finally {
    profile = await runtime.stop();
  }
  if (profile) printProfile('webhook bench', profile);
}

function printProfile(name: string, path: string): void {
  const { functions, packages } = summarizeCpuProfile(path);
  printTable(`${name}: runtime process CPU by package (self time; profile ${path})`, packages);
  printTable(`${name}: hottest functions (self time)`, functions);
}

/** Fresh processes per bundle: the median of 5 cold imports. */
const BUNDLE_RUNS = 5;

async function main(): Promise<void> {
  const options = parseArgs(process.argv.slice(2));
  process.stdout.write(
    `Signoff benchmarks — ${new Date().toISOString()}, node ${process.version}, ${cpus().length} cores\n`,
  );
  if (options.only === undefined || options.only === 'engine') await engine(options);
  if (options.only === undefined || options.only === 'webhook') await webhook(options);
  // Bundle sizes and cold imports of the Lambda functions, with both baselines and the verdict.
  if (options.only === undefined || options.only === 'bundles') {
    process.stdout.write(bundleReport(measureBundles(BUNDLE_RUNS), BUNDLE_RUNS));
  }
}

main().then(
  () => process.exit(0),
  (error: unknown) => {
    process.stderr.write(
      `bench failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`,
    );
    process.exit(1);
  },
);
