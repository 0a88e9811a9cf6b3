import { RemovalPolicy } from 'aws-cdk-lib';
import { RetentionDays } from 'aws-cdk-lib/aws-logs';
import { ConfigError } from '../core/errors.ts';

/** How one installation is deployed: read from CDK context (`-c key=value`) or the environment. */
export interface DeploySettings {
  /** `dev`, `staging`, `prod`, …; part of every resource name. */
  stage: string;
  /** The CloudFormation stack name; default `signoff-<stage>`. */
  stackName: string;
  /** Prefix of function and state machine names: `<stackName>-`. */
  prefix: string;
  /** Prod stages keep their data: deletion protection on, table and logs retained on removal. */
  production: boolean;
  /** Subscribed to the alarm topic when set. */
  alarmEmail?: string;
  /** Steady-state requests per second and burst for the HTTP API stage. */
  throttle: { rateLimit: number; burstLimit: number };
  logRetention: RetentionDays;
}

const NAME = /^[a-z][a-z0-9-]{0,19}$/;

/** The stages treated as production: `prod`, `production`, and `prod-…`. */
export function isProductionStage(stage: string): boolean {
  return stage === 'prod' || stage === 'production' || stage.startsWith('prod-');
}

function positiveInt(name: string, raw: string | undefined, fallback: number, problems: string[]): number {
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < 1 || value > 100_000) {
    problems.push(`${name} must be a whole number from 1 to 100000, got "${raw}"`);
    return fallback;
  }
  return value;
}

/**
 * Read the deploy settings. `lookup(contextKey, envName)` returns the context value, else the
 * environment's. Bad values are one ConfigError naming each.
 */
export function readDeploySettings(
  lookup: (contextKey: string, envName: string) => string | undefined,
): DeploySettings {
  const problems: string[] = [];
  const stage = lookup('stage', 'SIGNOFF_STAGE') || 'dev';
  if (!NAME.test(stage))
    problems.push(`stage must match ${NAME} (lowercase, starts with a letter), got "${stage}"`);
  const stackName = lookup('stackName', 'SIGNOFF_STACK_NAME') || `signoff-${stage}`;
  if (!/^[A-Za-z][A-Za-z0-9-]{0,39}$/.test(stackName)) {
    problems.push(
      `stackName must be letters, digits and '-' (at most 40), starting with a letter, got "${stackName}"`,
    );
  }
  const alarmEmail = lookup('alarmEmail', 'SIGNOFF_ALARM_EMAIL') || undefined;
  if (alarmEmail && !/^[^@\s]+@[^@\s]+\.[^@\s]+$/.test(alarmEmail)) {
    problems.push(`alarmEmail is not an email address: "${alarmEmail}"`);
  }
  const rateLimit = positiveInt(
    'throttleRate',
    lookup('throttleRate', 'SIGNOFF_THROTTLE_RATE'),
    50,
    problems,
  );
  const burstLimit = positiveInt(
    'throttleBurst',
    lookup('throttleBurst', 'SIGNOFF_THROTTLE_BURST'),
    100,
    problems,
  );
  const retentionDays = positiveInt(
    'logRetentionDays',
    lookup('logRetentionDays', 'SIGNOFF_LOG_RETENTION_DAYS'),
    365,
    problems,
  );
  const allowed = Object.values(RetentionDays).filter((v): v is number => typeof v === 'number');
  if (!allowed.includes(retentionDays)) {
    problems.push(
      `logRetentionDays must be one CloudWatch Logs offers (${allowed.join(', ')}), got ${retentionDays}`,
    );
  }
  if (problems.length > 0) throw new ConfigError(`deploy settings are invalid:\n  ${problems.join('\n  ')}`);
  return {
    stage,
    stackName,
    prefix: `${stackName.toLowerCase()}-`,
    production: isProductionStage(stage),
    ...(alarmEmail ? { alarmEmail } : {}),
    throttle: { rateLimit, burstLimit },
    logRetention: retentionDays as RetentionDays,
  };
}

/** Prod keeps data when the stack is deleted; other stages clean up after themselves. */
export function removalPolicyFor(settings: DeploySettings): RemovalPolicy {
  return settings.production ? RemovalPolicy.RETAIN : RemovalPolicy.DESTROY;
}
