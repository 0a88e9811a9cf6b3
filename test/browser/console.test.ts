import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { DescribeExecutionCommand } from '@aws-sdk/client-sfn';
import { type Browser, chromium, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  decideAs,
  eventually,
  finalStatus,
  json,
  openedMergeRequest,
  pendingFor,
  postGitLab,
  startTestRuntime,
  type TestRuntime,
} from '../support/runtime.ts';

const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const SCREENSHOT = join(import.meta.dirname, '..', '..', 'docs', 'images', 'console-execution.png');

let runtime: TestRuntime;
let browser: Browser;

beforeAll(async () => {
  if (!existsSync(CHROMIUM)) {
    throw new Error(
      `Chromium is not installed at ${CHROMIUM}: run \`apt-get install -y chromium\` (.ci/run does) or set CHROMIUM_PATH`,
    );
  }
  browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: [
      '--no-sandbox',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-gpu',
      '--no-first-run',
      '--disable-sync',
    ],
  });
  runtime = await startTestRuntime();
}, 60_000);

afterAll(async () => {
  await browser?.close();
  await runtime?.stop();
});

async function statusOf(page: Page, state: string): Promise<string | null> {
  return page.locator(`svg .node[data-state="${state}"]`).getAttribute('data-status');
}

describe('the console in a real browser', () => {
  it('simulates a merge request, approves it as bob, marks the graph, exports the audit as CSV', async () => {
    const context = await browser.newContext({
      acceptDownloads: true,
      viewport: { width: 1280, height: 900 },
    });
    const page = await context.newPage();
    const console = runtime.urls.console;

    // Simulate a merge request from the console's demo card.
    await page.goto(console);
    await page.getByPlaceholder('Merge request title').fill('Browser test change');
    await page.getByRole('button', { name: 'Simulate a merge request' }).click();
    await expect.poll(() => page.locator('.flash').textContent()).toContain('is waiting for approval');

    // Act as bob: the approval is in "Waiting for you".
    await page.getByLabel('Acting as').selectOption('bob');
    await page.getByRole('button', { name: 'Switch' }).click();
    const card = page.locator('section.approval', { hasText: 'Browser test change' }).first();
    await card.waitFor();
    const executionHref = await card
      .getByRole('link', { name: 'History in this console' })
      .getAttribute('href');
    const executionArn = decodeURIComponent((executionHref ?? '').replace('/console/executions/', ''));
    expect(executionArn).toContain(':execution:signoff-merge-request:');

    // While it waits, the execution page marks RequestApproval as current and says who is waited on.
    const watcher = await context.newPage();
    await watcher.goto(new URL(executionHref ?? '', console).toString());
    expect(await statusOf(watcher, 'RequestApproval')).toBe('current');
    expect(await statusOf(watcher, 'MergeRequestMerge')).toBe('not-reached');
    await expect.poll(() => watcher.locator('.waiting').textContent()).toMatch(/Waiting on .*bob/);

    // Approve in the inbox.
    await card.getByRole('button', { name: 'Approve' }).click();
    await expect
      .poll(() => page.locator('.flash').textContent())
      .toContain('Recorded: the request is approved');
    await eventually(async () => {
      const out = await runtime.sfn.send(new DescribeExecutionCommand({ executionArn }));
      return out.status === 'SUCCEEDED';
    }, 'the execution to succeed');

    // The open execution page refreshes itself: the graph now shows the path taken.
    await expect.poll(() => statusOf(watcher, 'Merged'), { timeout: 15_000 }).toBe('visited');
    for (const state of ['RequestApproval', 'Decision', 'MergeRequestMerge', 'NotifyMerged'])
      expect(await statusOf(watcher, state)).toBe('visited');
    for (const state of ['MergeRequestClose', 'ExpireApproval', 'Failed'])
      expect(await statusOf(watcher, state)).toBe('not-reached');
    expect(await watcher.locator('tr[data-event-type="ExecutionSucceeded"]').count()).toBe(1);
    // The docs' screenshot is refreshed on request only, so a test run leaves the tree clean.
    const shot = await watcher.screenshot({ fullPage: true });
    expect(shot.byteLength).toBeGreaterThan(10_000);
    if (process.env.UPDATE_SCREENSHOTS) {
      mkdirSync(join(SCREENSHOT, '..'), { recursive: true });
      writeFileSync(SCREENSHOT, shot);
    }

    // Audit: filter bob's votes on merge requests and export exactly those rows.
    await page.goto(`${console}/audit`);
    await page.getByLabel('Workflow').selectOption('merge-request');
    await page.getByLabel('Actor').fill('bob');
    await page.getByLabel('Action').fill('approval.vote');
    await page.getByRole('button', { name: 'Filter' }).click();
    await page.waitForURL(/actor=bob/);
    const shown = await page.locator('table.audit tbody tr').count();
    expect(shown).toBe(1);
    const [download] = await Promise.all([
      page.waitForEvent('download'),
      page.getByRole('link', { name: 'Export CSV' }).click(),
    ]);
    const csv = readFileSync((await download.path()) ?? '', 'utf8')
      .trim()
      .split('\r\n');
    expect(csv[0]).toBe(
      'time,kind,execution,action,outcome,actor_platform,actor_id,actor_name,actor_user,detail,id,seq,prev,hash',
    );
    expect(csv).toHaveLength(shown + 1);
    const row = csv[1]?.split(',') ?? [];
    expect(row.slice(1, 9)).toEqual([
      'merge-request',
      executionArn,
      'approval.vote',
      'approve',
      'console',
      'bob',
      'Bob',
      'bob',
    ]);
    await context.close();
  }, 90_000);

  it("keeps bob's inbox current: carol approves through the API, the page updates without a reload", async () => {
    const context = await browser.newContext({
      viewport: { width: 1280, height: 900 },
      colorScheme: 'dark',
      timezoneId: 'Asia/Tokyo',
    });
    const page = await context.newPage();
    const { hook } = openedMergeRequest(runtime.gitlab, 77);
    const { executionArn } = await json<{ executionArn: string }>(await postGitLab(runtime.urls.app, hook));
    const approval = await pendingFor(runtime, executionArn);

    await page.goto(`${runtime.urls.console}?as=bob`);
    // Standards mode (a doctype), dark colours from prefers-color-scheme.
    expect(await page.evaluate(() => document.compatMode)).toBe('CSS1Compat');
    const background = await page.evaluate(() => getComputedStyle(document.body).backgroundColor);
    expect(background).toBe('rgb(18, 21, 27)');
    const card = page.locator('section.approval', { hasText: 'Change 77' });
    await expect.poll(() => page.locator('h2#mine').textContent()).toContain('(1)');
    expect(await card.count()).toBe(1);
    expect(await page.locator('header .pending-count').getAttribute('data-pending')).toBe('1');
    // Times in the viewer's zone (Tokyo, UTC+9) with a relative time, the UTC value on hover.
    const time = page.locator('time[datetime]').first();
    await expect.poll(() => time.getAttribute('data-local')).toBe('1');
    const iso = (await time.getAttribute('datetime')) ?? '';
    const text = (await time.textContent()) ?? '';
    const tokyoHour = new Date(new Date(iso).getTime() + 9 * 3600_000).getUTCHours();
    expect(text).toContain(`${tokyoHour % 12 || 12}:`);
    expect(text).not.toContain('Z');
    expect(text).toMatch(/\((now|\d+ (seconds?|minutes?|hours?|days?) ago)\)/);
    expect(await time.getAttribute('title')).toBe(iso);

    // The page listens; carol decides elsewhere; the same document (no reload) shows it.
    await expect.poll(() => page.locator('html').getAttribute('data-live')).toBe('1');
    await page.evaluate(() => {
      (window as unknown as { sameDocument: boolean }).sameDocument = true;
    });
    expect((await decideAs(runtime, approval.approvalId, 'carol', 'approve')).status).toBe(200);
    await expect.poll(() => page.locator('h2#mine').textContent(), { timeout: 15_000 }).toContain('(0)');
    expect(await page.locator('header .pending-count').getAttribute('data-pending')).toBe('0');
    expect(await page.evaluate(() => (window as unknown as { sameDocument?: boolean }).sameDocument)).toBe(
      true,
    );
    await context.close();
  }, 60_000);

  it("keeps an approval's own page current: it shows Approve to bob until carol decides", async () => {
    const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
    const page = await context.newPage();
    const { hook } = openedMergeRequest(runtime.gitlab, 78);
    const { executionArn } = await json<{ executionArn: string }>(await postGitLab(runtime.urls.app, hook));
    const approval = await pendingFor(runtime, executionArn);
    await page.goto(`${runtime.urls.console}/approvals/${approval.approvalId}?as=bob`);
    const card = page.locator('section.approval');
    expect(await card.locator('.status').first().textContent()).toBe('pending');
    expect(await card.getByRole('button', { name: 'Approve' }).count()).toBe(1);
    await expect.poll(() => page.locator('html').getAttribute('data-live')).toBe('1');
    expect((await decideAs(runtime, approval.approvalId, 'carol', 'approve')).status).toBe(200);
    await expect
      .poll(() => card.locator('.status').first().textContent(), { timeout: 15_000 })
      .toBe('approved');
    expect(await card.getByRole('button', { name: 'Approve' }).count()).toBe(0);
    await context.close();
  }, 60_000);

  it('speaks the browser language, switches on request, and fits a phone screen', async () => {
    const context = await browser.newContext({
      locale: 'ja-JP',
      viewport: { width: 390, height: 844 },
      isMobile: true,
      hasTouch: true,
    });
    const page = await context.newPage();
    await page.goto(`${runtime.urls.console}/audit`);
    expect(await page.locator('html').getAttribute('lang')).toBe('ja');
    expect(await page.locator('h2').first().textContent()).toBe('監査');
    // Nothing wider than the screen: tables stack into cards, the graph scales.
    const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
    expect(overflow).toBeLessThanOrEqual(0);

    await page.getByRole('link', { name: '繁體中文' }).click();
    expect(await page.locator('h2').first().textContent()).toBe('稽核');
    // The choice is remembered by a cookie.
    await page.goto(`${runtime.urls.console}/executions`);
    expect(await page.locator('html').getAttribute('lang')).toBe('zh-Hant');
    expect(await page.locator('h2').first().textContent()).toBe('執行');
    await context.close();
  }, 60_000);

  it('draws the graph readable on a 375 px phone: scrolls and zooms in its box, a tapped state shows its input and output', async () => {
    // Its own execution, approved through the API and merged.
    const { hook } = openedMergeRequest(runtime.gitlab, 375);
    const { executionArn: arn } = await json<{ executionArn: string }>(
      await postGitLab(runtime.urls.app, hook),
    );
    const approval = await pendingFor(runtime, arn);
    expect((await decideAs(runtime, approval.approvalId, 'bob', 'approve')).status).toBe(200);
    expect(await finalStatus(runtime, arn)).toBe('SUCCEEDED');
    const context = await browser.newContext({
      viewport: { width: 375, height: 812 },
      isMobile: true,
      hasTouch: true,
    });
    const page = await context.newPage();
    await page.goto(`${runtime.urls.console}/executions/${encodeURIComponent(arn)}`);
    // The page itself fits; the graph keeps its size and scrolls inside its box.
    expect(
      await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth),
    ).toBeLessThanOrEqual(0);
    // Each read happens in one turn of the page's script, so a swap by a live update cannot fall
    // between finding an element and reading it.
    const scrollBox = () =>
      page.evaluate(() => {
        const el = document.querySelector('.graph-scroll') as HTMLElement;
        return { scroll: el.scrollWidth, client: el.clientWidth, left: el.scrollLeft };
      });
    const scrollTo = (left: number) =>
      page.evaluate((x) => {
        (document.querySelector('.graph-scroll') as HTMLElement).scrollLeft = x;
      }, left);
    const sizes = await scrollBox();
    expect(sizes.scroll).toBeGreaterThan(sizes.client);
    await scrollTo(150);
    expect((await scrollBox()).left).toBeGreaterThan(0);
    // State names stay at reading size (not shrunk to fit the screen).
    const nameHeight = await page.evaluate(
      () => (document.querySelector('svg .n-name') as Element).getBoundingClientRect().height,
    );
    expect(nameHeight).toBeGreaterThanOrEqual(11);
    // Choice branches are labelled.
    expect(await page.locator('svg text.e-label', { hasText: 'decision = approve' }).count()).toBe(1);

    // + and − zoom the drawing.
    const width = () =>
      page.evaluate(() => (document.querySelector('.graph svg') as Element).getBoundingClientRect().width);
    const before = await width();
    await page.getByRole('button', { name: 'Zoom in' }).tap();
    const zoomedIn = await width();
    expect(zoomedIn).toBeGreaterThan(before);
    await page.getByRole('button', { name: 'Zoom out' }).tap();
    await page.getByRole('button', { name: 'Zoom out' }).tap();
    expect(await width()).toBeLessThan(before);

    // Tapping a state opens its input and output.
    const panel = page.locator('details#io-Decision');
    const panelOpen = () =>
      page.evaluate(() => (document.getElementById('io-Decision') as HTMLDetailsElement).open);
    expect(await panelOpen()).toBe(false);
    await page.locator('svg a.node[data-state="Decision"]').tap();
    await expect.poll(panelOpen).toBe(true);
    expect(await panel.locator('.io-input').textContent()).toContain('"decision": "approve"');
    expect(await panel.locator('.io-output').textContent()).toContain('"decision": "approve"');

    // Something changes elsewhere: the page swaps in fresh content and keeps the place, zoom and open panel.
    await expect.poll(() => page.locator('html').getAttribute('data-live')).toBe('1');
    await scrollTo(120);
    const zoomed = await width();
    await page.evaluate(() => {
      const w = window as unknown as { refreshes: number };
      w.refreshes = 0;
      document.addEventListener('signoff:refreshed', () => {
        w.refreshes++;
      });
    });
    const other = openedMergeRequest(runtime.gitlab, 376);
    expect((await postGitLab(runtime.urls.app, other.hook)).status).toBe(202);
    await expect
      .poll(() => page.evaluate(() => (window as unknown as { refreshes: number }).refreshes), {
        timeout: 15_000,
      })
      .toBeGreaterThan(0);
    expect((await scrollBox()).left).toBe(120);
    expect(await width()).toBe(zoomed);
    expect(await panelOpen()).toBe(true);
    await context.close();
  }, 60_000);
});
