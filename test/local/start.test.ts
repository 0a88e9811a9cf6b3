import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { connect, createServer } from 'node:net';
import { networkInterfaces, tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { DEFAULT_CONFIG_INPUT, parseConfig } from '../../core/config.ts';
import {
  parseLogLevel,
  type StartOptions,
  startBanner,
  startSignoff,
  workflowsLine,
} from '../../local/start.ts';

const dir = mkdtempSync(join(tmpdir(), 'signoff-start-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('startSignoff close()', () => {
  it('stops even when a request never finishes: it is cut off after the grace period', async () => {
    const warnings: string[] = [];
    const signoff = await startSignoff({
      dataDir: dir,
      host: '127.0.0.1',
      ports: { app: 0, sfn: 0, dynamo: 0, gitlabDemo: 0, lambdaDemo: 0 },
      env: { GITLAB_WEBHOOK_TOKEN: 'test-webhook-token' },
      config: parseConfig(DEFAULT_CONFIG_INPUT),
      redeliverEveryMs: 0,
      stopGraceMs: 200,
      log: (level, message) => {
        if (level === 'warn') warnings.push(message);
      },
    });
    // A client that announced a body and stopped sending it: the route waits for the rest.
    const { hostname, port } = new URL(signoff.urls.app);
    const socket = connect(Number(port), hostname);
    const closed = new Promise((resolve) => socket.once('close', resolve));
    socket.on('error', () => {});
    await new Promise((resolve) => socket.once('connect', resolve));
    socket.write(
      'POST /webhooks/gitlab HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{"object_kind":',
    );
    await new Promise((resolve) => setTimeout(resolve, 100));

    await signoff.close();
    await closed;
    expect(warnings).toContain('closing requests still open after the grace period');
  });
});

/**
 * An address of this machine that a server bound to 0.0.0.0 answers on and one bound to
 * 127.0.0.1 does not: on Linux all of 127/8 is loopback, elsewhere an interface's address.
 */
function otherLocalAddress(): string {
  if (process.platform === 'linux') return '127.0.0.2';
  const address = Object.values(networkInterfaces())
    .flat()
    .find((info) => info?.family === 'IPv4' && !info.internal)?.address;
  if (!address) throw new Error('no address besides 127.0.0.1 to connect to');
  return address;
}

function tryConnect(host: string, port: number): Promise<string> {
  return new Promise((resolve) => {
    const socket = connect(port, host);
    socket.once('connect', () => {
      socket.destroy();
      resolve('connected');
    });
    socket.once('error', (error: NodeJS.ErrnoException) => resolve(error.code ?? error.message));
  });
}

describe('startSignoff listening', () => {
  it('binds the back-end servers to 127.0.0.1 whatever SIGNOFF_HOST says; only the app follows it', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'signoff-bind-'));
    const signoff = await startSignoff({
      dataDir,
      host: '0.0.0.0',
      ports: { app: 0, sfn: 0, dynamo: 0, gitlabDemo: 0, lambdaDemo: 0, supportDemo: 0 },
      env: { GITLAB_WEBHOOK_TOKEN: 'test-webhook-token' },
      config: parseConfig(DEFAULT_CONFIG_INPUT),
      redeliverEveryMs: 0,
    });
    try {
      const backEnds = {
        sfn: signoff.urls.sfn,
        dynamo: signoff.urls.dynamo,
        gitlab: signoff.urls.gitlab,
        lambda: signoff.lambdaDemo?.url ?? '',
        support: signoff.supportDemo?.url ?? '',
      };
      const other = otherLocalAddress();
      const reached: Record<string, string> = {};
      for (const [name, url] of Object.entries(backEnds)) {
        const { hostname, port } = new URL(url);
        expect(hostname, name).toBe('127.0.0.1');
        reached[name] = await tryConnect(other, Number(port));
        // Still reachable where they listen.
        expect(await tryConnect('127.0.0.1', Number(port)), name).toBe('connected');
      }
      expect(reached).toEqual({
        sfn: 'ECONNREFUSED',
        dynamo: 'ECONNREFUSED',
        gitlab: 'ECONNREFUSED',
        lambda: 'ECONNREFUSED',
        support: 'ECONNREFUSED',
      });
      expect(await tryConnect(other, Number(new URL(signoff.urls.app).port))).toBe('connected');
    } finally {
      await signoff.close();
      rmSync(dataDir, { recursive: true, force: true });
    }
  });
});

const ROOT = join(import.meta.dirname, '..', '..');

/** A loopback port something else holds, until `release`. */
async function takenPort(): Promise<{ port: number; release(): Promise<void> }> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: (server.address() as { port: number }).port,
    release: () => new Promise((resolve) => server.close(() => resolve())),
  };
}

/** A child process to its end: exit code and output. */
function run(
  args: string[],
  env: Record<string, string>,
): Promise<{ code: number | null; out: string; err: string }> {
  const child = spawn(process.execPath, args, { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  child.stdout.on('data', (chunk) => {
    out += chunk;
  });
  child.stderr.on('data', (chunk) => {
    err += chunk;
  });
  // A bound on waiting, not a timing assertion: a child that would run on is stopped.
  const stop = setTimeout(() => child.kill(), 20_000);
  return new Promise((resolve) =>
    child.once('close', (code) => {
      clearTimeout(stop);
      resolve({ code, out, err });
    }),
  );
}

/** The environment of a fresh shell: nothing of AWS or Signoff. */
function cleanEnv(): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [name, value] of Object.entries(process.env))
    if (value !== undefined && !/^(AWS_|SIGNOFF_)/.test(name)) env[name] = value;
  return env;
}

describe('start-up that explains itself', () => {
  it('names the workflows that run and those without a policy (disabled) on the banner', () => {
    expect(workflowsLine(parseConfig(DEFAULT_CONFIG_INPUT))).toBe(
      'merge-request, deploy, rollback, support-case, release',
    );
    const onlyMergeRequests = parseConfig({
      ...DEFAULT_CONFIG_INPUT,
      policies: { 'merge-request': DEFAULT_CONFIG_INPUT.policies['merge-request'] },
    });
    expect(workflowsLine(onlyMergeRequests)).toBe(
      'merge-request; not set up (no policy): deploy, rollback, support-case, release',
    );
  });

  it('names the variable that moves a port another process holds', async () => {
    const cases: Array<[keyof StartOptions['ports'], string]> = [
      ['app', 'SIGNOFF_PORT'],
      ['sfn', 'SIGNOFF_SFN_PORT'],
      ['dynamo', 'SIGNOFF_DYNAMODB_PORT'],
      ['gitlabDemo', 'SIGNOFF_GITLAB_DEMO_PORT'],
    ];
    for (const [part, variable] of cases) {
      const taken = await takenPort();
      const dataDir = mkdtempSync(join(tmpdir(), 'signoff-port-'));
      try {
        const started = startSignoff({
          dataDir,
          host: '127.0.0.1',
          ports: {
            app: 0,
            sfn: 0,
            dynamo: 0,
            gitlabDemo: 0,
            lambdaDemo: 0,
            supportDemo: 0,
            [part]: taken.port,
          },
          env: { GITLAB_WEBHOOK_TOKEN: 'test-webhook-token' },
          config: parseConfig(DEFAULT_CONFIG_INPUT),
          redeliverEveryMs: 0,
        });
        await expect(started, part).rejects.toThrow(`port ${taken.port} is already in use`);
        await expect(started, part).rejects.toThrow(`set ${variable} to another port`);
      } finally {
        await taken.release();
        // The refused runtime may still be closing its data dir's files: retry the removal briefly.
        rmSync(dataDir, { recursive: true, force: true, maxRetries: 10, retryDelay: 100 });
      }
    }
  }, 60_000);

  it('prints the chat routes, export lines the AWS CLI and the CLI work with as pasted, and records the config file', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'signoff-banner-'));
    const configPath = join(dataDir, 'team.json');
    writeFileSync(configPath, JSON.stringify(DEFAULT_CONFIG_INPUT));
    const env = {
      GITLAB_WEBHOOK_TOKEN: 'test-webhook-token',
      SIGNOFF_CONFIG: configPath,
      SIGNOFF_DATA_DIR: dataDir,
      LINE_CHANNEL_SECRET: 'line-secret',
      LINE_CHANNEL_ACCESS_TOKEN: 'line-token',
      LINE_API_BASE_URL: 'http://127.0.0.1:9',
    };
    const signoff = await startSignoff({
      dataDir,
      host: '127.0.0.1',
      ports: { app: 0, sfn: 0, dynamo: 0, gitlabDemo: 0, lambdaDemo: 0, supportDemo: 0 },
      env,
      redeliverEveryMs: 0,
      reconcileEveryMs: 0,
    });
    try {
      const banner = startBanner(signoff, env);
      expect(banner).toMatch(new RegExp(`chat routes\\s+${signoff.urls.app}/webhooks/line\\n`));
      expect(banner).toContain(`SIGNOFF_DATA_DIR=${dataDir} npx signoff executions`);
      expect(startBanner({ ...signoff, chatRoutes: [] }, env)).toMatch(/chat routes\s+none configured/);
      // The CLI reads the same configuration file as the runtime.
      expect(JSON.parse(readFileSync(join(dataDir, 'runtime.json'), 'utf8')).config).toBe(configPath);

      // Pasted into a fresh shell, the export lines are all the CLI needs (no runtime.json there).
      const exported: Record<string, string> = {};
      for (const line of banner.split('\n').filter((l) => l.trim().startsWith('export ')))
        for (const [, name, value] of line.matchAll(/([A-Z_]+)=(\S+)/g))
          exported[name as string] = value as string;
      expect(Object.keys(exported).sort()).toEqual([
        'AWS_ACCESS_KEY_ID',
        'AWS_DEFAULT_REGION',
        'AWS_ENDPOINT_URL_DYNAMODB',
        'AWS_ENDPOINT_URL_SFN',
        'AWS_REGION',
        'AWS_SECRET_ACCESS_KEY',
      ]);
      const elsewhere = mkdtempSync(join(tmpdir(), 'signoff-elsewhere-'));
      const cli = await run([join(ROOT, 'bin', 'signoff.js'), 'executions', '--kind', 'merge-request'], {
        ...cleanEnv(),
        ...exported,
        SIGNOFF_DATA_DIR: elsewhere,
      });
      rmSync(elsewhere, { recursive: true, force: true });
      expect(cli.err).toBe('');
      expect(cli.code).toBe(0);
      expect(cli.out).toMatch(/^NAME\s+STATUS/);
    } finally {
      await signoff.close();
      rmSync(dataDir, { recursive: true, force: true });
    }
  }, 60_000);

  it('refuses an invalid SIGNOFF_LOG_LEVEL before starting anything', async () => {
    expect(parseLogLevel(undefined)).toBe('INFO');
    expect(parseLogLevel('debug')).toBe('DEBUG');
    expect(() => parseLogLevel('LOUD')).toThrow('SIGNOFF_LOG_LEVEL must be one of TRACE, DEBUG, INFO');
    const dataDir = mkdtempSync(join(tmpdir(), 'signoff-level-'));
    try {
      const started = await run(['--import', 'tsx', join(ROOT, 'local', 'start.ts')], {
        ...cleanEnv(),
        SIGNOFF_DATA_DIR: dataDir,
        SIGNOFF_LOG_LEVEL: 'LOUD',
        // Were the level let through, the runtime would start: on free ports, not the defaults.
        SIGNOFF_PORT: '0',
        SIGNOFF_SFN_PORT: '0',
        SIGNOFF_DYNAMODB_PORT: '0',
        SIGNOFF_GITLAB_DEMO_PORT: '0',
        SIGNOFF_LAMBDA_DEMO_PORT: '0',
        SIGNOFF_SUPPORT_DEMO_PORT: '0',
      });
      expect(started.code).toBe(1);
      expect(started.err).toBe(
        'signoff failed to start: SIGNOFF_LOG_LEVEL must be one of TRACE, DEBUG, INFO, WARN, ERROR, CRITICAL, SILENT, got "LOUD"\n',
      );
      expect(started.out).toBe('');
    } finally {
      rmSync(dataDir, { recursive: true, force: true });
    }
  }, 30_000);
});
