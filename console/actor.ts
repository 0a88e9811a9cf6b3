import type { Actor } from '../core/approvals/types.ts';
import type { Config } from '../core/config.ts';
import { ForbiddenError } from '../core/errors.ts';

/** A configured user acting in the console, or a 403. */
export function consoleActor(config: Config, user: string): Actor {
  const entry = config.users[user];
  if (!entry) throw new ForbiddenError(`"${user.slice(0, 64)}" is not a configured user`);
  return { platform: 'console', id: entry.console ?? user, name: entry.name, user };
}
