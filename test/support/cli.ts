import { afterAll, beforeAll } from 'vitest';
import { runCli } from '../../bin/signoff.ts';
import { startTestRuntime, type TestRuntime } from './runtime.ts';

/** What one run of the CLI printed, and its exit code. */
export interface CliRun {
  code: number;
  out: string;
  err: string;
}

/** Run the `signoff` CLI in this process with `env` as its whole environment. */
export async function runSignoff(
  env: Record<string, string | undefined>,
  ...argv: string[]
): Promise<CliRun> {
  let out = '';
  let err = '';
  const code = await runCli(argv, env, { out: (t) => (out += t), err: (t) => (err += t) });
  return { code, out, err };
}

/**
 * A test runtime for a CLI test file, started before its tests and stopped after them, and the
 * CLI pointed at its endpoints (the AWS variables a user would export).
 */
export function cliRuntime(): { rt(): TestRuntime; cli(...argv: string[]): Promise<CliRun> } {
  let runtime: TestRuntime | undefined;
  let env: Record<string, string> = {};
  beforeAll(async () => {
    runtime = await startTestRuntime();
    env = { AWS_ENDPOINT_URL_SFN: runtime.urls.sfn, AWS_ENDPOINT_URL_DYNAMODB: runtime.urls.dynamo };
  }, 60_000);
  afterAll(async () => {
    await runtime?.stop();
  });
  return {
    rt() {
      if (!runtime) throw new Error('the runtime is not started yet (call rt() inside a test)');
      return runtime;
    },
    cli: (...argv) => runSignoff(env, ...argv),
  };
}
