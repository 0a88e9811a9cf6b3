import { runCli } from '../../bin/signoff.ts';

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
