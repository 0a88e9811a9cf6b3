import { type Config, loadConfig, parseConfig, readSecrets, type Secrets } from './config.ts';
import { ConfigError } from './errors.ts';

/**
 * The environment variable names the CDK stack sets on every Signoff function, and the
 * Lambda entries read. They hold names and ARNs only: secret values live in Secrets Manager.
 */
export const AWS_ENV = {
  tableName: 'SIGNOFF_TABLE_NAME',
  secretId: 'SIGNOFF_SECRET_ID',
  secretMaxAgeSeconds: 'SIGNOFF_SECRET_MAX_AGE_SECONDS',
  stateMachinePrefix: 'SIGNOFF_STATE_MACHINE_PREFIX',
  accountId: 'SIGNOFF_ACCOUNT_ID',
  /** Set by Lambda itself. */
  region: 'AWS_REGION',
  /** Standard SDK variables (design §4); unset on AWS, where the default endpoints apply. */
  lambdaEndpoint: 'AWS_ENDPOINT_URL_LAMBDA',
  supportEndpoint: 'AWS_ENDPOINT_URL_SUPPORT',
} as const;

/** What a Signoff function on AWS knows about its installation. */
export interface AwsSettings {
  region: string;
  accountId: string;
  tableName: string;
  /** State machines are `<prefix><kind>`. */
  stateMachinePrefix: string;
  /** The Secrets Manager secret (ARN or name) holding the credentials; absent for functions that need none. */
  secretId?: string;
  /** How long a read secret is reused before it is read again. */
  secretMaxAgeSeconds: number;
  /** `AWS_ENDPOINT_URL_LAMBDA` when set (a stand-in); absent on AWS: the default endpoint and credentials. */
  lambdaEndpoint?: string;
  /** `AWS_ENDPOINT_URL_SUPPORT` when set; absent on AWS: the default (global) endpoint. */
  supportEndpoint?: string;
}

const DEFAULT_SECRET_MAX_AGE_SECONDS = 300;

/**
 * Read the installation's settings from a Lambda environment. A missing or malformed variable
 * is a ConfigError naming it, so a miswired function fails at cold start with a clear message.
 *
 * @example parseAwsSettings(process.env).tableName // 'signoff-dev-Table…'
 */
export function parseAwsSettings(env: Record<string, string | undefined>): AwsSettings {
  const problems: string[] = [];
  const required = (name: string): string => {
    const value = env[name];
    if (!value) problems.push(`${name} is not set`);
    return value ?? '';
  };
  const region = required(AWS_ENV.region);
  const accountId = required(AWS_ENV.accountId);
  if (accountId && !/^\d{12}$/.test(accountId))
    problems.push(`${AWS_ENV.accountId} is not a 12-digit account id`);
  const tableName = required(AWS_ENV.tableName);
  const stateMachinePrefix = required(AWS_ENV.stateMachinePrefix);
  const secretId = env[AWS_ENV.secretId] || undefined;
  const rawMaxAge = env[AWS_ENV.secretMaxAgeSeconds];
  let secretMaxAgeSeconds = DEFAULT_SECRET_MAX_AGE_SECONDS;
  if (rawMaxAge !== undefined && rawMaxAge !== '') {
    secretMaxAgeSeconds = Number(rawMaxAge);
    if (!Number.isInteger(secretMaxAgeSeconds) || secretMaxAgeSeconds < 0 || secretMaxAgeSeconds > 86_400) {
      problems.push(
        `${AWS_ENV.secretMaxAgeSeconds} must be a whole number of seconds (0–86400), got "${rawMaxAge}"`,
      );
    }
  }
  if (problems.length > 0) {
    throw new ConfigError(`the function's environment is incomplete:\n  ${problems.join('\n  ')}`);
  }
  const lambdaEndpoint = env[AWS_ENV.lambdaEndpoint] || undefined;
  const supportEndpoint = env[AWS_ENV.supportEndpoint] || undefined;
  return {
    region,
    accountId,
    tableName,
    stateMachinePrefix,
    ...(secretId ? { secretId } : {}),
    secretMaxAgeSeconds,
    ...(lambdaEndpoint ? { lambdaEndpoint } : {}),
    ...(supportEndpoint ? { supportEndpoint } : {}),
  };
}

/**
 * The configuration a function runs with: the JSON the CDK app validated and bundled into the
 * function (esbuild `define`), else `loadConfig(env)` (tests, or a bundle built without it).
 */
export function configForFunction(
  bundled: string | undefined,
  env: Record<string, string | undefined>,
): Config {
  if (bundled === undefined) return loadConfig(env);
  let raw: unknown;
  try {
    raw = JSON.parse(bundled);
  } catch (cause) {
    throw new ConfigError(`the bundled configuration is not valid JSON: ${(cause as Error).message}`, {
      cause,
    });
  }
  return parseConfig(raw, 'the bundled configuration');
}

/**
 * The Secrets Manager secret as a record: one JSON object whose keys are the variable names of
 * design §4 (`GITLAB_WEBHOOK_TOKEN`, `GITLAB_URL`, `GITLAB_TOKEN`, `LARK_*`, `LINE_*`, …), the
 * same keys the local runtime reads from its environment. Empty strings count as unset.
 * Anything but an object of strings is a ConfigError that names the key, never the value.
 *
 * @example chatAdapters(secretRecord(await getSecret(id, { transform: 'json' }), id))
 */
export function secretRecord(value: unknown, secretId: string): Record<string, string | undefined> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new ConfigError(`secret ${secretId} must hold a JSON object of strings`);
  }
  const record: Record<string, string | undefined> = {};
  for (const [key, entry] of Object.entries(value)) {
    if (typeof entry !== 'string') throw new ConfigError(`secret ${secretId}: ${key} must be a string`);
    if (entry !== '') record[key] = entry;
  }
  return record;
}

/** The GitLab credentials in the secret (see secretRecord). */
export function secretsFromJson(value: unknown, secretId: string): Secrets & { gitlabSigningToken?: string } {
  const record = secretRecord(value, secretId);
  const signing = record.GITLAB_WEBHOOK_SIGNING_TOKEN || undefined;
  return { ...readSecrets(record), ...(signing ? { gitlabSigningToken: signing } : {}) };
}

/** The secret's entries whose keys start with one of `prefixes`, as a stable string: rebuild clients only when it changes. */
export function secretFingerprint(record: Record<string, string | undefined>, prefixes: string[]): string {
  return JSON.stringify(
    Object.entries(record)
      .filter(([key]) => prefixes.some((prefix) => key.startsWith(prefix)))
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)),
  );
}

/** Secret keys the chat adapters read (design §4): a change to any of them rebuilds the adapters. */
export const CHAT_SECRET_PREFIXES = ['LARK_', 'LINE_', 'SLACK_', 'DINGTALK_'];
