/**
 * Bundle sizes and cold import times of the Lambda functions, next to an empty bundle built and
 * imported the same way in the same run (the baseline: Node's own start and ESM loading).
 *
 *   npx tsx bench/bundles.ts [--runs 7]
 *
 * Each function is bundled exactly as the CDK app bundles it (cdk/bundling.ts `bundleFunction`:
 * esbuild, ESM, node24, minified, external source map, AWS SDK included, configuration
 * inlined; every task's generated entry with only the clients its task uses), then
 * imported in a fresh `node --enable-source-maps` process (as on Lambda) that reports how long
 * `await import()` took. The figure is the median of the runs. The webhook function answers
 * chat callbacks, so it must stay far below Lark's and Slack's 3-second limit even cold.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { bundleFunction, CONFIG_DEFINE, esbuildOptions, taskEntry, webhookEntry } from '../cdk/bundling.ts';
import { allWorkflows, tasksOf } from '../cdk/stack.ts';
import { entryClientsOf, TASK_ACCESS } from '../cdk/task-access.ts';
import { loadConfig } from '../core/config.ts';

function runsFromArgs(argv: string[]): number {
  const index = argv.indexOf('--runs');
  if (index === -1) return 7;
  const value = Number(argv[index + 1]);
  if (!Number.isInteger(value) || value < 1 || value > 100)
    throw new Error('--runs takes a whole number from 1 to 100');
  return value;
}

/** Milliseconds `await import(file)` takes in a fresh Node process. */
function importMs(file: string): number {
  const script = `const t=performance.now();await import(${JSON.stringify(pathToFileURL(file).href)});process.stdout.write(String(performance.now()-t));`;
  const out = execFileSync(process.execPath, ['--enable-source-maps', '--input-type=module', '-e', script], {
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

async function main(): Promise<void> {
  const runs = runsFromArgs(process.argv.slice(2));
  const options = esbuildOptions(loadConfig());
  if (!(CONFIG_DEFINE in (options.define ?? {})))
    throw new Error('bundling options lost the configuration define');
  const dir = mkdtempSync(join(tmpdir(), 'signoff-bundles-'));
  try {
    const emptyEntry = join(dir, 'empty.ts');
    writeFileSync(emptyEntry, 'export const handler = async () => ({});\n');
    // The functions the stack deploys: the webhook app and one per task of every workflow,
    // each entry generated with the clients its task uses, as the stack generates it.
    const entries: Array<[string, string]> = [
      ['(empty bundle)', emptyEntry],
      ['webhooks', webhookEntry()],
      ...tasksOf(allWorkflows()).map((task): [string, string] => {
        const access = TASK_ACCESS[task];
        return [task, taskEntry(task, access ? entryClientsOf(access) : {})];
      }),
    ];

    const rows: Array<{ name: string; bytes: number; mapBytes: number; ms: number; min: number }> = [];
    for (const [name, entry] of entries) {
      // The same call the stack's local bundling makes (cdk/bundling.ts), one directory per function.
      const outfile = bundleFunction(entry, join(dir, name.replace(/[^a-z-]/g, '') || 'empty'), options);
      importMs(outfile); // warm the file cache, as Lambda's code is on local disk
      const times = Array.from({ length: runs }, () => importMs(outfile));
      rows.push({
        name,
        bytes: statSync(outfile).size,
        mapBytes: statSync(`${outfile}.map`).size,
        ms: median(times),
        min: Math.min(...times),
      });
    }

    const baseline = rows[0]?.ms ?? 0;
    const kb = (bytes: number) => `${(bytes / 1024).toFixed(0)} KB`.padStart(8);
    const ms = (value: number) => `${value.toFixed(1)} ms`.padStart(9);
    process.stdout.write(
      `\nLambda bundles (esbuild as in cdk/bundling.ts), cold import in a fresh node ${process.version} --enable-source-maps, median of ${runs}\n\n`,
    );
    process.stdout.write(
      `${'function'.padEnd(18)}${'bundle'.padStart(8)}${'map'.padStart(9)}${'import'.padStart(10)}${'min'.padStart(10)}${'vs empty'.padStart(11)}\n`,
    );
    for (const row of rows) {
      const delta = row === rows[0] ? '' : `+${(row.ms - baseline).toFixed(1)} ms`;
      process.stdout.write(
        `${row.name.padEnd(18)}${kb(row.bytes)} ${kb(row.mapBytes)}${ms(row.ms)} ${ms(row.min)}${delta.padStart(11)}\n`,
      );
    }
    const webhook = rows.find((r) => r.name === 'webhooks');
    if (webhook) {
      process.stdout.write(
        `\nwebhooks: ${webhook.ms.toFixed(0)} ms to import cold, target < 3000 ms for a chat callback answered cold ` +
          `(plus the Lambda runtime's own init and the first Secrets Manager read).\n`,
      );
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

main().catch((error: unknown) => {
  process.stderr.write(
    `bench/bundles failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`,
  );
  process.exit(1);
});
