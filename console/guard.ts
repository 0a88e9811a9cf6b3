import type { Context, MiddlewareHandler } from 'hono';
import { ForbiddenError } from '../core/errors.ts';
import type { AppDeps } from '../webhooks/deps.ts';

/** True for 127.0.0.0/8, ::1 and their IPv4-mapped forms. */
export function isLoopback(address: string | undefined): boolean {
  if (!address) return false;
  const v4 = address.replace(/^::ffff:/i, '');
  return v4.startsWith('127.') || address === '::1';
}

/** Host names that always mean this machine (any port). */
const LOOPBACK_NAMES = new Set(['localhost', '127.0.0.1', '[::1]']);

function normalizeAddress(address: string): string {
  return address
    .trim()
    .replace(/^::ffff:/i, '')
    .toLowerCase();
}

/** What a request says about where it came from, believing `X-Forwarded-*` from configured proxies only. */
export interface RequestFacts {
  /** The client's address: the socket peer, or the nearest untrusted hop a trusted proxy reports. */
  clientAddress?: string;
  /** The Host the client asked for (`X-Forwarded-Host` when a trusted proxy sent it). */
  host?: string;
  /** The scheme the client used (`X-Forwarded-Proto` from a trusted proxy, else the server's). */
  protocol: 'http' | 'https';
}

/** Where the request came from, as far as this server can know. */
export function requestFacts(deps: AppDeps, c: Context): RequestFacts {
  const peer = deps.remoteAddress(c);
  const proxies = new Set(deps.config.console.trustedProxies.map(normalizeAddress));
  const ownProtocol = new URL(c.req.url).protocol === 'https:' ? 'https' : 'http';
  const hostHeader = c.req.header('host');
  if (!peer || !proxies.has(normalizeAddress(peer))) {
    return {
      ...(peer ? { clientAddress: peer } : {}),
      ...(hostHeader ? { host: hostHeader } : {}),
      protocol: ownProtocol,
    };
  }
  // A trusted proxy appends the address it saw: walk from the right past our own proxies.
  const hops = (c.req.header('x-forwarded-for') ?? '')
    .split(',')
    .map((hop) => hop.trim())
    .filter(Boolean);
  let clientAddress: string | undefined = peer;
  for (let i = hops.length - 1; i >= 0; i--) {
    clientAddress = hops[i];
    if (!proxies.has(normalizeAddress(hops[i] ?? ''))) break;
  }
  const forwardedHost = c.req.header('x-forwarded-host')?.split(',')[0]?.trim();
  const forwardedProto = c.req.header('x-forwarded-proto')?.split(',')[0]?.trim().toLowerCase();
  const host = forwardedHost || hostHeader;
  return {
    ...(clientAddress ? { clientAddress } : {}),
    ...(host ? { host } : {}),
    protocol: forwardedProto === 'https' ? 'https' : forwardedProto === 'http' ? 'http' : ownProtocol,
  };
}

/** Whether a Host value (`name[:port]`) is one the console answers to: loopback names, or the public URL's host. */
export function isAllowedHost(deps: AppDeps, host: string | undefined): boolean {
  if (!host) return false;
  let parsed: URL;
  try {
    parsed = new URL(`http://${host}`);
  } catch {
    return false;
  }
  // Anything beyond name[:port] (a path, credentials) is not a Host header.
  if (parsed.username || parsed.password || parsed.pathname !== '/' || parsed.search || parsed.hash)
    return false;
  if (LOOPBACK_NAMES.has(parsed.hostname)) return true;
  const publicUrl = deps.config.console.publicUrl;
  if (publicUrl === undefined) return false;
  const own = new URL(publicUrl);
  const defaultPort = own.protocol === 'https:' ? '443' : '80';
  return own.hostname === parsed.hostname && (own.port || defaultPort) === (parsed.port || defaultPort);
}

/**
 * Whether an `Origin` header is the console's own: the origin the client asked for (its Host is
 * already on the allowlist), or `console.publicUrl`'s. Another port on this machine is another site.
 */
export function isAllowedOrigin(deps: AppDeps, origin: string, facts: RequestFacts): boolean {
  let parsed: URL;
  try {
    parsed = new URL(origin);
  } catch {
    return false;
  }
  if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') return false;
  if (parsed.origin !== origin.toLowerCase().replace(/\/$/, '')) return false;
  if (facts.host && isAllowedHost(deps, facts.host)) {
    const own = new URL(`${facts.protocol}://${facts.host}`);
    if (own.origin === parsed.origin) return true;
  }
  const publicUrl = deps.config.console.publicUrl;
  return publicUrl !== undefined && new URL(publicUrl).origin === parsed.origin;
}

const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

/**
 * Who may reach the console at all, and which requests may change anything:
 *
 * - the client is on loopback, or `console.allowRemote` is set with a real configuration (demo
 *   mode is loopback only whatever the file says: its "act as" picker authenticates nobody);
 * - the Host is on the allowlist (loopback names, `console.publicUrl`), so a page on a
 *   rebinding domain that resolves to 127.0.0.1 is refused;
 * - an `Origin` that is present is the console's own (scheme, host and port), and a state change that a browser could
 *   send with the session cookie must carry one (bearer-token clients need not: a browser
 *   never adds that header to a cross-site request).
 */
export function consoleGuard(deps: AppDeps): MiddlewareHandler {
  return async (c, next) => {
    const facts = requestFacts(deps, c);
    const demo = deps.consoleAccess?.demo === true;
    const remoteAllowed = deps.config.console.allowRemote && !demo;
    if (!remoteAllowed && !isLoopback(facts.clientAddress)) {
      throw new ForbiddenError(
        demo
          ? 'the demo console answers only on loopback'
          : 'the console answers only on loopback (set console.allowRemote to change that)',
      );
    }
    if (!isAllowedHost(deps, facts.host)) {
      throw new ForbiddenError(
        'the console does not answer to this Host (loopback names, or console.publicUrl)',
        { code: 'HostNotAllowed' },
      );
    }
    const origin = c.req.header('origin');
    if (origin !== undefined && !isAllowedOrigin(deps, origin, facts)) {
      throw new ForbiddenError('a request from another site is refused', { code: 'OriginNotAllowed' });
    }
    if (!SAFE_METHODS.has(c.req.method)) {
      if (c.req.header('sec-fetch-site') === 'cross-site')
        throw new ForbiddenError('a request from another site is refused', { code: 'OriginNotAllowed' });
      const bearer = /^bearer\s/i.test(c.req.header('authorization') ?? '');
      if (origin === undefined && !bearer && !demo)
        throw new ForbiddenError('a change made with the session cookie must carry an Origin header', {
          code: 'OriginRequired',
        });
    }
    await next();
  };
}
