import { existsSync } from 'node:fs';
import { createServer } from 'node:net';
import { type Browser, chromium } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Approval } from '../../core/approvals/types.ts';
import type { AuditRecord } from '../../core/audit.ts';
import type { Notice } from '../../core/chat.ts';
import { DEFAULT_CONFIG_INPUT, parseConfig } from '../../core/config.ts';
import {
  cardActionEvent,
  type LarkFake,
  type LarkFakeMessage,
  signedLarkRequest,
  startLarkFake,
} from '../fakes/lark.ts';
import {
  blockActions,
  interactionBody,
  type SlackFake,
  type SlackPostedMessage,
  slackHeaders,
  slackId,
  startSlackFake,
} from '../fakes/slack.ts';
import { type OidcServer, startOidcServer } from '../support/oidc.ts';
import { eventually, finalStatus, json, startTestRuntime, type TestRuntime } from '../support/runtime.ts';

const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const ENCRYPT_KEY = 'test-encrypt-key';
const VERIFICATION_TOKEN = 'test-verification-token';
const BOB_OPEN_ID = 'ou_bob00000000000000000000000000000';
const CAROL_OPEN_ID = 'ou_carol0000000000000000000000000000';
const BOB_SLACK = slackId('U');
/** Bob's automation token: a bearer token is not a signed-in confirmation either. */
const BOB_TOKEN = 'bob-automation-token-0123456789abcdef';

let oidc: OidcServer;
let lark: LarkFake;
let slack: SlackFake;
let rt: TestRuntime;
let browser: Browser;
let operator: Record<string, string>;
/** The prod deploy the first test approves; the last one rolls it back. */
let prodDeploy: string | undefined;

/** A free loopback port, so the configuration's console.publicUrl can name it before the runtime starts. */
async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
  const address = server.address();
  await new Promise((done) => server.close(done));
  if (!address || typeof address === 'string') throw new Error('no port');
  return address.port;
}

beforeAll(async () => {
  if (!existsSync(CHROMIUM)) {
    throw new Error(
      `Chromium is not installed at ${CHROMIUM}: run \`apt-get install -y chromium\` (.ci/run does) or set CHROMIUM_PATH`,
    );
  }
  oidc = await startOidcServer();
  lark = await startLarkFake();
  slack = await startSlackFake();
  const port = await freePort();
  const publicUrl = `http://127.0.0.1:${port}`;
  const input = structuredClone(DEFAULT_CONFIG_INPUT) as typeof DEFAULT_CONFIG_INPUT & {
    users: Record<string, Record<string, string>>;
    policies: {
      deploy: { overrides: Record<string, Record<string, unknown>> };
      rollback: { overrides: Record<string, Record<string, unknown>> };
    };
  };
  Object.assign(input.users.bob ?? {}, { lark: BOB_OPEN_ID, slack: BOB_SLACK });
  Object.assign(input.users.carol ?? {}, { lark: CAROL_OPEN_ID });
  // Prod deploys are confirmed by a signed-in approver; test deploys keep the chat click.
  (input.policies.deploy.overrides as Record<string, unknown>).prod = { required: 1, confirm: 'signed-in' };
  // Prod rollbacks want a sign-in of the last 5 seconds: an older one signs in again.
  (input.policies.rollback.overrides as Record<string, unknown>).prod = {
    required: 1,
    confirm: 'signed-in',
    confirmWithin: '5s',
  };
  const config = parseConfig({
    ...input,
    console: { oidc: { issuer: oidc.issuer, clientId: oidc.clientId }, publicUrl, operator: 'alice' },
  });
  rt = await startTestRuntime(
    config,
    undefined,
    {
      SIGNOFF_OIDC_CLIENT_SECRET: oidc.clientSecret,
      SIGNOFF_CONSOLE_TOKENS: JSON.stringify({ bob: BOB_TOKEN }),
      LARK_APP_ID: lark.appId,
      LARK_APP_SECRET: lark.appSecret,
      LARK_VERIFICATION_TOKEN: VERIFICATION_TOKEN,
      LARK_ENCRYPT_KEY: ENCRYPT_KEY,
      LARK_DOMAIN: lark.url,
      SLACK_SIGNING_SECRET: slack.signingSecret,
      SLACK_BOT_TOKEN: slack.botToken,
      SLACK_API_URL: slack.apiUrl,
    },
    { demo: false, appPort: port },
  );
  oidc.serve(`${publicUrl}/console/auth/callback`);
  operator = { authorization: `Bearer ${rt.operator?.token}` };
  browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: ['--no-sandbox', '--disable-background-networking', '--disable-gpu', '--no-first-run'],
  });
}, 90_000);

afterAll(async () => {
  await browser?.close();
  await rt?.stop();
  await lark?.close();
  await slack?.close();
  await oidc?.close();
});

/** A chat command as the operator (alice), through the console API with the operator token. */
async function command(text: string): Promise<string> {
  const response = await fetch(`${rt.urls.app}/console/api/commands`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...operator },
    body: JSON.stringify({ text }),
  });
  expect(response.status).toBe(200);
  const { notice } = await json<{ notice: Notice }>(response);
  const url = notice.links?.find((l) => l.label === 'Execution')?.url;
  if (!url) throw new Error(`no execution in ${JSON.stringify(notice)}`);
  return decodeURIComponent(url.split('/console/executions/')[1] ?? '');
}

async function approvalNow(approvalId: string): Promise<Approval> {
  const response = await fetch(`${rt.urls.app}/console/api/approvals/${approvalId}`, { headers: operator });
  return (await json<{ approval: Approval }>(response)).approval;
}

async function bobsCard(executionArn: string): Promise<{ approval: Approval; card: LarkFakeMessage }> {
  return eventually(async () => {
    const { approvals } = await json<{ approvals: Approval[] }>(
      await fetch(`${rt.urls.app}/console/api/approvals?status=pending`, { headers: operator }),
    );
    const approval = approvals.find((a) => a.executionArn === executionArn);
    const card =
      approval &&
      [...lark.messages.values()].find(
        (m) => m.receiveId === BOB_OPEN_ID && JSON.stringify(m.content).includes(approval.approvalId),
      );
    return approval && card ? { approval, card } : undefined;
  }, "bob's Lark card");
}

function click(approvalId: string, messageId: string, eventId: string): Promise<Response> {
  const request = signedLarkRequest(
    cardActionEvent({
      token: VERIFICATION_TOKEN,
      eventId,
      openId: BOB_OPEN_ID,
      value: { approvalId, decision: 'approve' },
      messageId,
    }),
    { encryptKey: ENCRYPT_KEY },
  );
  return fetch(`${rt.urls.app}/webhooks/lark`, {
    method: 'POST',
    headers: request.headers,
    body: request.body,
  });
}

describe('step-up: a prod deploy with confirm "signed-in", from a Lark click to the console', () => {
  it('refuses the Lark click with the confirmation link; bob signs in, confirms on the page, and the vote counts via session', async () => {
    const executionArn = await command('deploy prod');
    prodDeploy = executionArn;
    const { approval, card } = await bobsCard(executionArn);
    const link = `${rt.urls.app}/console/approvals/${approval.approvalId}`;
    expect(approval.policy.confirm).toBe('signed-in');
    // The card says so, and its button opens the confirmation page instead of deciding.
    const sent = JSON.stringify(card.content);
    expect(sent).toContain('Needs a signed-in confirmation');
    expect(sent).toContain(link);
    expect(sent).not.toContain('"type":"callback"');

    // A click (an old card, a forged callback) decides nothing: the answer carries the link.
    const refused = await click(approval.approvalId, card.messageId, 'evt-step-up-1');
    expect(refused.status).toBe(200);
    const answer = await json<{ toast?: { type: string; content: string } }>(refused);
    expect(answer.toast).toMatchObject({ type: 'error' });
    expect(answer.toast?.content).toContain('needs a signed-in confirmation');
    expect(answer.toast?.content).toContain(link);
    expect(JSON.stringify(answer)).toContain(`"default_url":"${link}"`);
    // Nor does bob's bearer token through the API.
    const byToken = await fetch(`${rt.urls.app}/console/api/approvals/${approval.approvalId}/decision`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${BOB_TOKEN}` },
      body: JSON.stringify({ decision: 'approve' }),
    });
    expect(byToken.status).toBe(403);
    expect(await json(byToken)).toMatchObject({ error: { code: 'ConfirmSignedIn' } });
    expect((await approvalNow(approval.approvalId)).votes).toEqual([]);

    // Bob opens the link: the console sends him to the provider, and back to the page.
    const context = await browser.newContext();
    const page = await context.newPage();
    await page.goto(link);
    await page.waitForURL((url) => url.href.startsWith(oidc.issuer));
    await page.locator('input[name=login]').fill('bob');
    await page.locator('input[name=password]').fill('any password');
    await page.getByRole('button', { name: 'Sign-in' }).click();
    await page.getByRole('button', { name: 'Continue' }).click();
    await page.waitForURL(link);
    expect(await page.locator('.confirm-note').textContent()).toContain('signed-in confirmation');
    await page.getByRole('button', { name: 'Approve' }).click();
    await expect
      .poll(() => page.locator('.flash').textContent())
      .toContain('Recorded: the request is approved');
    await context.close();

    const decided = await approvalNow(approval.approvalId);
    expect(decided.votes.map((v) => [v.user, v.actor.via])).toEqual([['bob', 'session']]);
    const audit = await json<{ records: AuditRecord[] }>(
      await fetch(
        `${rt.urls.app}/console/api/audit?execution=${encodeURIComponent(executionArn)}&action=approval.vote`,
        { headers: operator },
      ),
    );
    expect(audit.records.map((r) => [r.actor.user, r.actor.via, r.outcome])).toEqual([
      ['bob', 'session', 'approve'],
    ]);
    expect(await finalStatus(rt, executionArn)).toBe('SUCCEEDED');
    // Bob's Lark card shows the decision, with no button left.
    await eventually(async () => {
      const now = JSON.stringify(card.patches.at(-1) ?? {});
      return now.includes('Approved by Bob') && !now.includes(link);
    }, "bob's card to show the decision");
  }, 120_000);

  it('keeps the chat click for a test deploy (no confirm option there)', async () => {
    const executionArn = await command('deploy test');
    const { approval, card } = await bobsCard(executionArn);
    expect(JSON.stringify(card.content)).toContain('"type":"callback"');
    const response = await click(approval.approvalId, card.messageId, 'evt-step-up-2');
    expect(JSON.stringify(await response.json())).toContain('Approved by Bob');
    expect((await approvalNow(approval.approvalId)).votes.map((v) => v.actor.platform)).toEqual(['lark']);
  }, 60_000);

  it('asks for a fresh sign-in (max_age=0) when the session is older than the policy’s confirmWithin, then counts the vote', async () => {
    if (!prodDeploy) throw new Error('the prod deploy of the first test is missing');
    expect(await finalStatus(rt, prodDeploy)).toBe('SUCCEEDED');
    const executionArn = await command(`rollback ${prodDeploy.split(':').pop()}`);
    const { approval } = await bobsCard(executionArn);
    expect(approval.policy).toMatchObject({ confirm: 'signed-in', confirmWithin: '5s' });
    const link = `${rt.urls.app}/console/approvals/${approval.approvalId}`;

    // Bob's Slack card links the confirmation page instead of Approve/Reject; a click that
    // still arrives (an older card, a forged callback) is refused to him alone, with the link.
    const slackCard = await eventually(
      async () =>
        slack.messages.find(
          (m) =>
            m.channel === slack.dmOf(BOB_SLACK) && JSON.stringify(m.blocks).includes(approval.approvalId),
        ),
      "bob's Slack card",
    );
    expect(JSON.stringify(slackCard.blocks)).toContain(`"url":"${link}"`);
    expect(JSON.stringify(slackCard.blocks)).not.toContain('signoff_approve');
    const body = interactionBody(
      blockActions({
        user: BOB_SLACK,
        actionId: 'signoff_approve',
        value: approval.approvalId,
        channel: slackCard.channel,
        ts: slackCard.ts,
        triggerId: slack.triggerId(),
        responseUrl: slack.responseUrl(),
        blocks: slackCard.blocks,
      }),
    );
    const clicked = await fetch(`${rt.urls.app}/webhooks/slack`, {
      method: 'POST',
      headers: slackHeaders(body, 'application/x-www-form-urlencoded', slack.signingSecret),
      body,
    });
    expect(clicked.status).toBe(200);
    await eventually(
      async () =>
        slack.responses.find(
          (r) => r.body.response_type === 'ephemeral' && String(r.body.text).includes(link),
        ),
      'the ephemeral refusal with the link',
    );
    expect((await approvalNow(approval.approvalId)).votes).toEqual([]);

    const context = await browser.newContext();
    const page = await context.newPage();
    const authorizations: URL[] = [];
    page.on('request', (request) => {
      const url = new URL(request.url());
      if (url.href.startsWith(oidc.issuer) && url.pathname.endsWith('/auth')) authorizations.push(url);
    });
    const signIn = async () => {
      await page.waitForURL((url) => url.href.startsWith(oidc.issuer));
      await page.locator('input[name=login]').fill('bob');
      await page.locator('input[name=password]').fill('any password');
      await page.getByRole('button', { name: 'Sign-in' }).click();
      // The provider asks for consent the first time only.
      await page.waitForURL((url) => url.href === link || url.pathname.includes('/interaction/'));
      if (page.url() !== link) await page.getByRole('button', { name: 'Continue' }).click();
      await page.waitForURL(link);
    };
    await page.goto(link);
    await signIn();
    const firstSignIn = Date.now();
    // An ordinary sign-in asks the provider for its auth_time (max_age of a session's length).
    expect(authorizations.map((u) => u.searchParams.get('max_age'))).toEqual(['28800']);

    // The sign-in grows older than the policy's 5 seconds before bob decides.
    await page.waitForTimeout(6_000);
    await page.getByRole('button', { name: 'Approve' }).click();
    // Not recorded: the provider is asked to authenticate bob again, although it remembers him.
    await signIn();
    expect(authorizations.map((u) => u.searchParams.get('max_age'))).toEqual(['28800', '0']);
    expect((await approvalNow(approval.approvalId)).votes).toEqual([]);

    await page.getByRole('button', { name: 'Approve' }).click();
    await expect
      .poll(() => page.locator('.flash').textContent())
      .toContain('Recorded: the request is approved');
    await context.close();
    const [vote] = (await approvalNow(approval.approvalId)).votes;
    expect([vote?.user, vote?.actor.via]).toEqual(['bob', 'session']);
    // The vote keeps when the provider last authenticated bob: at the fresh sign-in, 6 s or more
    // after the first (auth_time counts whole seconds).
    expect(Date.parse(vote?.actor.authenticatedAt ?? '')).toBeGreaterThan(firstSignIn + 4_000);
    expect(await finalStatus(rt, executionArn)).toBe('SUCCEEDED');
    // The Slack card shows the decision, with no link left.
    await eventually(async () => {
      const shown = JSON.stringify((slackCard as SlackPostedMessage).updates.at(-1) ?? {});
      return (shown.includes('Approved by Bob') && !shown.includes(link)) || undefined;
    }, "bob's Slack card to show the decision");
  }, 120_000);
});
