import { resolve } from 'node:path';
import { App, Validations } from 'aws-cdk-lib';
import { AwsSolutionsChecks } from 'cdk-nag';
import { loadConfig } from '../core/config.ts';
import { ConfigError } from '../core/errors.ts';
import { readDeploySettings } from './settings.ts';
import { SignoffStack } from './stack.ts';

export interface BuildOptions {
  /** CDK context (`-c key=value`); in `cdk synth` the App reads it from the CLI itself. */
  context?: Record<string, string>;
  /** Where SIGNOFF_CONFIG, SIGNOFF_STAGE, … are read; default process.env. */
  env?: Record<string, string | undefined>;
  /** Where `signoff.config.json` is looked for; default the current directory. */
  cwd?: string;
  outdir?: string;
  /** Run cdk-nag's AwsSolutions checks on synth (default true). */
  nag?: boolean;
}

/**
 * The Signoff CDK app: validates `signoff.config.json` (the same file and rules as the local
 * runtime) and the deploy settings, then builds one stack. Environment-agnostic (no account
 * or region in the template), so synth needs no credentials and no network.
 */
export function buildApp(options: BuildOptions = {}): { app: App; stack: SignoffStack } {
  const env = options.env ?? process.env;
  const app = new App({
    ...(options.context ? { context: options.context } : {}),
    ...(options.outdir ? { outdir: options.outdir } : {}),
  });
  const lookup = (key: string, envName: string): string | undefined => {
    const value: unknown = app.node.tryGetContext(key);
    if (value !== undefined && value !== null && value !== '') return String(value);
    return env[envName] || undefined;
  };
  const settings = readDeploySettings(lookup);
  const config = loadConfig(env, options.cwd ?? process.cwd());
  // On AWS every client address is remote, and sign-in redirects back to the public URL.
  if (config.console.oidc && (!config.console.allowRemote || !config.console.publicUrl))
    throw new ConfigError(
      'console.oidc on AWS needs console.allowRemote: true and console.publicUrl (the ApiUrl output, or your domain)',
    );
  const stack = new SignoffStack(app, 'Signoff', {
    stackName: settings.stackName,
    description: `Signoff (${settings.stage}): chat approvals on AWS Step Functions`,
    settings,
    config,
    tags: { app: 'signoff', stage: settings.stage },
  });
  if (options.nag ?? true) Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
  return { app, stack };
}

if (process.argv[1] && resolve(process.argv[1]) === resolve(new URL(import.meta.url).pathname)) {
  const started = Date.now();
  try {
    // Under the CDK CLI, the App takes CDK_OUTDIR itself; alone (`npm run synth`), write ./cdk.out.
    const { app, stack } = buildApp(process.env.CDK_OUTDIR ? {} : { outdir: 'cdk.out' });
    const assembly = app.synth();
    process.stdout.write(
      `synthesized ${stack.stackName} (${[...stack.workflows.keys(), ...(stack.reminders ? ['reminders'] : [])].join(', ')}; ` +
        `${stack.functions.size + stack.scheduled.size + 1} functions) ` +
        `to ${assembly.directory} in ${((Date.now() - started) / 1000).toFixed(1)} s\n`,
    );
  } catch (error) {
    if (error instanceof ConfigError) {
      process.stderr.write(`cdk synth: ${error.message}\n`);
      process.exit(1);
    }
    throw error;
  }
}
