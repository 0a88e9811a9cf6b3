import type { MiddlewareHandler } from 'hono';
import { ForbiddenError } from '../core/errors.ts';
import type { AppDeps } from '../webhooks/deps.ts';

/** True for 127.0.0.0/8, ::1 and their IPv4-mapped forms. */
export function isLoopback(address: string | undefined): boolean {
  if (!address) return false;
  const v4 = address.replace(/^::ffff:/i, '');
  return v4.startsWith('127.') || address === '::1';
}

/** The console answers only on loopback unless `console.allowRemote` is set. */
export function loopbackOnly(deps: AppDeps): MiddlewareHandler {
  return async (c, next) => {
    if (!deps.config.console.allowRemote && !isLoopback(deps.remoteAddress(c))) {
      throw new ForbiddenError(
        'the console answers only on loopback (set console.allowRemote to change that)',
      );
    }
    await next();
  };
}
