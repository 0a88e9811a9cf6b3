/**
 * Bundle sizes and cold import times of the Lambda functions, next to two baselines built and
 * imported the same way in the same run: an empty module (Node's own start and ESM loading), and
 * a floor bundle of hono + @aws-sdk/client-sfn + @aws-sdk/lib-dynamodb (the least a webhook that
 * resumes executions and writes to DynamoDB can load).
 *
 *   npx tsx bench/bundles.ts [--runs 5]      (also the last part of `npm run bench`)
 *
 * Each function is bundled exactly as the CDK app bundles it (cdk/bundling.ts `bundleFunction`
 * with `esbuildOptions`: ESM, node24, minified, the AWS SDK left to the runtime, configuration
 * inlined; every task's generated entry with only the clients its task uses), then imported in a
 * fresh `node` process with the NODE_OPTIONS the stack gives the function, which reports how long
 * `await import()` took. The figure is the median of the runs. Bundles are written under
 * node_modules/.cache so the AWS SDK resolves from node_modules, as it resolves from the runtime's
 * own copy on Lambda. The webhook function answers chat callbacks, which must answer within 3 s
 * even cold: the target is an import at most 1.5× the floor's. The verdict is printed; it never
 * fails the bench.
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import {
  BUNDLE_FILE,
  bundleFunction,
  CONFIG_DEFINE,
  esbuildOptions,
  FUNCTION_NODE_OPTIONS,
  PROJECT_ROOT,
  taskEntry,
  webhookEntry,
} from '../cdk/bundling.ts';
import { allWorkflows, tasksOf } from '../cdk/stack.ts';
import { entryClientsOf, TASK_ACCESS } from '../cdk/task-access.ts';
import { loadConfig } from '../core/config.ts';

/** The webhook function's cold import may take at most this many times the floor bundle's. */
export const WEBHOOK_TARGET_RATIO = 1.5;

export interface BundleRow {
  name: string;
  bytes: number;
  /** Median of the runs, ms. */
  ms: number;
  min: number;
}

/** Milliseconds `await import(file)` takes in a fresh Node process. */
function importMs(file: string): number {
  const script = `const t=performance.now();await import(${JSON.stringify(pathToFileURL(file).href)});process.stdout.write(String(performance.now()-t));`;
  const options = FUNCTION_NODE_OPTIONS ? FUNCTION_NODE_OPTIONS.split(' ') : [];
  const out = execFileSync(process.execPath, [...options, '--input-type=module', '-e', script], {
    encoding: 'utf8',
    // Only what a Lambda function would have; the import must not depend on this machine's setup.
    env: { PATH: process.env.PATH ?? '', AWS_REGION: 'us-east-1', POWERTOOLS_SERVICE_NAME: 'signoff' },
  });
  return Number(out);
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)] ?? Number.NaN;
}

/** Bundle every function and both baselines, and time their cold imports. */
export function measureBundles(runs = 5): BundleRow[] {
  const options = esbuildOptions(loadConfig());
  if (!(CONFIG_DEFINE in (options.define ?? {})))
    throw new Error('bundling options lost the configuration define');
  const dir = join(PROJECT_ROOT, 'node_modules', '.cache', 'signoff-bench', 'bundles');
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  try {
    const emptyEntry = join(dir, 'empty.ts');
    writeFileSync(emptyEntry, 'export const handler = async () => ({});\n');
    const floorEntry = join(dir, 'floor.ts');
    writeFileSync(
      floorEntry,
      [
        "import { Hono } from 'hono';",
        "import { SFNClient } from '@aws-sdk/client-sfn';",
        "import { DynamoDBClient } from '@aws-sdk/client-dynamodb';",
        "import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';",
        'const app = new Hono().get("/", (c) => c.text("ok"));',
        'export const handler = async () => [app, SFNClient, DynamoDBDocumentClient.from(new DynamoDBClient({}))].length;',
        '',
      ].join('\n'),
    );
    // The functions the stack deploys: the webhook app and one per task of every workflow,
    // each entry generated with the clients its task uses, as the stack generates it.
    const entries: Array<[string, string]> = [
      ['(empty module)', emptyEntry],
      ['(floor bundle)', floorEntry],
      ['webhooks', webhookEntry()],
      ...tasksOf(allWorkflows()).map((task): [string, string] => {
        const access = TASK_ACCESS[task];
        return [task, taskEntry(task, access ? entryClientsOf(access) : {})];
      }),
    ];
    return entries.map(([name, entry]) => {
      const outfile = bundleFunction(entry, join(dir, name.replace(/[^a-z-]/g, '')), options);
      importMs(outfile); // warm the file cache, as Lambda's code is on local disk
      const times = Array.from({ length: runs }, () => importMs(outfile));
      return { name, bytes: statSync(outfile).size, ms: median(times), min: Math.min(...times) };
    });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** The table, both baselines and the verdict on the webhook function, as printed. */
export function bundleReport(rows: BundleRow[], runs: number): string {
  const empty = rows.find((r) => r.name === '(empty module)');
  const floor = rows.find((r) => r.name === '(floor bundle)');
  const webhook = rows.find((r) => r.name === 'webhooks');
  if (!empty || !floor || !webhook)
    throw new Error('bench/bundles: a baseline or the webhook row is missing');
  const kb = (bytes: number) => `${(bytes / 1024).toFixed(0)} KB`.padStart(9);
  const ms = (value: number) => `${value.toFixed(1)} ms`.padStart(10);
  const lines = [
    '',
    `Lambda bundles (${BUNDLE_FILE} as cdk/bundling.ts builds it), cold import in a fresh node ${process.version}` +
      `${FUNCTION_NODE_OPTIONS ? ` ${FUNCTION_NODE_OPTIONS}` : ''}, median of ${runs}`,
    '',
    `${'function'.padEnd(20)}${'bundle'.padStart(9)}${'import'.padStart(10)}${'min'.padStart(10)}${'× floor'.padStart(9)}`,
  ];
  for (const row of rows) {
    lines.push(
      `${row.name.padEnd(20)}${kb(row.bytes)}${ms(row.ms)}${ms(row.min)}${`${(row.ms / floor.ms).toFixed(2)}×`.padStart(9)}`,
    );
  }
  const ratio = webhook.ms / floor.ms;
  const verdict = ratio <= WEBHOOK_TARGET_RATIO ? 'met' : 'missed';
  lines.push(
    '',
    `webhooks: ${webhook.ms.toFixed(1)} ms cold import = ${ratio.toFixed(2)}× the floor bundle (${floor.ms.toFixed(1)} ms; ` +
      `empty module ${empty.ms.toFixed(1)} ms). Target ≤ ${WEBHOOK_TARGET_RATIO}× the floor: ${verdict}.`,
    '',
  );
  return lines.join('\n');
}

function runsFromArgs(argv: string[]): number {
  const index = argv.indexOf('--runs');
  if (index === -1) return 5;
  const value = Number(argv[index + 1]);
  if (!Number.isInteger(value) || value < 1 || value > 100)
    throw new Error('--runs takes a whole number from 1 to 100');
  return value;
}

if (process.argv[1] && resolve(process.argv[1]) === resolve(new URL(import.meta.url).pathname)) {
  try {
    const runs = runsFromArgs(process.argv.slice(2));
    process.stdout.write(bundleReport(measureBundles(runs), runs));
  } catch (error) {
    process.stderr.write(
      `bench/bundles failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`,
    );
    process.exit(1);
  }
}
