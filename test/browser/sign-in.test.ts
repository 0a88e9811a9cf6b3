import { existsSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { type Browser, chromium, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Approval } from '../../core/approvals/types.ts';
import type { AuditRecord } from '../../core/audit.ts';
import { DEFAULT_CONFIG_INPUT, parseConfig } from '../../core/config.ts';
import { type OidcServer, startOidcServer } from '../support/oidc.ts';
import {
  eventually,
  json,
  openedMergeRequest,
  postGitLab,
  startTestRuntime,
  type TestRuntime,
} from '../support/runtime.ts';

const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
/** A name that resolves to this machine inside the browser only: the shape of a DNS-rebinding attack. */
const REBOUND = 'rebind.attacker.test';

let oidc: OidcServer;
let rt: TestRuntime;
let browser: Browser;
let attacker: Server;
let attackerUrl: string;
let attackPage = '';

beforeAll(async () => {
  if (!existsSync(CHROMIUM)) {
    throw new Error(
      `Chromium is not installed at ${CHROMIUM}: run \`apt-get install -y chromium\` (.ci/run does) or set CHROMIUM_PATH`,
    );
  }
  oidc = await startOidcServer();
  // A team's own configuration: people sign in with the provider; no demo picker.
  const input = structuredClone(DEFAULT_CONFIG_INPUT);
  Object.assign(input.users.bob, { email: 'bob@example.com' });
  Object.assign(input.users.carol, { email: 'cjones@example.com' });
  const config = parseConfig({
    ...input,
    console: { oidc: { issuer: oidc.issuer, clientId: oidc.clientId }, operator: 'alice' },
  });
  rt = await startTestRuntime(
    config,
    undefined,
    { SIGNOFF_OIDC_CLIENT_SECRET: oidc.clientSecret },
    { demo: false },
  );
  oidc.serve(`${rt.urls.app}/console/auth/callback`);
  // Another site (another origin on this machine) whose page posts to the console.
  attacker = createServer((_request, response) => {
    response.writeHead(200, { 'content-type': 'text/html' }).end(attackPage);
  });
  await new Promise<void>((done) => attacker.listen(0, '127.0.0.1', done));
  attackerUrl = `http://localhost:${(attacker.address() as AddressInfo).port}/`;
  browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: [
      '--no-sandbox',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-gpu',
      '--no-first-run',
      '--disable-sync',
      `--host-resolver-rules=MAP ${REBOUND} 127.0.0.1`,
    ],
  });
}, 90_000);

afterAll(async () => {
  await browser?.close();
  await rt?.stop();
  await oidc?.close();
  await new Promise((done) => attacker?.close(done));
});

async function newMergeRequest(iid: number): Promise<Approval> {
  const { hook } = openedMergeRequest(rt.gitlab, iid);
  const { executionArn } = await json<{ executionArn: string }>(await postGitLab(rt.urls.app, hook));
  const operator = { authorization: `Bearer ${rt.operator?.token}` };
  return eventually(async () => {
    const body = await json<{ approvals: Approval[] }>(
      await fetch(`${rt.urls.app}/console/api/approvals?status=pending`, { headers: operator }),
    );
    return body.approvals.find((a) => a.executionArn === executionArn);
  }, 'the approval');
}

async function approvalNow(approvalId: string): Promise<Approval> {
  const response = await fetch(`${rt.urls.app}/console/api/approvals/${approvalId}`, {
    headers: { authorization: `Bearer ${rt.operator?.token}` },
  });
  return (await json<{ approval: Approval }>(response)).approval;
}

/** Sign in through the provider's own login and consent pages. */
async function signIn(page: Page, login: string): Promise<void> {
  await page.goto(rt.urls.console);
  // The console sent us to the provider.
  await page.waitForURL((url) => url.href.startsWith(oidc.issuer));
  await page.locator('input[name=login]').fill(login);
  await page.locator('input[name=password]').fill('any password');
  await page.getByRole('button', { name: 'Sign-in' }).click();
  await page.getByRole('button', { name: 'Continue' }).click();
}

describe('console sign-in with a real OpenID Connect provider, in a real browser', () => {
  it('signs bob in through the provider, shows no act-as picker, and his approval counts as bob, by session', async () => {
    const approval = await newMergeRequest(501);
    const context = await browser.newContext();
    const page = await context.newPage();
    await signIn(page, 'bob');
    await page.waitForURL(`${rt.urls.console}`);
    expect(await page.locator('header form.who').textContent()).toContain('Signed in as bob');
    expect(await page.getByLabel('Acting as').count()).toBe(0);
    const cookie = (await context.cookies()).find((c) => c.name === 'signoff_session');
    expect(cookie).toMatchObject({ httpOnly: true, sameSite: 'Lax', path: '/console' });

    const card = page.locator('section.approval', { hasText: 'Change 501' }).first();
    await card.getByRole('button', { name: 'Approve' }).click();
    await expect
      .poll(() => page.locator('.flash').textContent())
      .toContain('Recorded: the request is approved');
    const decided = await approvalNow(approval.approvalId);
    expect(decided.status).toBe('approved');
    expect(decided.votes.map((v) => [v.user, v.actor.via])).toEqual([['bob', 'session']]);
    const audit = await json<{ records: AuditRecord[] }>(
      await fetch(
        `${rt.urls.app}/console/api/audit?execution=${encodeURIComponent(approval.executionArn)}&action=approval.vote`,
        { headers: { authorization: `Bearer ${rt.operator?.token}` } },
      ),
    );
    expect(audit.records.map((r) => [r.actor.user, r.actor.via])).toEqual([['bob', 'session']]);

    // Sign out: the cookie is gone and the console asks for sign-in again.
    await page.getByRole('button', { name: 'Sign out' }).click();
    expect((await context.cookies()).some((c) => c.name === 'signoff_session')).toBe(false);
    const api = await page.request.get(`${rt.urls.console}/api/approvals`);
    expect(api.status()).toBe(401);
    await context.close();
  }, 90_000);

  it('ignores the actor a signed-in request names: bob approving "as carol" is bob', async () => {
    const approval = await newMergeRequest(502);
    const context = await browser.newContext();
    const page = await context.newPage();
    await signIn(page, 'bob');
    await page.waitForURL(`${rt.urls.console}`);
    const status = await page.evaluate(async (id) => {
      const response = await fetch(`/console/api/approvals/${id}/decision`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ decision: 'approve', actor: 'carol' }),
      });
      return response.status;
    }, approval.approvalId);
    expect(status).toBe(200);
    const decided = await approvalNow(approval.approvalId);
    expect(decided.votes.map((v) => v.user)).toEqual(['bob']);
    // ?as= is ignored too.
    await page.goto(`${rt.urls.console}?as=carol`);
    expect(await page.locator('header form.who').textContent()).toContain('Signed in as bob');
    await context.close();
  }, 90_000);

  it('refuses someone the provider knows but the configuration does not, and an unverified email', async () => {
    const context = await browser.newContext();
    const page = await context.newPage();
    await signIn(page, 'mallory');
    await expect.poll(() => page.locator('body').textContent()).toContain('not a configured user');
    expect((await context.cookies()).some((c) => c.name === 'signoff_session')).toBe(false);
    await context.close();
    // bob@example.com, but the provider does not vouch for it.
    const fresh = await browser.newContext();
    const second = await fresh.newPage();
    await signIn(second, 'unverified-bob');
    await expect.poll(() => second.locator('body').textContent()).toContain('not a configured user');
    expect((await fresh.cookies()).some((c) => c.name === 'signoff_session')).toBe(false);
    await fresh.close();
  }, 90_000);

  it('maps a verified email to its user when the username matches nobody', async () => {
    const context = await browser.newContext();
    const page = await context.newPage();
    await signIn(page, 'cjones');
    await page.waitForURL(`${rt.urls.console}`);
    expect(await page.locator('header form.who').textContent()).toContain('Signed in as carol');
    await context.close();
  }, 90_000);

  it('answers an unauthenticated API call with 401 and a page with the sign-in redirect', async () => {
    const api = await fetch(`${rt.urls.app}/console/api/approvals`);
    expect(api.status).toBe(401);
    const decision = await fetch(`${rt.urls.app}/console/api/approvals/x/decision`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', origin: rt.urls.app },
      body: JSON.stringify({ decision: 'approve', actor: 'bob' }),
    });
    expect(decision.status).toBe(401);
    const page = await fetch(`${rt.urls.console}/audit`, { redirect: 'manual' });
    expect(page.status).toBe(302);
    expect(page.headers.get('location')).toBe('/console/auth/sign-in?return=%2Fconsole%2Faudit');
  });

  it('refuses a form posted from another site with the session cookie, and a rebinding-shaped Host', async () => {
    const approval = await newMergeRequest(503);
    const context = await browser.newContext();
    const page = await context.newPage();
    await signIn(page, 'bob');
    await page.waitForURL(`${rt.urls.console}`);

    // Another origin's page auto-submits an approval to the console.
    attackPage = `<form id="f" method="post" action="${rt.urls.console}/approvals/${approval.approvalId}/decide">
      <input name="decision" value="approve"><input name="actor" value="bob"></form>
      <script>document.getElementById('f').submit()</script>`;
    const answered = page.waitForResponse((r) =>
      r.url().includes(`/approvals/${approval.approvalId}/decide`),
    );
    await page.goto(attackerUrl);
    expect((await answered).status()).toBe(403);
    expect((await approvalNow(approval.approvalId)).status).toBe('pending');

    // A page on a name that resolves to 127.0.0.1 (DNS rebinding) reaches the console: Host is refused.
    const port = new URL(rt.urls.app).port;
    for (const path of ['/console', '/console/api/approvals']) {
      const rebound = await page.goto(`http://${REBOUND}:${port}${path}`);
      expect(rebound?.status()).toBe(403);
      expect(await rebound?.json()).toMatchObject({ error: { code: 'HostNotAllowed' } });
    }
    expect((await approvalNow(approval.approvalId)).status).toBe('pending');
    await context.close();
  }, 90_000);
});
