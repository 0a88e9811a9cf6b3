import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DescribeExecutionCommand } from '@aws-sdk/client-sfn';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApprovalStore } from '../../core/approvals/store.ts';
import type { Approval } from '../../core/approvals/types.ts';
import type { AuditRecord } from '../../core/audit.ts';
import {
  eventually,
  json,
  openedMergeRequest,
  postGitLab,
  startTestRuntime,
  type TestRuntime,
} from '../support/runtime.ts';

let rt: TestRuntime;
let executionArn: string;
let approval: Approval;
let taskToken: string;

beforeAll(async () => {
  rt = await startTestRuntime();
  const { hook } = openedMergeRequest(rt.gitlab, 31);
  executionArn = (await json<{ executionArn: string }>(await postGitLab(rt.urls.app, hook))).executionArn;
  approval = await eventually(async () => {
    const body = await json<{ approvals: Approval[] }>(await fetch(`${rt.urls.app}/console/api/approvals`));
    return body.approvals.find((a) => a.executionArn === executionArn);
  }, 'the approval');
  const dynamo = new DynamoDBClient({
    region: 'us-east-1',
    endpoint: rt.urls.dynamo,
    credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
  });
  taskToken = (await createApprovalStore(dynamo, 'signoff').getTaskToken(approval.approvalId)) ?? '';
  dynamo.destroy();
  expect(taskToken.length).toBeGreaterThan(10);
}, 60_000);

afterAll(async () => {
  await rt?.stop();
});

const page = (path: string, init?: RequestInit) => fetch(`${rt.urls.app}${path}`, init);
const arnPath = () => `/console/executions/${encodeURIComponent(executionArn)}`;

describe('console pages and API on the embedded runtime', () => {
  it('draws the paused execution: current state, who is waited on, never the task token', async () => {
    const html = await (await page(arnPath())).text();
    expect(html).toContain('data-state="RequestApproval" data-status="current"');
    expect(html).toContain('data-state="MergeRequestMerge" data-status="not-reached"');
    expect(html).toMatch(/Waiting on bob, carol since <time datetime="\d{4}-[^"]+Z">/);
    expect(html).toContain('id="live" data-status="RUNNING"');
    const partial = await (await page(`${arnPath()}?partial=1`)).text();
    expect(partial.startsWith('<div id="live"')).toBe(true);
    const api = await (await page(`/console/api/executions/${encodeURIComponent(executionArn)}`)).text();
    for (const body of [html, partial, api]) expect(body).not.toContain(taskToken);
    expect(JSON.parse(api).states.RequestApproval).toBe('current');
  });

  it('starts every page with a doctype, shows times as <time datetime>, and no query statistics', async () => {
    const paths = [
      '/console?as=bob',
      '/console/executions',
      '/console/executions?kind=merge-request',
      arnPath(),
      '/console/audit',
      `/console/approvals/${approval.approvalId}`,
    ];
    for (const path of paths) {
      const html = await (await page(path)).text();
      expect(html.startsWith('<!doctype html>'), path).toBe(true);
      expect(html, path).toContain('new EventSource(');
      expect(html, path).toMatch(/class="pending-count"[^>]*data-pending="\d+"/);
    }
    const audit = await (await page('/console/audit?kind=merge-request')).text();
    expect(audit).toMatch(/<time datetime="\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z">/);
    expect(audit).not.toMatch(/key: |read \d|every kind|gsi/);
    // Each approval card links to the approval's own page.
    expect(await (await page('/console?as=bob')).text()).toContain(
      `class="approval-page" href="/console/approvals/${approval.approvalId}"`,
    );
    // Bob's header counts what waits for him; nobody acting: every pending approval.
    expect(await (await page('/console?as=bob')).text()).toMatch(/data-pending="1">1 pending/);
  });

  it('lists what waits for the acting user, with buttons only there', async () => {
    const bob = await (await page('/console?as=bob')).text();
    expect(bob).toMatch(/Waiting for you \(1\)/);
    expect(bob).toContain(`/console/approvals/${approval.approvalId}/decide`);
    const alice = await (await page('/console?as=alice')).text();
    expect(alice).toMatch(/Waiting for you \(0\)/);
    expect(alice).not.toContain(`/console/approvals/${approval.approvalId}/decide`);
  });

  it('filters executions by requester, status and dates', async () => {
    const list = async (query: string) =>
      (
        await json<{ executions: Array<{ executionArn: string }> }>(
          await page(`/console/api/executions?${query}`),
        )
      ).executions.map((e) => e.executionArn);
    expect(await list('kind=merge-request&requester=alice')).toEqual([executionArn]);
    expect(await list('kind=merge-request&requester=bob')).toEqual([]);
    expect(await list('kind=merge-request&status=RUNNING')).toContain(executionArn);
    expect(await list('kind=merge-request&status=SUCCEEDED')).toEqual([]);
    expect(await list('kind=merge-request&since=2999-01-01')).toEqual([]);
    expect(await list('kind=deploy')).toEqual([]);
    const html = await (await page('/console/executions?requester=alice')).text();
    expect(html).toContain(`data-execution-arn="${executionArn}"`);
  });

  it('rejects with a form post from another origin (CSRF) and changes nothing', async () => {
    const response = await page(`/console/approvals/${approval.approvalId}/decide`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', origin: 'https://evil.example' },
      body: 'actor=bob&decision=approve',
    });
    expect(response.status).toBe(403);
    const after = await json<{ approval: Approval }>(
      await page(`/console/api/approvals/${approval.approvalId}`),
    );
    expect(after.approval.status).toBe('pending');
  });

  it('answers malformed filters with a 400 JSON error, never a 500', async () => {
    for (const path of [
      '/console/audit?since=yesterday',
      '/console/audit?kind=nope',
      '/console/audit?cursor=%E2%9C%93',
      '/console/audit?actor=%3Cscript%3E',
      '/console/api/audit?limit=0',
      '/console/api/audit?execution=not-an-arn',
      '/console/api/audit?since=2040-01-02&until=2040-01-01',
      '/console/api/audit/export?format=xml',
      '/console/executions?status=BAD',
      '/console/api/executions?limit=1000',
      '/console/executions?kind=../../etc',
    ]) {
      const response = await page(path);
      expect(response.status, path).toBe(400);
      expect((await json<{ error: { code: string } }>(response)).error.code).toBeTruthy();
    }
    expect(
      (await page('/console/executions/arn%3Aaws%3Astates%3Aus-east-1%3A123456789012%3Aexecution%3Ax%3Ay'))
        .status,
    ).toBe(404);
  });

  it('approves from the inbox form, then the audit export holds exactly the filtered rows', async () => {
    const decided = await page(`/console/approvals/${approval.approvalId}/decide`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', origin: rt.urls.app },
      body: 'actor=bob&decision=approve',
      redirect: 'manual',
    });
    expect(decided.status).toBe(303);
    expect(decodeURIComponent(decided.headers.get('location') ?? '')).toContain('the request is approved');
    await eventually(async () => {
      const out = await rt.sfn.send(new DescribeExecutionCommand({ executionArn }));
      return out.status === 'SUCCEEDED';
    }, 'the merge');

    const html = await (await page(arnPath())).text();
    expect(html).toContain('data-state="Merged" data-status="visited"');
    expect(html).toContain('id="live" data-status="SUCCEEDED"');
    // Finished: no polling of the live part (the page still follows /console/events).
    expect(html).not.toContain('?partial=1');

    const filter = 'kind=merge-request&since=2000-01-01&until=2999-12-31';
    const listed = await json<{ records: AuditRecord[] }>(await page(`/console/api/audit?${filter}&limit=2`));
    expect(listed.records).toHaveLength(2);
    const exported = await json<{ records: AuditRecord[] }>(
      await page(`/console/api/audit/export?${filter}&format=json`),
    );
    const everything = await json<{ records: AuditRecord[] }>(
      await page(`/console/api/audit?${filter}&limit=1000`),
    );
    expect(exported.records).toEqual(everything.records);
    expect(everything.records.length).toBeGreaterThanOrEqual(6);

    // The audit of the execution agrees with its Step Functions history.
    const ofExecution = await json<{ records: AuditRecord[] }>(
      await page(`/console/api/audit?execution=${encodeURIComponent(executionArn)}`),
    );
    const actions = ofExecution.records.map((r) => `${r.action}:${r.outcome}:${r.actor.user ?? r.actor.id}`);
    expect(actions).toEqual(
      expect.arrayContaining([
        'execution.requested:started:alice',
        'approval.vote:approve:bob',
        'approval.decided:approved:bob',
        'merge-request.merged:merged:signoff',
      ]),
    );
    const history = await json<{
      history: Array<{ type: string; stateEnteredEventDetails?: { name: string } }>;
    }>(await page(`/console/api/executions/${encodeURIComponent(executionArn)}`));
    const entered = history.history.flatMap((e) =>
      e.stateEnteredEventDetails ? [e.stateEnteredEventDetails.name] : [],
    );
    expect(entered).toContain('MergeRequestMerge');
    for (const record of ofExecution.records) {
      expect(record.kind).toBe('merge-request');
      expect(
        record.actor.platform && record.actor.id && record.actor.name && record.at && record.outcome,
      ).toBeTruthy();
    }

    const csv = await page(`/console/api/audit/export?${filter}&actor=bob&format=csv`);
    expect(csv.headers.get('content-type')).toContain('text/csv');
    expect(csv.headers.get('content-disposition')).toMatch(/attachment; filename="signoff-audit-.*\.csv"/);
    const lines = (await csv.text()).trim().split('\r\n');
    const bobs = everything.records.filter((r) => r.actor.user === 'bob');
    expect(lines).toHaveLength(bobs.length + 1);
  });

  it('switches language by query and remembers it', async () => {
    const first = await page('/console/audit?lang=zh-Hans');
    expect(await first.text()).toContain('<html lang="zh-Hans">');
    const cookie = first.headers.get('set-cookie')?.split(';')[0] ?? '';
    expect(cookie).toBe('signoff_lang=zh-Hans');
    const again = await (await page('/console/executions', { headers: { cookie } })).text();
    expect(again).toContain('<h2>执行</h2>');
    const header = await (
      await page('/console/executions', { headers: { 'accept-language': 'zh-TW' } })
    ).text();
    expect(header).toContain('<h2>執行</h2>');
  });

  it('lists executions of every kind by default, newest first, with previous and next pages', async () => {
    const { hook } = openedMergeRequest(rt.gitlab, 32);
    const newer = (await json<{ executionArn: string }>(await postGitLab(rt.urls.app, hook))).executionArn;
    const arns = (html: string) => [...html.matchAll(/data-execution-arn="([^"]+)"/g)].map((m) => m[1]);
    const first = await (await page('/console/executions?limit=1')).text();
    expect(first).toMatch(/<option value="" selected="">All workflows<\/option>/);
    expect(arns(first)).toEqual([newer]);
    expect(first).toContain('rel="next"');
    expect(first).not.toContain('rel="prev"');
    const next = first.match(/href="([^"]+)" rel="next"/)?.[1]?.replaceAll('&amp;', '&') ?? '';
    expect(next).toBe('/console/executions?limit=1&page=2');
    const second = await (await page(next)).text();
    expect(arns(second)).toEqual([executionArn]);
    expect(second).toContain('href="/console/executions?limit=1" rel="prev"');
    expect(second).toContain('<td data-label="Workflow">merge-request</td>');
    for (const bad of ['page=0', 'page=41', 'page=x', 'kind=nope'])
      expect((await page(`/console/executions?${bad}`)).status, bad).toBe(400);
  });
});
