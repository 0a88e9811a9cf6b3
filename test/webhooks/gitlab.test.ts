import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ListExecutionsCommand } from '@aws-sdk/client-sfn';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Approval } from '../../core/approvals/types.ts';
import { buildMergeRequestHook, type GitLabFake, startGitLabFake } from '../../local/demo/gitlab.ts';
import { signGitLabBody } from '../../webhooks/verify-gitlab.ts';
import { startTestApp, type TestApp } from '../support/app.ts';
import {
  json,
  openedMergeRequest,
  pendingFor,
  postGitLab,
  startTestRuntime,
  type TestRuntime,
  WEBHOOK_TOKEN,
} from '../support/runtime.ts';

const MACHINE = 'arn:aws:states:us-east-1:123456789012:stateMachine:signoff-merge-request';

/**
 * Verification and bad input on an app built with in-memory ports (no engine, no workflow runs):
 * `app.started` is every StartExecution the route asked for.
 */
let web: TestApp;
let hook: object;
beforeAll(async () => {
  demoGitLab = await startGitLabFake();
  web = await startTestApp();
  hook = openedMergeRequest(startedGitLab(), 1).hook;
});
afterAll(async () => {
  await web.close();
  await demoGitLab?.close();
});

let demoGitLab: GitLabFake | undefined;
/** A GitLab stand-in only to build realistic hooks (the in-memory app never calls it). */
function startedGitLab(): GitLabFake {
  if (!demoGitLab) throw new Error('start the GitLab stand-in first');
  return demoGitLab;
}

function withAttributes(changes: Record<string, unknown>): object {
  const copy = structuredClone(hook) as { object_attributes: Record<string, unknown> };
  Object.assign(copy.object_attributes, changes);
  return copy;
}

describe('POST /webhooks/gitlab with bad input', () => {
  const post = (body: unknown, headers?: Record<string, string>) => web.postGitLab(body, headers);
  const cases: Array<[string, () => Promise<Response>, number]> = [
    ['no token', () => post(hook, { 'x-gitlab-token': '' }), 401],
    ['a wrong token', () => post(hook, { 'x-gitlab-token': `${WEBHOOK_TOKEN}x` }), 401],
    [
      'a token differing in its last character',
      () => post(hook, { 'x-gitlab-token': `${WEBHOOK_TOKEN.slice(0, -1)}X` }),
      401,
    ],
    ['malformed JSON', () => post('{"object_kind":'), 400],
    ['an empty body', () => post(''), 400],
    ['a JSON array', () => post('[]'), 400],
    ['the wrong content type', () => post(JSON.stringify(hook), { 'content-type': 'text/plain' }), 415],
    ['an oversized body', () => post(JSON.stringify({ pad: 'x'.repeat(2 * 1024 * 1024) })), 413],
    ['no event header', () => post(hook, { 'x-gitlab-event': '' }), 400],
    ['a wrong field type', () => post(withAttributes({ iid: 'one' })), 400],
    ['a bad commit id', () => post(withAttributes({ last_commit: { id: 'not-a-sha' } })), 400],
    ['invalid UTF-8', () => post(Buffer.from([0x7b, 0xff, 0xfe, 0x7d])), 400],
  ];

  for (const [name, send, status] of cases) {
    it(`answers ${status} with a JSON error for ${name}, and starts nothing`, async () => {
      const response = await send();
      expect(response.status).toBe(status);
      const body = (await response.json()) as { error?: { code?: string; message?: string } };
      expect(body.error?.message).toEqual(expect.any(String));
      expect(JSON.stringify(body)).not.toContain(WEBHOOK_TOKEN);
      expect(web.started).toEqual([]);
    });
  }

  it('acknowledges events it does not act on without starting anything', async () => {
    const response = await post({ object_kind: 'push' }, { 'x-gitlab-event': 'Push Hook' });
    expect(response.status).toBe(202);
    expect(web.started).toEqual([]);
  });

  it('answers a verified event it does not know with 200 and "ignored", and starts nothing', async () => {
    // An error would count towards GitLab disabling the hook (4 failures in a row).
    const response = await post(hook, { 'x-gitlab-event': 'Made Up Hook' });
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({ ignored: 'X-Gitlab-Event "Made Up Hook" is not handled' });
    expect(web.started).toEqual([]);
  });

  it('still refuses an unknown event that fails verification', async () => {
    const response = await post(hook, { 'x-gitlab-event': 'Made Up Hook', 'x-gitlab-token': 'wrong' });
    expect(response.status).toBe(401);
  });

  it('ignores merge request actions that need no approval', async () => {
    const response = await post(withAttributes({ action: 'approved' }));
    expect(response.status).toBe(202);
    expect(await response.json()).toMatchObject({ ignored: expect.any(String) });
    expect(web.started).toEqual([]);
  });

  it('starts the workflow for a good delivery (so the refusals above are refusals)', async () => {
    const response = await post(hook);
    expect(response.status).toBe(202);
    expect(web.started.map((s) => s.kind)).toEqual(['merge-request']);
    web.started.length = 0;
  });
});

describe('POST /webhooks/gitlab with a signing token configured', () => {
  const SIGNING = `whsec_${Buffer.from('a signing secret of 32 bytes....').toString('base64')}`;
  let signed: TestApp;
  beforeAll(async () => {
    signed = await startTestApp({ gitlabSigningToken: SIGNING });
  });
  afterAll(async () => {
    await signed?.close();
  });

  function signatureHeaders(body: string, id = `msg_${randomUUID()}`): Record<string, string> {
    const timestamp = Math.floor(Date.now() / 1000);
    return {
      'webhook-id': id,
      'idempotency-key': id,
      'webhook-timestamp': String(timestamp),
      'webhook-signature': signGitLabBody(body, SIGNING, id, timestamp),
    };
  }

  it('refuses a delivery with the right X-Gitlab-Token but no signature (no downgrade), and starts nothing', async () => {
    const { hook: opened } = openedMergeRequest(startedGitLab(), 11);
    const response = await signed.postGitLab(opened);
    expect(response.status).toBe(401);
    expect(await response.json()).toMatchObject({
      error: { message: expect.stringMatching(/webhook-signature/) },
    });
    expect(signed.started).toEqual([]);
  });

  it('accepts the signed delivery, and answers a verified unknown event with 200', async () => {
    const { hook: opened } = openedMergeRequest(startedGitLab(), 12);
    const body = JSON.stringify(opened);
    const response = await signed.postGitLab(body, signatureHeaders(body));
    expect(response.status).toBe(202);
    expect(await response.json()).toMatchObject({ started: true });
    expect(signed.started).toHaveLength(1);

    const unknown = await signed.postGitLab(body, {
      'x-gitlab-event': 'Made Up Hook',
      ...signatureHeaders(body),
    });
    expect(unknown.status).toBe(200);
    expect(await unknown.json()).toMatchObject({ ignored: expect.any(String) });
  });

  it('refuses an unknown event without a signature', async () => {
    const response = await signed.postGitLab('{}', { 'x-gitlab-event': 'Made Up Hook' });
    expect(response.status).toBe(401);
  });
});

describe('GitLab deliveries across a restart', () => {
  let dir: string;
  let runtime: TestRuntime | undefined;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'signoff-gitlab-'));
  });
  afterAll(async () => {
    await runtime?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  /** Stop the runtime and start another on the same data: nothing in memory survives. */
  async function restart(): Promise<TestRuntime> {
    await runtime?.stop();
    runtime = await startTestRuntime(undefined, dir);
    return runtime;
  }

  async function executionNames(rt: TestRuntime): Promise<string[]> {
    const out = await rt.sfn.send(new ListExecutionsCommand({ stateMachineArn: MACHINE }));
    return (out.executions ?? []).map((e) => e.name ?? '').sort();
  }

  it('answers a delivery whose Idempotency-Key it processed before a restart from the store, starting nothing', async () => {
    let rt = await restart();
    const { hook: opened } = openedMergeRequest(rt.gitlab, 1);
    const key = randomUUID();
    const first = await postGitLab(rt.urls.app, opened, { 'idempotency-key': key });
    expect(first.status).toBe(202);
    const answer = await json(first);
    expect(answer).toMatchObject({ started: true });

    rt = await restart();
    // The key is what is remembered, not the body: another merge request's body under it starts
    // nothing (Step Functions' idempotency on the execution name would not catch this one).
    const other = openedMergeRequest(rt.gitlab, 2).hook;
    const reused = await postGitLab(rt.urls.app, other, { 'idempotency-key': key });
    expect(reused.status).toBe(202);
    expect(await json(reused)).toEqual(answer);
    // GitLab's retry or "Resend" of that delivery, after the restart.
    const again = await postGitLab(rt.urls.app, opened, { 'idempotency-key': key });
    expect(again.status).toBe(202);
    expect(await json(again)).toEqual(answer);
    expect(await executionNames(rt)).toHaveLength(1);
  });

  it('leaves the newer approval alone when an older push is redelivered after a restart', async () => {
    let rt = await restart();
    const { mr, hook: opened } = openedMergeRequest(rt.gitlab, 3);
    const started = await json<{ executionArn: string }>(await postGitLab(rt.urls.app, opened));
    await pendingFor(rt, started.executionArn);
    const pushX = pushHook(rt, mr.projectId, mr.iid, 'c'.repeat(40), mr.sha);
    const pushY = pushHook(rt, mr.projectId, mr.iid, 'd'.repeat(40), 'c'.repeat(40));
    const keyX = randomUUID();
    const x = await json<{ executionArn: string }>(
      await postGitLab(rt.urls.app, pushX, { 'idempotency-key': keyX }),
    );
    await pendingFor(rt, x.executionArn);
    const y = await json<{ executionArn: string; cancelled: string[] }>(await postGitLab(rt.urls.app, pushY));
    const newer = await pendingFor(rt, y.executionArn);
    const before = await executionNames(rt);

    rt = await restart();
    // Without an Idempotency-Key (an older GitLab, or one the store no longer has): the order decides.
    const late = await postGitLab(rt.urls.app, pushX);
    expect(late.status).toBe(202);
    expect(await json(late)).toMatchObject({
      ignored: expect.stringMatching(/older than the pending approval/),
    });
    // With its key: the answer it got the first time, and again nothing changes.
    const resent = await postGitLab(rt.urls.app, pushX, { 'idempotency-key': keyX });
    expect(resent.status).toBe(202);
    expect(await json(resent)).toMatchObject({ executionArn: x.executionArn });

    expect(await approvalStatus(rt, newer.approvalId)).toBe('pending');
    expect(await executionNames(rt)).toEqual(before);
  });
});

describe('merge request events out of order', () => {
  /** GitLab's updated_at of the "open" events below; the later events are given later times. */
  const OPENED_AT = '2026-01-12T11:29:00Z';
  let rt: TestRuntime;
  beforeAll(async () => {
    rt = await startTestRuntime();
  });
  afterAll(async () => {
    await rt?.stop();
  });

  /** Open !iid, push X, push Y: the hooks of both pushes, Y's delivered, and Y's pending approval. */
  async function twoPushes(iid: number, times: { x: string; y: string }) {
    const { mr, hook } = openedMergeRequest(rt.gitlab, iid);
    const opened = withTime(hook, OPENED_AT);
    await pendingFor(
      rt,
      (await json<{ executionArn: string }>(await postGitLab(rt.urls.app, opened))).executionArn,
    );
    const x = 'e'.repeat(39) + String(iid % 10);
    const y = 'f'.repeat(39) + String(iid % 10);
    const pushX = pushHook(rt, mr.projectId, mr.iid, x, mr.sha, times.x);
    const pushY = pushHook(rt, mr.projectId, mr.iid, y, x, times.y);
    const delivered = await json<{ executionArn: string; started: boolean }>(
      await postGitLab(rt.urls.app, pushY),
    );
    expect(delivered.started).toBe(true);
    return { pushX, pushY, newer: await pendingFor(rt, delivered.executionArn), x };
  }

  async function executionsFor(iid: number): Promise<string[]> {
    const out = await rt.sfn.send(new ListExecutionsCommand({ stateMachineArn: MACHINE }));
    return (out.executions ?? []).map((e) => e.name ?? '').filter((name) => name.startsWith(`mr-7-${iid}-`));
  }

  it('a push delivered after a newer one neither cancels its approval nor starts one for the old head (earlier updated_at)', async () => {
    const { pushX, newer, x } = await twoPushes(11, { x: '2026-01-12T11:30:05Z', y: '2026-01-12T11:30:09Z' });
    const late = await postGitLab(rt.urls.app, pushX, { 'idempotency-key': randomUUID() });
    expect(late.status).toBe(202);
    expect(await json(late)).toMatchObject({ ignored: expect.any(String), approvalId: newer.approvalId });
    expect(await approvalStatus(rt, newer.approvalId)).toBe('pending');
    expect((await executionsFor(11)).some((name) => name.includes(x.slice(0, 12)))).toBe(false);
  });

  it('within the same second, the push that left this head is the newer one', async () => {
    const at = '2026-01-12T11:30:05Z';
    const { pushX, newer } = await twoPushes(12, { x: at, y: at });
    const late = await postGitLab(rt.urls.app, pushX);
    expect(await json(late)).toMatchObject({ ignored: expect.any(String) });
    expect(await approvalStatus(rt, newer.approvalId)).toBe('pending');
  });

  it('a newer push still replaces the pending approval, in the same second too', async () => {
    const at = '2026-01-12T11:30:05Z';
    const { newer } = await twoPushes(13, { x: at, y: at });
    const mr = rt.gitlab.mergeRequest(7, 13);
    if (!mr) throw new Error('MR vanished');
    const pushZ = pushHook(rt, 7, 13, '9'.repeat(40), mr.sha, at);
    const z = await json<{ started: boolean; cancelled: string[] }>(await postGitLab(rt.urls.app, pushZ));
    expect(z).toMatchObject({ started: true, cancelled: [newer.approvalId] });
  });

  it('a close delivered after a reopen leaves the reopened approval alone', async () => {
    const { mr, hook } = openedMergeRequest(rt.gitlab, 14);
    const opened = withTime(hook, OPENED_AT);
    await pendingFor(
      rt,
      (await json<{ executionArn: string }>(await postGitLab(rt.urls.app, opened))).executionArn,
    );
    const close = withTime(
      buildMergeRequestHook(mr, { action: 'close', actor: { username: 'alice' }, baseUrl: rt.gitlab.url }),
      '2026-01-12T11:30:05Z',
    );
    expect(await json(await postGitLab(rt.urls.app, close))).toMatchObject({
      cancelled: [expect.any(String)],
    });
    const reopen = withTime(
      buildMergeRequestHook(mr, { action: 'reopen', actor: { username: 'alice' }, baseUrl: rt.gitlab.url }),
      '2026-01-12T11:31:00Z',
    );
    const reopened = await json<{ executionArn: string }>(await postGitLab(rt.urls.app, reopen));
    const approval = await pendingFor(rt, reopened.executionArn);
    // The close again, as GitLab would resend it (a new delivery id, so the store does not know it).
    const late = await postGitLab(rt.urls.app, close, { 'idempotency-key': randomUUID() });
    expect(await json(late)).toMatchObject({ ignored: expect.any(String) });
    expect(await approvalStatus(rt, approval.approvalId)).toBe('pending');
  });
});

/** Push `sha` onto !iid in the GitLab stand-in and build its "update" hook (optionally at a given updated_at). */
function pushHook(rt: TestRuntime, projectId: number, iid: number, sha: string, oldrev: string, at?: string) {
  rt.gitlab.pushCommit(projectId, iid, sha);
  const mr = rt.gitlab.mergeRequest(projectId, iid);
  if (!mr) throw new Error('MR vanished');
  const hook = buildMergeRequestHook(mr, {
    action: 'update',
    actor: { username: 'alice' },
    oldrev,
    baseUrl: rt.gitlab.url,
  });
  return at ? withTime(hook, at) : hook;
}

function withTime(hook: object, updatedAt: string): object {
  const copy = structuredClone(hook) as { object_attributes: Record<string, unknown> };
  copy.object_attributes.updated_at = updatedAt;
  return copy;
}

async function approvalStatus(rt: TestRuntime, approvalId: string): Promise<string> {
  const body = await json<{ approval: Approval }>(
    await fetch(`${rt.urls.app}/console/api/approvals/${approvalId}`),
  );
  return body.approval.status;
}
