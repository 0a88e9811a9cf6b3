import type { Actor } from '../core/approvals/types.ts';
import type { Config } from '../core/config.ts';
import { ForbiddenError, InvalidInputError } from '../core/errors.ts';

/** A configured user acting in the console, or a 403. */
export function consoleActor(config: Config, user: string): Actor {
  const entry = config.users[user];
  if (!entry) throw new ForbiddenError(`"${user.slice(0, 64)}" is not a configured user`);
  return { platform: 'console', id: entry.console ?? user, name: entry.name, user };
}

/** Who a CLI decision acts as, and, for an override, who really ran it and why. */
export interface CliDecider {
  actor: Actor;
  override?: { by: Actor; reason: string };
}

/**
 * The rule for a CLI decision. The CLI acts as the user its identity maps to (locally the
 * operator token's user from `<data dir>/runtime.json`); without one it refuses. `--as` another
 * user is honoured only on the built-in demo configuration, or with `--override --reason …`,
 * which the audit records with who really ran it.
 */
export function cliDecider(
  config: Config,
  options: {
    demo: boolean;
    operator?: string;
    /** The IAM principal the operator was mapped from (on AWS, `users.<key>.aws`). */
    principal?: string;
    as?: string;
    override?: boolean;
    reason?: string;
  },
): CliDecider {
  const reason = options.reason?.trim();
  if (options.override && !reason)
    throw new InvalidInputError('--override needs --reason "…": the audit records why');
  if (options.demo) {
    const user = options.as ?? options.operator;
    if (!user) throw new InvalidInputError('decide needs --as <user>');
    return { actor: { ...consoleActor(config, user), via: 'cli' } };
  }
  if (!options.operator)
    throw new ForbiddenError(
      'the CLI has no identity here: locally it acts as the runtime’s operator (console.operator, its token in <data dir>/runtime.json); on AWS as the user whose users.<key>.aws patterns match your IAM principal',
      { code: 'NoCliIdentity' },
    );
  const self: Actor = {
    ...consoleActor(config, options.operator),
    via: 'cli',
    ...(options.principal ? { principal: options.principal } : {}),
  };
  if (options.as === undefined || options.as === options.operator) return { actor: self };
  if (!options.override || !reason)
    throw new ForbiddenError(
      `the CLI acts as ${options.operator} (the operator token’s user), not ${options.as.slice(0, 64)}: acting for someone else needs --override --reason "…", which the audit records`,
      { code: 'NotYourself' },
    );
  return {
    actor: { ...consoleActor(config, options.as), via: 'cli-override' },
    override: { by: self, reason: reason.slice(0, 500) },
  };
}

/** An IAM principal pattern as a regular expression: `*` matches any run of characters. */
function principalPattern(pattern: string): RegExp {
  const parts = pattern.split('*').map((part) => part.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&'));
  return new RegExp(`^${parts.join('.*')}$`);
}

/**
 * The user an AWS IAM principal (the CLI caller's ARN from STS GetCallerIdentity) is, by the
 * `users.<key>.aws` patterns; a 403 when none or more than one user matches.
 */
export function userForAwsPrincipal(config: Config, arn: string): string {
  const matches = Object.entries(config.users)
    .filter(([, user]) => user.aws?.some((pattern) => principalPattern(pattern).test(arn)))
    .map(([key]) => key);
  if (matches.length === 1) return matches[0] as string;
  throw new ForbiddenError(
    matches.length === 0
      ? `your AWS principal ${arn.slice(0, 300)} is no configured user: add it (or a pattern) to users.<key>.aws`
      : `your AWS principal ${arn.slice(0, 300)} matches more than one user (${matches.join(', ')}): make users.<key>.aws patterns distinct`,
    { code: 'NoCliIdentity' },
  );
}

/** Whether any user is mapped from AWS principals (the CLI then asks STS who it is on AWS). */
export function mapsAwsPrincipals(config: Config): boolean {
  return Object.values(config.users).some((user) => user.aws !== undefined);
}
