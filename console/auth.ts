import { createHash, timingSafeEqual } from 'node:crypto';
import type { Context, MiddlewareHandler } from 'hono';
import { Hono } from 'hono';
import { deleteCookie, getCookie, setCookie } from 'hono/cookie';
import { jwtVerify, SignJWT } from 'jose';
import * as oidc from 'openid-client';
import type { Actor } from '../core/approvals/types.ts';
import { type Config, userForEmail } from '../core/config.ts';
import { ForbiddenError, InvalidInputError, NotFoundError, UnauthenticatedError } from '../core/errors.ts';
import type { AppDeps, ConsoleAccess } from '../webhooks/deps.ts';
import { consoleActor } from './actor.ts';
import { isLoopback, requestFacts } from './guard.ts';

/** How the console knows who is acting: a signed-in session, a bearer token, or the demo picker. */
export type SignInMethod = 'session' | 'token' | 'demo';

export interface Identity {
  user: string;
  method: SignInMethod;
  /** A session's sign-in time at the provider (its ID token's `auth_time`, seconds), when it said. */
  authTime?: number;
}

export const SESSION_COOKIE = 'signoff_session';
const FLOW_COOKIE = 'signoff_signin';
/** A session lasts a working day; signing in again goes through the provider (and its MFA). */
const SESSION_SECONDS = 8 * 3600;
const FLOW_SECONDS = 600;
const AUDIENCE = 'signoff-console';
const FLOW_AUDIENCE = 'signoff-sign-in';

/** Constant-time match of a presented bearer token against every configured one. */
export function userForToken(access: ConsoleAccess, presented: string): string | undefined {
  const digest = createHash('sha256').update(presented).digest();
  let found: string | undefined;
  for (const { token, user } of access.tokens) {
    // Compare digests: equal length whatever was presented, and every token is compared.
    if (timingSafeEqual(digest, createHash('sha256').update(token).digest())) found ??= user;
  }
  return found;
}

async function sign(
  access: ConsoleAccess,
  claims: Record<string, string>,
  audience: string,
  seconds: number,
): Promise<string> {
  return new SignJWT(claims)
    .setProtectedHeader({ alg: 'HS256' })
    .setIssuer('signoff')
    .setAudience(audience)
    .setIssuedAt()
    .setExpirationTime(`${seconds}s`)
    .sign(access.sessionKey);
}

async function verify(
  access: ConsoleAccess,
  token: string,
  audience: string,
): Promise<Record<string, unknown> | undefined> {
  try {
    const { payload } = await jwtVerify(token, access.sessionKey, {
      algorithms: ['HS256'],
      issuer: 'signoff',
      audience,
    });
    return payload;
  } catch {
    return undefined;
  }
}

/** The person behind a request: its bearer token, else its session cookie; undefined when neither. */
export async function identify(deps: AppDeps, c: Context): Promise<Identity | undefined> {
  const access = deps.consoleAccess;
  if (!access) return undefined;
  const authorization = c.req.header('authorization');
  if (authorization !== undefined) {
    const match = /^bearer\s+([A-Za-z0-9._~+/=-]{1,512})$/i.exec(authorization.trim());
    const user = match?.[1] ? userForToken(access, match[1]) : undefined;
    if (!user || !deps.config.users[user])
      throw new UnauthenticatedError('the bearer token is not one this console issued', {
        code: 'BadToken',
      });
    return { user, method: 'token' };
  }
  const cookie = getCookie(c, SESSION_COOKIE);
  if (!cookie) return undefined;
  const claims = await verify(access, cookie, AUDIENCE);
  const user = typeof claims?.sub === 'string' ? claims.sub : undefined;
  const authTime = typeof claims?.at === 'string' ? Number(claims.at) : Number.NaN;
  // A user removed from the configuration is signed out at their next request.
  if (!user || !deps.config.users[user]) return undefined;
  return { user, method: 'session', ...(Number.isSafeInteger(authTime) ? { authTime } : {}) };
}

const IDENTITY = 'signoffIdentity';

/** The identity `requireIdentity` found for this request. */
export function identityOf(c: Context): Identity | undefined {
  return c.get(IDENTITY as never) as Identity | undefined;
}

/**
 * With a real configuration every request needs a person: a page without one is sent to sign
 * in, an API call gets a 401. In demo mode the request may name its user (`actor`, `?as=`).
 */
export function requireIdentity(deps: AppDeps, kind: 'api' | 'page'): MiddlewareHandler {
  return async (c, next) => {
    const identity = await identify(deps, c);
    if (identity) c.set(IDENTITY as never, identity as never);
    else if (!deps.consoleAccess?.demo) {
      if (kind === 'api' || c.req.method !== 'GET')
        throw new UnauthenticatedError('sign in to the console first (or send a bearer token)', {
          code: 'SignInRequired',
        });
      const url = new URL(c.req.url);
      return c.redirect(`/console/auth/sign-in?return=${encodeURIComponent(url.pathname + url.search)}`, 302);
    }
    await next();
  };
}

/**
 * The acting person as an Actor. The request's identity wins and `claimed` is ignored; without
 * one, only demo mode (loopback, built-in demo configuration) believes the user it names.
 */
export function actingActor(deps: AppDeps, c: Context, claimed: string | undefined): Actor {
  const identity = identityOf(c);
  if (identity)
    return {
      ...consoleActor(deps.config, identity.user),
      via: identity.method,
      ...(identity.authTime !== undefined
        ? { authenticatedAt: new Date(identity.authTime * 1000).toISOString() }
        : {}),
    };
  if (!deps.consoleAccess?.demo || !isLoopback(requestFacts(deps, c).clientAddress))
    throw new UnauthenticatedError('sign in to the console first', { code: 'SignInRequired' });
  if (!claimed) throw new InvalidInputError('choose who you are acting as (actor)');
  return { ...consoleActor(deps.config, claimed), via: 'demo' };
}

/** The configured user a provider's claims name: `users.<key>.gitlab` by username, else a verified email. */
export function userForClaims(config: Config, claims: Record<string, unknown>): string | undefined {
  const username = typeof claims.preferred_username === 'string' ? claims.preferred_username : undefined;
  if (username) {
    for (const [key, user] of Object.entries(config.users)) if (user.gitlab === username) return key;
  }
  const email = typeof claims.email === 'string' ? claims.email : undefined;
  if (email && claims.email_verified !== false) return userForEmail(config, email);
  return undefined;
}

function secureCookies(deps: AppDeps, c: Context): boolean {
  return requestFacts(deps, c).protocol === 'https';
}

/** Only a path inside the console: never another site (`//evil`, `/\evil`, absolute URLs). */
export function safeReturnPath(value: string | undefined): string {
  if (!value || !/^\/console(?:[/?#]|$)/.test(value) || /[\\\s]/.test(value) || value.startsWith('//'))
    return '/console';
  return value.slice(0, 2000);
}

/**
 * `/console/auth/*`: sign-in with the configured OpenID Connect provider (authorization code +
 * PKCE, state and nonce kept in a signed, short-lived cookie), the callback that turns the
 * provider's identity into a configured user and a session cookie, and sign-out.
 */
export function consoleAuth(deps: AppDeps): Hono {
  const app = new Hono();
  let discovered: Promise<oidc.Configuration> | undefined;

  function provider(): { settings: NonNullable<Config['console']['oidc']>; secret: string } {
    const settings = deps.config.console.oidc;
    const secret = deps.consoleAccess?.oidcClientSecret;
    if (!settings || !secret || !deps.consoleAccess)
      throw new NotFoundError(
        'sign-in is not set up: configure console.oidc and SIGNOFF_OIDC_CLIENT_SECRET',
        { code: 'SignInNotConfigured' },
      );
    return { settings, secret };
  }

  async function client(): Promise<oidc.Configuration> {
    const { settings, secret } = provider();
    const issuer = new URL(settings.issuer);
    // Plain HTTP only for a provider on this machine (tests, a local Keycloak).
    const insecure =
      issuer.protocol === 'http:' && (issuer.hostname === 'localhost' || isLoopback(issuer.hostname));
    discovered ??= oidc
      .discovery(issuer, settings.clientId, undefined, oidc.ClientSecretBasic(secret), {
        ...(insecure ? { execute: [oidc.allowInsecureRequests] } : {}),
        timeout: 5,
      })
      .catch((error: unknown) => {
        discovered = undefined;
        throw error;
      });
    return discovered;
  }

  function redirectUri(c: Context): string {
    const publicUrl = deps.config.console.publicUrl;
    const facts = requestFacts(deps, c);
    const base = publicUrl
      ? publicUrl.replace(/\/$/, '')
      : `${facts.protocol}://${facts.host ?? 'localhost'}`;
    return `${base}/console/auth/callback`;
  }

  function unavailable(c: Context, error: unknown) {
    deps.log('warn', 'sign-in provider unavailable', {
      error: error instanceof Error ? error.name : 'unknown',
    });
    return c.json(
      { error: { code: 'SignInUnavailable', message: 'the sign-in provider could not be reached' } },
      502,
    );
  }

  app.get('/sign-in', async (c) => {
    const { settings } = provider();
    const access = deps.consoleAccess as ConsoleAccess;
    let config: oidc.Configuration;
    try {
      config = await client();
    } catch (error) {
      return unavailable(c, error);
    }
    const verifier = oidc.randomPKCECodeVerifier();
    const state = oidc.randomState();
    const nonce = oidc.randomNonce();
    // `fresh`: a signed-in confirmation wants a new authentication (max_age=0), not the
    // provider's remembered session, so its MFA applies now.
    const fresh = c.req.query('fresh') === '1';
    const flow = await sign(
      access,
      {
        v: verifier,
        s: state,
        n: nonce,
        r: safeReturnPath(c.req.query('return')),
        u: redirectUri(c),
        ...(fresh ? { f: '1' } : {}),
      },
      FLOW_AUDIENCE,
      FLOW_SECONDS,
    );
    setCookie(c, FLOW_COOKIE, flow, {
      path: '/console/auth',
      httpOnly: true,
      sameSite: 'Lax',
      secure: secureCookies(deps, c),
      maxAge: FLOW_SECONDS,
    });
    const url = oidc.buildAuthorizationUrl(config, {
      redirect_uri: redirectUri(c),
      scope: settings.scopes,
      code_challenge: await oidc.calculatePKCECodeChallenge(verifier),
      code_challenge_method: 'S256',
      state,
      nonce,
      // max_age makes the provider say when it authenticated the person (auth_time, OIDC Core
      // 3.1.2.1): never longer ago than a session lasts, and for a confirmation just now.
      max_age: fresh ? '0' : String(SESSION_SECONDS),
    });
    return c.redirect(url.href, 302);
  });

  app.get('/callback', async (c) => {
    provider();
    const access = deps.consoleAccess as ConsoleAccess;
    const flowCookie = getCookie(c, FLOW_COOKIE);
    const flow = flowCookie ? await verify(access, flowCookie, FLOW_AUDIENCE) : undefined;
    deleteCookie(c, FLOW_COOKIE, { path: '/console/auth', secure: secureCookies(deps, c) });
    if (!flow || typeof flow.v !== 'string' || typeof flow.s !== 'string' || typeof flow.n !== 'string')
      throw new InvalidInputError('this sign-in expired or was not started here: sign in again', {
        code: 'SignInExpired',
      });
    let config: oidc.Configuration;
    try {
      config = await client();
    } catch (error) {
      return unavailable(c, error);
    }
    // The URL the provider redirected to, on the redirect URI the flow was started with.
    const current = new URL(typeof flow.u === 'string' ? flow.u : redirectUri(c));
    current.search = new URL(c.req.url).search;
    let claims: Record<string, unknown>;
    try {
      const tokens = await oidc.authorizationCodeGrant(config, current, {
        pkceCodeVerifier: flow.v,
        expectedState: flow.s,
        expectedNonce: flow.n,
        idTokenExpected: true,
      });
      claims = { ...(tokens.claims() ?? {}) };
      if (!claims.preferred_username && !claims.email && tokens.access_token) {
        const info = await oidc.fetchUserInfo(config, tokens.access_token, String(claims.sub ?? ''));
        claims = { ...claims, ...info };
      }
    } catch (error) {
      // The provider's words can carry codes and tokens: log the kind only.
      deps.log('warn', 'sign-in refused', { error: error instanceof Error ? error.name : 'unknown' });
      throw new UnauthenticatedError('the sign-in could not be completed: sign in again', {
        code: 'SignInFailed',
      });
    }
    const user = userForClaims(deps.config, claims);
    if (!user) {
      const who = String(claims.preferred_username ?? claims.email ?? claims.sub ?? 'someone').slice(0, 64);
      throw new ForbiddenError(`signed in as "${who}", who is not a configured user of Signoff`, {
        code: 'NotAConfiguredUser',
      });
    }
    // When the provider authenticated the person (OIDC `auth_time`, required when max_age was
    // sent): a signed-in confirmation counts only from a recent one (policies' confirmWithin).
    const authTime = typeof claims.auth_time === 'number' ? claims.auth_time : undefined;
    // A fresh sign-in must have authenticated after it was started (a minute of clock skew).
    const started = typeof flow.iat === 'number' ? flow.iat : Number.POSITIVE_INFINITY;
    if (flow.f === '1' && (authTime === undefined || authTime < started - 60))
      throw new UnauthenticatedError(
        'the identity provider did not sign you in again (its auth_time is missing or older than this sign-in), so this sign-in cannot confirm a request',
        { code: 'SignInFailed' },
      );
    const session = await sign(
      access,
      { sub: user, ...(authTime !== undefined ? { at: String(Math.floor(authTime)) } : {}) },
      AUDIENCE,
      SESSION_SECONDS,
    );
    setCookie(c, SESSION_COOKIE, session, {
      path: '/console',
      httpOnly: true,
      sameSite: 'Lax',
      secure: secureCookies(deps, c),
      maxAge: SESSION_SECONDS,
    });
    deps.log('info', 'signed in', { user });
    return c.redirect(safeReturnPath(typeof flow.r === 'string' ? flow.r : undefined), 303);
  });

  app.post('/sign-out', (c) => {
    deleteCookie(c, SESSION_COOKIE, { path: '/console', secure: secureCookies(deps, c) });
    return c.html(
      '<!doctype html><meta charset="utf-8"><title>Signed out · Signoff</title><p>Signed out. <a href="/console">Sign in again</a></p>',
    );
  });

  return app;
}
