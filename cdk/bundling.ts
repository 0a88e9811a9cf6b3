import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { AssetHashType, DockerImage, type ILocalBundling } from 'aws-cdk-lib';
import { Code } from 'aws-cdk-lib/aws-lambda';
import { type BuildOptions, buildSync } from 'esbuild';
import type { Config } from '../core/config.ts';

/** The repository root, where package-lock.json lives. */
export const PROJECT_ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');

/** Where the generated one-task entries live: a tool cache, stable so source maps and asset hashes are. */
export const ENTRY_DIR = join(PROJECT_ROOT, 'node_modules', '.cache', 'signoff-cdk', 'entries');

/** The name esbuild replaces with the validated configuration (read by tasks/lambda.ts, webhooks/lambda.ts). */
export const CONFIG_DEFINE = 'SIGNOFF_BUNDLED_CONFIG';

/**
 * NODE_OPTIONS of every function (cdk/constructs/task-function.ts; bench/bundles.ts imports with
 * them). None: `--enable-source-maps` made Node parse each bundle's map at load, and no map is
 * shipped (see esbuildOptions).
 */
export const FUNCTION_NODE_OPTIONS: string = '';

/**
 * Left to the Lambda runtime: the Node.js runtimes ship AWS SDK for JavaScript v3 (every client
 * and lib-dynamodb), already on disk and loaded from there. Bundling our own copy made each
 * function import ~2 MB more (bench/bundles.ts measures it).
 */
export const RUNTIME_PROVIDED = ['@aws-sdk/*'];

/** The bundle's file name in the function's code; the handler is `index.handler`. */
export const BUNDLE_FILE = 'index.mjs';

/** Defines `require`, `__filename` and `__dirname` at the top of an ESM bundle, for the CommonJS code in it. */
export const ESM_CJS_BANNER = [
  "import{createRequire as __signoffCreateRequire}from'node:module';",
  "import{fileURLToPath as __signoffFileURLToPath}from'node:url';",
  "import{dirname as __signoffDirname}from'node:path';",
  'const require=__signoffCreateRequire(import.meta.url);',
  'const __filename=__signoffFileURLToPath(import.meta.url);',
  'const __dirname=__signoffDirname(__filename);',
].join('');

/**
 * esbuild options shared by every Signoff function: ESM for Node 24, minified, no source map
 * (nothing reads one on Lambda unless NODE_OPTIONS asks, and reading it costs cold-start time),
 * the AWS SDK v3 left to the runtime's own copy (RUNTIME_PROVIDED), and the validated
 * configuration inlined. The configuration holds no secrets; it goes in as a string literal,
 * so it never meets a shell. Some dependencies are CommonJS: they call require() and read
 * __dirname (the Lark SDK reads its own package.json at load time), so the banner defines all
 * three.
 */
export function esbuildOptions(config: Config): BuildOptions {
  return {
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node24',
    minify: true,
    // Minifying renames classes, and our errors take their name from their class
    // (`this.name = new.target.name`): without this, a GitLabUnavailableError reached Step
    // Functions as "Mn" and no Retry or Catch on its name matched (test/cdk/deployed.test.ts).
    keepNames: true,
    sourcemap: false,
    // What the code loads with import() (the Lark SDK: chat/lark/client.ts) goes in its own
    // chunk beside index.mjs, read from disk only when first used, not at every cold start.
    splitting: true,
    chunkNames: 'chunks/[name]-[hash]',
    outExtension: { '.js': '.mjs' },
    mainFields: ['module', 'main'],
    external: RUNTIME_PROVIDED,
    banner: { js: ESM_CJS_BANNER },
    define: { [CONFIG_DEFINE]: JSON.stringify(JSON.stringify(config)) },
    logLevel: 'warning',
  };
}

/** Bundle one function's entry into `outdir/index.mjs` (and `outdir/chunks/` for what it imports lazily), in this process. */
export function bundleFunction(entry: string, outdir: string, options: BuildOptions): string {
  buildSync({
    ...options,
    entryPoints: { [BUNDLE_FILE.replace(/\.mjs$/, '')]: entry },
    outdir,
    absWorkingDir: PROJECT_ROOT,
  });
  return join(outdir, BUNDLE_FILE);
}

/**
 * CDK local bundling with esbuild's API, in this process: no Docker, and no `npx esbuild`
 * per function (about a second each). `entry` and `options` are fields so that CDK's asset
 * cache tells functions apart; it never falls back to Docker.
 */
class EsbuildBundling implements ILocalBundling {
  constructor(
    readonly entry: string,
    readonly options: BuildOptions,
  ) {}

  tryBundle(outputDir: string): boolean {
    bundleFunction(this.entry, outputDir, this.options);
    return true;
  }
}

/** A function's code: its entry bundled by esbuild at synth, hashed by the bundle's content. */
export function bundledCode(entry: string, options: BuildOptions): Code {
  return Code.fromAsset(PROJECT_ROOT, {
    assetHashType: AssetHashType.OUTPUT,
    bundling: {
      // Never pulled: local bundling succeeds or throws. CDK requires an image name.
      image: DockerImage.fromRegistry('signoff-bundles-locally-with-esbuild'),
      local: new EsbuildBundling(entry, options),
    },
  });
}

/** The clients a function's entry builds: each import brings its SDK into that bundle only. */
export interface EntryClients {
  gitlab?: boolean;
  chat?: boolean;
  lambda?: boolean;
  support?: boolean;
}

function writeEntry(name: string, lines: string[]): string {
  const file = join(ENTRY_DIR, `${name}.ts`);
  const text = [`// Generated by cdk/bundling.ts: the Lambda entry of ${name}.`, ...lines, ''].join('\n');
  mkdirSync(ENTRY_DIR, { recursive: true });
  let existing: string | undefined;
  try {
    existing = readFileSync(file, 'utf8');
  } catch {
    existing = undefined;
  }
  if (existing !== text) writeFileSync(file, text);
  return file;
}

function from(folder: string): string {
  return relative(ENTRY_DIR, join(PROJECT_ROOT, folder)).split('\\').join('/');
}

/**
 * Write (when changed) the entry of one task's function: it imports only `tasks/<task>.ts`
 * and the clients that task uses, and wraps the task with `lambdaTask`, so a bundle holds one
 * task and what that task uses (no Lark SDK where no card is sent, no Lambda client outside
 * deploys). The entry is the function's composition root, as local/start.ts is locally.
 */
export function taskEntry(task: string, clients: EntryClients = {}): string {
  const imports = [
    `import { awsTaskRuntime, lambdaTask, taskFrom } from '${from('tasks')}/lambda.ts';`,
    `import * as module from '${from('tasks')}/${task}.ts';`,
  ];
  const factories: string[] = [];
  if (clients.gitlab) {
    imports.push(`import { createGitLabClient } from '${from('integrations')}/gitlab.ts';`);
    factories.push('gitlab: createGitLabClient');
  }
  if (clients.chat) {
    imports.push(`import { chatAdapters } from '${from('chat')}/index.ts';`);
    factories.push('chats: chatAdapters');
  }
  if (clients.lambda) {
    imports.push(`import { createLambdaClient } from '${from('integrations')}/lambda.ts';`);
    factories.push('lambda: createLambdaClient');
  }
  if (clients.support) {
    imports.push(`import { createSupportClient } from '${from('integrations')}/support.ts';`);
    factories.push('support: createSupportClient');
  }
  return writeEntry(task, [
    ...imports,
    '',
    `export const handler = lambdaTask(taskFrom(module, ${JSON.stringify(task)}), awsTaskRuntime({ ${factories.join(', ')} }));`,
  ]);
}

/**
 * Write (when changed) the webhook function's entry: the Hono app (webhooks/lambda.ts) with
 * the AWS Support client for the support chat commands (webhooks/ never imports integrations/)
 * and the console (console/, which webhooks/ never imports) mounted beside the webhooks.
 * The Support client is imported on the first support command, not at cold start: every
 * method call of the SupportApi waits for it (a chunk of its own, see esbuildOptions).
 */
export function webhookEntry(): string {
  return writeEntry('webhooks', [
    `import { lambdaWebhook } from '${from('webhooks')}/lambda.ts';`,
    `import { consoleSurface } from '${from('console')}/index.ts';`,
    '',
    'const support = (config) => {',
    `  let api;`,
    `  const load = () => (api ??= import('${from('integrations')}/support.ts').then((m) => m.createSupportClient(config)));`,
    '  return new Proxy({}, { get: (_, method) => async (...args) => (await load())[method](...args) });',
    '};',
    '',
    'export const handler = lambdaWebhook({ support, surfaces: [consoleSurface] });',
  ]);
}
