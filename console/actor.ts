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
  options: { demo: boolean; operator?: string; as?: string; override?: boolean; reason?: string },
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
      'the CLI has no identity here: it decides as the local runtime’s operator (console.operator, its token in <data dir>/runtime.json); on AWS decide in the console',
      { code: 'NoCliIdentity' },
    );
  const self = { ...consoleActor(config, options.operator), via: 'cli' };
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
