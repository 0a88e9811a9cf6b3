import { readFileSync } from 'node:fs';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  buildMergeRequestHook,
  DEMO_LABEL,
  type FakeMergeRequest,
  type GitLabFake,
  type MergeRequestHookAction,
  randomSha,
  startGitLabFake,
} from '../../../local/demo/gitlab.ts';

const fixture = (action: string): Record<string, unknown> =>
  JSON.parse(
    readFileSync(new URL(`../../fixtures/gitlab/merge_request_${action}.json`, import.meta.url), 'utf8'),
  );

/**
 * Lists where two JSON values differ in shape: object keys must match exactly, non-null leaves must
 * have the same type, arrays compare their first elements when both have one. `null` matches any type,
 * because GitLab sends null for unset values of every type.
 */
function shapeDifferences(actual: unknown, expected: unknown, path = '$'): string[] {
  if (actual === null || expected === null) return [];
  if (Array.isArray(expected) || Array.isArray(actual)) {
    if (!Array.isArray(expected) || !Array.isArray(actual)) return [`${path}: array vs non-array`];
    if (actual.length === 0 || expected.length === 0) return [];
    return shapeDifferences(actual[0], expected[0], `${path}[0]`);
  }
  if (typeof expected === 'object' && typeof actual === 'object') {
    const a = actual as Record<string, unknown>;
    const e = expected as Record<string, unknown>;
    const out: string[] = [];
    for (const k of Object.keys(e)) if (!(k in a)) out.push(`${path}.${k}: missing`);
    for (const k of Object.keys(a)) if (!(k in e)) out.push(`${path}.${k}: unexpected`);
    for (const k of Object.keys(e)) if (k in a) out.push(...shapeDifferences(a[k], e[k], `${path}.${k}`));
    return out;
  }
  return typeof actual === typeof expected ? [] : [`${path}: ${typeof actual} vs ${typeof expected}`];
}

describe('startGitLabFake', () => {
  let fake: GitLabFake;
  let mr: FakeMergeRequest;

  const api = (path: string, init: RequestInit = {}) =>
    fetch(`${fake.url}/api/v4${path}`, {
      ...init,
      headers: { 'content-type': 'application/json', 'private-token': fake.token, ...init.headers },
    });

  beforeEach(async () => {
    fake = await startGitLabFake({ token: 'glpat-test-secret' });
    mr = fake.seedMergeRequest({ projectId: 42, iid: 7, projectPath: 'platform/payments-api', title: 'Fix' });
  });

  afterEach(async () => {
    await fake.close();
  });

  it('listens on loopback with a random port', () => {
    expect(fake.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect(fake.url).not.toMatch(/:0$/);
  });

  it('serves a merge request by numeric id and by URL-encoded path, in GitLab shape', async () => {
    const byId = await api('/projects/42/merge_requests/7');
    const byPath = await api('/projects/platform%2Fpayments-api/merge_requests/7');
    expect(byId.status).toBe(200);
    const body = await byId.json();
    expect(await byPath.json()).toEqual(body);
    expect(body).toMatchObject({
      iid: 7,
      project_id: 42,
      title: 'Fix',
      state: 'opened',
      sha: mr.sha,
      source_branch: 'feature-7',
      target_branch: 'main',
      author: { username: 'alice', name: 'Alice' },
      web_url: `${fake.url}/platform/payments-api/-/merge_requests/7`,
      merge_commit_sha: null,
      merged_at: null,
      references: { full: 'platform/payments-api!7' },
    });
  });

  it('answers 401 JSON without the right PRIVATE-TOKEN', async () => {
    const wrong = await api('/projects/42/merge_requests/7', { headers: { 'private-token': 'nope' } });
    expect(wrong.status).toBe(401);
    expect(await wrong.json()).toEqual({ message: '401 Unauthorized' });
    const none = await fetch(`${fake.url}/api/v4/projects/42/merge_requests/7`);
    expect(none.status).toBe(401);
  });

  it('answers 404 for an unknown project or merge request', async () => {
    expect((await api('/projects/999/merge_requests/7')).status).toBe(404);
    const missing = await api('/projects/42/merge_requests/8');
    expect(missing.status).toBe(404);
    expect(await missing.json()).toEqual({ message: '404 Not found' });
  });

  it('records every API call with the token value redacted', async () => {
    await api('/projects/42/merge_requests/7/notes', {
      method: 'POST',
      body: JSON.stringify({ body: 'hi' }),
    });
    const [recorded] = fake.requests;
    expect(recorded).toMatchObject({
      method: 'POST',
      path: '/api/v4/projects/42/merge_requests/7/notes',
      body: { body: 'hi' },
    });
    expect(recorded?.headers['private-token']).toBe('[redacted]');
    expect(JSON.stringify(fake.requests)).not.toContain('glpat-test-secret');
  });

  it('approves at the head sha, 409s on another sha and 401s a second approval', async () => {
    const stale = await api('/projects/42/merge_requests/7/approve', {
      method: 'POST',
      body: JSON.stringify({ sha: randomSha() }),
    });
    expect(stale.status).toBe(409);
    expect(await stale.json()).toEqual({ message: `SHA does not match HEAD of source branch: ${mr.sha}` });

    const ok = await api('/projects/42/merge_requests/7/approve', {
      method: 'POST',
      body: JSON.stringify({ sha: mr.sha }),
    });
    expect(ok.status).toBe(201);
    expect(await ok.json()).toMatchObject({ user_has_approved: true, approved: true });

    const again = await api('/projects/42/merge_requests/7/approve', { method: 'POST', body: '{}' });
    expect(again.status).toBe(401);
    expect(mr.approvedBy.map((u) => u.username)).toEqual(['signoff-bot']);
  });

  it('resets approvals and moves the head on pushCommit', async () => {
    await api('/projects/42/merge_requests/7/approve', { method: 'POST', body: '{}' });
    const next = randomSha();
    fake.pushCommit(42, 7, next);
    expect(fake.mergeRequest(42, 7)).toMatchObject({ sha: next, approvedBy: [] });
  });

  it('merges at the head sha and refuses other shas (409) and non-open merge requests (405)', async () => {
    const stale = await api('/projects/42/merge_requests/7/merge', {
      method: 'PUT',
      body: JSON.stringify({ sha: randomSha() }),
    });
    expect(stale.status).toBe(409);
    expect(((await stale.json()) as { message: string }).message).toMatch(/^SHA does not match HEAD/);

    const ok = await api('/projects/42/merge_requests/7/merge', {
      method: 'PUT',
      body: JSON.stringify({ sha: mr.sha }),
    });
    expect(ok.status).toBe(200);
    const merged = (await ok.json()) as Record<string, unknown>;
    expect(merged).toMatchObject({ state: 'merged', sha: mr.sha });
    expect(merged.merge_commit_sha).toMatch(/^[0-9a-f]{40}$/);
    expect(merged.merged_at).toEqual(expect.any(String));

    const twice = await api('/projects/42/merge_requests/7/merge', {
      method: 'PUT',
      body: JSON.stringify({ sha: mr.sha }),
    });
    expect(twice.status).toBe(405);
    expect(await twice.json()).toEqual({ message: '405 Method Not Allowed' });
  });

  it('answers 422 "Branch cannot be merged" when the merge request has conflicts', async () => {
    fake.seedMergeRequest({ projectId: 42, iid: 8, hasConflicts: true });
    const res = await api('/projects/42/merge_requests/8/merge', { method: 'PUT', body: '{}' });
    expect(res.status).toBe(422);
    expect(await res.json()).toEqual({ message: 'Branch cannot be merged' });
  });

  it('closes and reopens with state_event, ignoring a close of a closed merge request', async () => {
    const close = () =>
      api('/projects/42/merge_requests/7', { method: 'PUT', body: JSON.stringify({ state_event: 'close' }) });
    expect(await (await close()).json()).toMatchObject({ state: 'closed' });
    const again = await close();
    expect(again.status).toBe(200);
    expect(await again.json()).toMatchObject({ state: 'closed' });
    const reopen = await api('/projects/42/merge_requests/7', {
      method: 'PUT',
      body: JSON.stringify({ state_event: 'reopen' }),
    });
    expect(await reopen.json()).toMatchObject({ state: 'opened', closed_at: null });
  });

  it('creates notes (201) and rejects an empty body (400)', async () => {
    const created = await api('/projects/42/merge_requests/7/notes', {
      method: 'POST',
      body: JSON.stringify({ body: 'Rejected by bob: not now' }),
    });
    expect(created.status).toBe(201);
    expect(await created.json()).toMatchObject({
      body: 'Rejected by bob: not now',
      noteable_type: 'MergeRequest',
      noteable_iid: 7,
      author: { username: 'signoff-bot' },
    });
    expect(fake.mergeRequest(42, 7)?.notes).toHaveLength(1);
    const empty = await api('/projects/42/merge_requests/7/notes', { method: 'POST', body: '{}' });
    expect(empty.status).toBe(400);
  });

  it('fails the next calls as told, then recovers', async () => {
    fake.failNext(2, { status: 503 });
    const first = await api('/projects/42/merge_requests/7');
    expect(first.status).toBe(503);
    expect(await first.json()).toEqual({ message: '503 Service Unavailable' });
    expect((await api('/projects/42/merge_requests/7')).status).toBe(503);
    expect((await api('/projects/42/merge_requests/7')).status).toBe(200);
  });

  it('fails only the calls whose path contains the given part, leaving the others alone', async () => {
    fake.failNext(1, { status: 403 }, '/commits');
    expect((await api('/projects/42/merge_requests/7')).status).toBe(200);
    expect((await api('/projects/42/merge_requests/7/commits')).status).toBe(403);
    expect((await api('/projects/42/merge_requests/7/commits')).status).toBe(200);
  });

  it('lists merge request commits newest first, in GitLab shape, with offset pagination headers', async () => {
    const first = mr.sha;
    const next = randomSha();
    fake.pushCommit(42, 7, next, { name: 'Bob', email: 'bob@example.com' });
    const all = await api('/projects/42/merge_requests/7/commits');
    expect(all.status).toBe(200);
    const commits = (await all.json()) as Array<Record<string, unknown>>;
    expect(commits.map((c) => c.id)).toEqual([next, first]);
    expect(commits[0]).toMatchObject({
      short_id: next.slice(0, 8),
      title: `Push ${next.slice(0, 8)}`,
      author_name: 'Bob',
      author_email: 'bob@example.com',
      committer_name: 'Bob',
      committer_email: 'bob@example.com',
      parent_ids: [first],
      web_url: `${fake.url}/platform/payments-api/-/commit/${next}`,
    });
    // The seeded head is the author's (the fake's default author, Alice).
    expect(commits[1]).toMatchObject({ author_name: 'Alice', author_email: 'alice@example.com' });
    for (const field of ['created_at', 'authored_date', 'committed_date', 'message', 'trailers'])
      expect(commits[0], field).toHaveProperty(field);

    const page = await api('/projects/42/merge_requests/7/commits?per_page=1');
    expect((await page.json()) as unknown[]).toHaveLength(1);
    expect(page.headers.get('x-total')).toBe('2');
    expect(page.headers.get('x-total-pages')).toBe('2');
    expect(page.headers.get('x-next-page')).toBe('2');
    expect(page.headers.get('link')).toMatch(/<http:\/\/[^>]+[?&]page=2[^>]*>; rel="next"/);
    const last = await api('/projects/42/merge_requests/7/commits?per_page=1&page=2');
    expect(((await last.json()) as Array<{ id: string }>)[0]?.id).toBe(first);
    expect(last.headers.get('x-next-page')).toBe('');
    expect(last.headers.get('link')).not.toContain('rel="next"');
  });

  it('holds a "timeout" call until the client aborts', async () => {
    fake.failNext(1, 'timeout');
    const controller = new AbortController();
    const pending = api('/projects/42/merge_requests/7', { signal: controller.signal });
    await expect.poll(() => fake.requests.length).toBe(1);
    controller.abort();
    await expect(pending).rejects.toThrow();
    expect((await api('/projects/42/merge_requests/7')).status).toBe(200);
  });

  it('creates demo merge requests with a random 40-hex sha and lists recorded calls', async () => {
    const res = await fetch(`${fake.url}/__demo/merge_requests`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ title: 'Demo change', author: { username: 'carol' } }),
    });
    expect(res.status).toBe(201);
    const created = (await res.json()) as { iid: number; project_id: number; sha: string; author: unknown };
    expect(created).toMatchObject({
      project_id: 1,
      iid: 1,
      title: 'Demo change',
      author: { username: 'carol' },
    });
    expect(created.sha).toMatch(/^[0-9a-f]{40}$/);
    expect(fake.mergeRequest(1, 1)?.sha).toBe(created.sha);

    const second = (await (
      await fetch(`${fake.url}/__demo/merge_requests`, { method: 'POST', body: '{}' })
    ).json()) as { iid: number };
    expect(second.iid).toBe(2);

    const bad = await fetch(`${fake.url}/__demo/merge_requests`, {
      method: 'POST',
      body: JSON.stringify({ iid: 'one' }),
    });
    expect(bad.status).toBe(400);

    await api('/projects/1/merge_requests/1');
    const recorded = (await (await fetch(`${fake.url}/__demo/requests`)).json()) as { path: string }[];
    expect(recorded.map((r) => r.path)).toEqual(['/api/v4/projects/1/merge_requests/1']);
  });

  it('serves a labelled HTML page listing the recorded calls', async () => {
    await api('/projects/42/merge_requests/7');
    const page = await fetch(`${fake.url}/`);
    expect(page.headers.get('content-type')).toMatch(/^text\/html/);
    const html = await page.text();
    expect(html).toContain(DEMO_LABEL);
    expect(html).toContain('/api/v4/projects/42/merge_requests/7');
    expect(html).not.toContain('glpat-test-secret');
  });
});

describe('buildMergeRequestHook', () => {
  const baseUrl = 'https://gitlab.example.com';
  const mr: FakeMergeRequest = {
    id: 99,
    projectId: 42,
    projectPath: 'platform/payments-api',
    iid: 7,
    title: 'Fix rounding of partial refunds',
    description: 'Round half-even.',
    state: 'opened',
    sha: 'da1560886d4f094c3e6c9ef40349f7d38b5d27d7',
    lastCommitMessage: 'Round partial refunds half-even\n',
    sourceBranch: 'fix-refund-rounding',
    targetBranch: 'main',
    author: { id: 51, username: 'alice', name: 'Alice Example' },
    draft: false,
    labels: ['needs-approval'],
    hasConflicts: false,
    mergeCommitSha: null,
    mergedAt: null,
    mergedBy: null,
    closedAt: null,
    closedBy: null,
    createdAt: '2026-01-12T10:02:11.000Z',
    updatedAt: '2026-01-12T11:30:05.000Z',
    approvedBy: [],
    notes: [],
    commits: [
      {
        id: 'da1560886d4f094c3e6c9ef40349f7d38b5d27d7',
        message: 'Round partial refunds half-even\n',
        authorName: 'Alice Example',
        authorEmail: 'alice@example.com',
        committerName: 'Alice Example',
        committerEmail: 'alice@example.com',
        createdAt: '2026-01-12T11:30:05.000Z',
        parentIds: ['95790bf891e76fee5e1747ab589903a6a1f80f22'],
      },
    ],
  };
  const merged: FakeMergeRequest = {
    ...mr,
    state: 'merged',
    mergeCommitSha: '0b4bc9a49b562e85de7cc9e834518ea6828729b9',
    mergedBy: { id: 2, username: 'signoff-bot', name: 'Signoff Bot' },
  };
  const cases: { action: MergeRequestHookAction; source: FakeMergeRequest; oldrev?: string }[] = [
    { action: 'open', source: mr },
    { action: 'reopen', source: mr },
    { action: 'update', source: mr, oldrev: '95790bf891e76fee5e1747ab589903a6a1f80f22' },
    { action: 'close', source: mr },
    { action: 'merge', source: merged },
    { action: 'approved', source: mr },
  ];

  it.each(cases)('has the shape of the GitLab docs payload for "$action"', ({ action, source, oldrev }) => {
    const expected = fixture(action);
    const hook = buildMergeRequestHook(source, {
      action,
      actor: { username: 'bob', name: 'Bob Example', id: 52 },
      baseUrl,
      ...(oldrev ? { oldrev } : {}),
    });
    expect(shapeDifferences(hook, expected)).toEqual([]);
    const attributes = (hook as { object_attributes: Record<string, unknown> }).object_attributes;
    const expectedAttributes = expected.object_attributes as Record<string, unknown>;
    for (const field of ['action', 'state', 'state_id', 'iid', 'source_branch', 'target_branch', 'url']) {
      expect(attributes[field], field).toEqual(expectedAttributes[field]);
    }
    expect(hook).toMatchObject({
      object_kind: 'merge_request',
      event_type: 'merge_request',
      user: { username: 'bob', id: 52 },
      project: {
        id: 42,
        path_with_namespace: 'platform/payments-api',
        web_url: `${baseUrl}/platform/payments-api`,
      },
      object_attributes: { last_commit: { id: mr.sha } },
    });
  });

  it('carries oldrev only when given, and the merge commit only once merged', () => {
    const open = buildMergeRequestHook(mr, { action: 'update', actor: { username: 'alice' }, baseUrl }) as {
      object_attributes: Record<string, unknown>;
    };
    expect(open.object_attributes).not.toHaveProperty('oldrev');
    expect(open.object_attributes.merge_commit_sha).toBeNull();
    const done = buildMergeRequestHook(merged, {
      action: 'merge',
      actor: { username: 'signoff-bot' },
      baseUrl,
    }) as {
      object_attributes: Record<string, unknown>;
    };
    expect(done.object_attributes.merge_commit_sha).toBe(merged.mergeCommitSha);
  });

  it('gives the same actor the same id across hooks', () => {
    const idOf = (hook: object) => (hook as { user: { id: number } }).user.id;
    const a = buildMergeRequestHook(mr, { action: 'approved', actor: { username: 'carol' }, baseUrl });
    const b = buildMergeRequestHook(mr, { action: 'close', actor: { username: 'carol' }, baseUrl });
    expect(idOf(a)).toBe(idOf(b));
  });
});
