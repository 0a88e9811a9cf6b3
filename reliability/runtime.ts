import { type ChildProcess, spawn } from 'node:child_process';
import { createWriteStream, mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startScript } from '../bench/bench-runtime.ts';

/** The arguments `npm start` gives node (package.json), so the harness runs exactly that. */
const START_ARGS = startScript().args;

/** A free TCP port on loopback (taken and released at once). */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => resolve(port));
    });
    server.once('error', reject);
  });
}

/** Wait until `check` returns a value; a bound on waiting, never a timing assertion. */
export async function waitFor<T>(
  check: () => Promise<T | undefined | false>,
  what: string,
  limitMs = 30_000,
): Promise<T> {
  const deadline = Date.now() + limitMs;
  for (;;) {
    const value = await check().catch(() => undefined);
    if (value !== undefined && value !== false) return value;
    if (Date.now() > deadline) throw new Error(`gave up waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

export interface RuntimeProcess {
  app: string;
  sfn: string;
  dynamo: string;
  dataDir: string;
  /**
   * Everything the runtime wrote to stdout and stderr, across restarts (its log lines at
   * `npm start`'s default level, INFO): what the token-leak check searches.
   */
  outputFile: string;
  child: ChildProcess;
  /** SIGKILL, and wait for the exit. */
  kill(): Promise<void>;
  /** Start again on the same data dir and ports (after kill). */
  restart(): Promise<void>;
  /**
   * Resident memory of the runtime process, in bytes (Linux /proc): all of it, and the part
   * not backed by files (the heap; the rest is mostly the embedded database's tables, which
   * LevelDB maps from disk and the kernel can drop).
   */
  rss(): Promise<{ total: number; anon: number }>;
  stop(): Promise<void>;
}

/**
 * The real server as `npm start` runs it (`local/start.ts`), as a child process on loopback
 * ports, with its own data dir; `env` points it at the fakes.
 */
export async function startRuntimeProcess(
  env: Record<string, string>,
  dataDir?: string,
  /** Node flags for this runtime only (e.g. a preload), before RELIABILITY_RUNTIME_ARGS. */
  nodeArgs: string[] = [],
): Promise<RuntimeProcess> {
  const dir = dataDir ?? mkdtempSync(join(tmpdir(), 'signoff-reliability-'));
  const ports = { app: await freePort(), sfn: await freePort(), dynamo: await freePort() };
  const fullEnv = {
    ...process.env,
    SIGNOFF_DATA_DIR: dir,
    SIGNOFF_PORT: String(ports.app),
    SIGNOFF_SFN_PORT: String(ports.sfn),
    SIGNOFF_DYNAMODB_PORT: String(ports.dynamo),
    // npm start's default: every log line a user would see is there to be searched for tokens.
    SIGNOFF_LOG_LEVEL: 'INFO',
    // Demo stand-ins (for whatever the env does not point elsewhere) on free ports, so
    // several runtimes (parallel test files) never collide.
    SIGNOFF_GITLAB_DEMO_PORT: '0',
    SIGNOFF_LAMBDA_DEMO_PORT: '0',
    SIGNOFF_SUPPORT_DEMO_PORT: '0',
    AWS_ACCESS_KEY_ID: 'local',
    AWS_SECRET_ACCESS_KEY: 'local',
    AWS_REGION: 'us-east-1',
    ...env,
  };
  const app = `http://127.0.0.1:${ports.app}`;
  let child: ChildProcess;
  let stderr = '';
  const outputFile = join(dir, 'runtime-output.log');
  const output = createWriteStream(outputFile, { flags: 'a', mode: 0o600 });

  async function launch(): Promise<void> {
    stderr = '';
    // RELIABILITY_RUNTIME_ARGS adds Node flags to the runtime only (e.g. --cpu-prof).
    const extra = [...nodeArgs, ...(process.env.RELIABILITY_RUNTIME_ARGS ?? '').split(' ').filter(Boolean)];
    child = spawn(process.execPath, [...extra, ...START_ARGS], {
      cwd: join(import.meta.dirname, '..'),
      env: fullEnv,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    child.stdout?.on('data', (chunk: Buffer) => output.write(chunk));
    child.stderr?.on('data', (chunk: Buffer) => {
      output.write(chunk);
      stderr = (stderr + chunk.toString()).slice(-4000);
    });
    try {
      await waitFor(async () => (await fetch(`${app}/healthz`)).ok, 'the runtime to start', 60_000);
    } catch (error) {
      throw new Error(`${(error as Error).message}\n${stderr}`);
    }
  }

  async function kill(): Promise<void> {
    if (child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise((resolve) => child.once('exit', resolve));
    child.kill('SIGKILL');
    await exited;
  }

  await launch();
  return {
    app,
    sfn: `http://127.0.0.1:${ports.sfn}`,
    dynamo: `http://127.0.0.1:${ports.dynamo}`,
    dataDir: dir,
    outputFile,
    get child() {
      return child;
    },
    kill,
    restart: launch,
    async rss() {
      const { readFile } = await import('node:fs/promises');
      const status = await readFile(`/proc/${child.pid}/status`, 'utf8').catch(() => '');
      const kb = (field: string) => Number(new RegExp(`${field}:\\s+(\\d+)`).exec(status)?.[1] ?? 0) * 1024;
      return { total: kb('VmRSS'), anon: kb('RssAnon') };
    },
    async stop() {
      if (child.exitCode === null && child.signalCode === null) {
        const exited = new Promise((resolve) => child.once('exit', resolve));
        child.kill('SIGTERM');
        await Promise.race([exited, new Promise((resolve) => setTimeout(resolve, 5000))]);
        await kill();
      }
      await new Promise<void>((resolve) => output.end(() => resolve()));
      if (!dataDir) rmSync(dir, { recursive: true, force: true });
    },
  };
}
