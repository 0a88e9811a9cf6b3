import { inspect } from 'node:util';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ConfigError, IntegrationError } from '../../core/errors.ts';
import {
  createGitLabClient,
  type GitLabClient,
  GitLabError,
  MergeRequestChangedError,
  MergeRequestNotMergeableError,
} from '../../integrations/gitlab.ts';
import {
  type FakeMergeRequest,
  type GitLabFake,
  randomSha,
  startGitLabFake,
} from '../../local/demo/gitlab.ts';

const TOKEN = 'glpat-s3cret-value-xyz';

async function caught(promise: Promise<unknown>): Promise<unknown> {
  try {
    await promise;
  } catch (error) {
    return error;
  }
  throw new Error('expected a rejection');
}

/** Everything a logger might print about an error: message, stack and the whole cause chain. */
function everything(error: unknown): string {
  return `${String(error)}\n${inspect(error, { depth: 8, showHidden: true })}`;
}

describe('createGitLabClient', () => {
  let fake: GitLabFake;
  let client: GitLabClient;
  let mr: FakeMergeRequest;

  const calls = (method: string, suffix: string) =>
    fake.requests.filter((r) => r.method === method && r.path.endsWith(suffix));

  beforeEach(async () => {
    fake = await startGitLabFake({ token: TOKEN });
    client = createGitLabClient({ url: fake.url, token: TOKEN, timeoutMs: 2_000 });
    mr = fake.seedMergeRequest({
      projectId: 42,
      iid: 7,
      projectPath: 'platform/payments-api',
      title: 'Fix rounding of partial refunds',
      author: { id: 51, username: 'alice', name: 'Alice' },
      sourceBranch: 'fix-refund-rounding',
    });
  });

  afterEach(async () => {
    await fake.close();
  });

  it('reads a merge request into MergeRequestInfo', async () => {
    expect(await client.getMergeRequest(42, 7)).toEqual({
      projectId: 42,
      projectPath: 'platform/payments-api',
      iid: 7,
      title: 'Fix rounding of partial refunds',
      state: 'opened',
      sha: mr.sha,
      sourceBranch: 'fix-refund-rounding',
      targetBranch: 'main',
      author: 'alice',
      authorId: 51,
      authorName: 'Alice',
      webUrl: `${fake.url}/platform/payments-api/-/merge_requests/7`,
    });
    const [get] = fake.requests;
    expect(get).toMatchObject({ method: 'GET', path: '/api/v4/projects/42/merge_requests/7' });
    expect(get?.headers['private-token']).toBe('[redacted]');
  });

  it("lists a merge request's commits with their authors and committers, newest first", async () => {
    const first = mr.sha;
    const next = randomSha();
    fake.pushCommit(42, 7, next, { name: 'Bob', email: 'bob@example.com' });
    expect(await client.listMergeRequestCommits(42, 7)).toEqual([
      {
        sha: next,
        authorName: 'Bob',
        authorEmail: 'bob@example.com',
        committerName: 'Bob',
        committerEmail: 'bob@example.com',
      },
      {
        sha: first,
        authorName: 'Alice',
        authorEmail: 'alice@example.com',
        committerName: 'Alice',
        committerEmail: 'alice@example.com',
      },
    ]);
    expect(calls('GET', '/merge_requests/7/commits?per_page=100')).toHaveLength(1);
  });

  it('follows the pages of a long commit list to the last one', async () => {
    const first = mr.sha;
    for (let i = 0; i < 230; i++)
      fake.pushCommit(42, 7, randomSha(), { name: `Dev ${i}`, email: `dev${i}@x.test` });
    const commits = await client.listMergeRequestCommits(42, 7);
    expect(commits).toHaveLength(231);
    expect(commits.at(-1)?.sha).toBe(first);
    expect(fake.requests.filter((r) => r.path.includes('/merge_requests/7/commits'))).toHaveLength(3);
  });

  it('throws a retryable GitLabUnavailableError when listing commits fails with a 503, and a plain GitLabError on a 403', async () => {
    fake.failNext(1, { status: 503 });
    expect(await caught(client.listMergeRequestCommits(42, 7))).toMatchObject({
      name: 'GitLabUnavailableError',
      retryable: true,
    });
    fake.failNext(1, { status: 403 });
    const refused = await caught(client.listMergeRequestCommits(42, 7));
    expect(refused).toMatchObject({ name: 'GitLabError', retryable: false });
    expect((refused as Error).message).toContain('commits of !7');
  });

  it('approves and merges at the approved sha', async () => {
    await client.approve(42, 7, mr.sha);
    const result = await client.merge(42, 7, mr.sha);

    expect(result.alreadyMerged).toBe(false);
    expect(result.mergeCommitSha).toMatch(/^[0-9a-f]{40}$/);
    expect(fake.mergeRequest(42, 7)).toMatchObject({
      state: 'merged',
      mergeCommitSha: result.mergeCommitSha,
    });
    expect(calls('POST', '/merge_requests/7/approve').map((r) => r.body)).toEqual([{ sha: mr.sha }]);
    expect(calls('PUT', '/merge_requests/7/merge').map((r) => r.body)).toEqual([{ sha: mr.sha }]);
  });

  it('treats a second approval by the same user as done', async () => {
    await client.approve(42, 7, mr.sha);
    await client.approve(42, 7, mr.sha);
    expect(calls('POST', '/approve')).toHaveLength(2);
    expect(calls('GET', '/merge_requests/7/approvals')).toHaveLength(1);
    expect(fake.mergeRequest(42, 7)?.approvedBy).toHaveLength(1);
  });

  it('reports a merge already made at the sha without merging again', async () => {
    const first = await client.merge(42, 7, mr.sha);
    const second = await client.merge(42, 7, mr.sha);

    expect(second).toEqual({ mergeCommitSha: first.mergeCommitSha, alreadyMerged: true });
    expect(calls('PUT', '/merge_requests/7/merge')).toHaveLength(1);
  });

  it('merges without reading the merge request again when given the one just read, and explains a refusal when it moved since', async () => {
    const read = await client.getMergeRequest(42, 7);
    expect(calls('GET', '/merge_requests/7')).toHaveLength(1);
    expect((await client.merge(42, 7, mr.sha, read)).alreadyMerged).toBe(false);
    expect(calls('GET', '/merge_requests/7')).toHaveLength(1);
    expect(calls('PUT', '/merge_requests/7/merge')).toHaveLength(1);

    // Pushed to after it was read: GitLab refuses the merge at the old sha, the refusal is re-read.
    const approvedSha = fake.seedMergeRequest({ projectId: 42, iid: 11 }).sha;
    const stale = await client.getMergeRequest(42, 11);
    const moved = fake.mergeRequest(42, 11);
    if (!moved) throw new Error('seed failed');
    moved.sha = randomSha();
    expect(await caught(client.merge(42, 11, approvedSha, stale))).toMatchObject({
      name: 'MergeRequestChangedError',
    });
    expect(fake.mergeRequest(42, 11)?.state).toBe('opened');
  });

  it('reports a merge made elsewhere at the approved sha as already merged', async () => {
    const merged = fake.mergeRequest(42, 7);
    if (!merged) throw new Error('seed failed');
    merged.state = 'merged';
    merged.mergeCommitSha = randomSha();
    expect(await client.merge(42, 7, mr.sha)).toEqual({
      mergeCommitSha: merged.mergeCommitSha,
      alreadyMerged: true,
    });
    expect(calls('PUT', '/merge')).toHaveLength(0);
  });

  it('throws MergeRequestChangedError when the head moved before approval', async () => {
    const approved = mr.sha;
    fake.pushCommit(42, 7, randomSha());
    const error = await caught(client.approve(42, 7, approved));
    expect(error).toBeInstanceOf(MergeRequestChangedError);
    expect(error).toMatchObject({ name: 'MergeRequestChangedError', retryable: false });
    expect((error as Error).message).toContain('409 SHA does not match HEAD of source branch');
  });

  it('throws MergeRequestChangedError when the head moved before the merge, and merges nothing', async () => {
    const approved = mr.sha;
    await client.approve(42, 7, approved);
    fake.pushCommit(42, 7, randomSha());
    const error = await caught(client.merge(42, 7, approved));

    expect(error).toBeInstanceOf(MergeRequestChangedError);
    expect(error).toBeInstanceOf(GitLabError);
    expect(error).toBeInstanceOf(IntegrationError);
    expect(error).toMatchObject({ name: 'MergeRequestChangedError', retryable: false });
    expect((error as Error).cause).toBeDefined();
    expect(fake.mergeRequest(42, 7)?.state).toBe('opened');
  });

  it('throws MergeRequestChangedError when the merge request was merged at another sha', async () => {
    const approved = mr.sha;
    fake.pushCommit(42, 7, randomSha());
    await client.merge(42, 7, fake.mergeRequest(42, 7)?.sha ?? '');
    const error = await caught(client.merge(42, 7, approved));
    expect(error).toBeInstanceOf(MergeRequestChangedError);
  });

  it('throws MergeRequestNotMergeableError for a closed, draft or conflicting merge request', async () => {
    fake.seedMergeRequest({ projectId: 42, iid: 8, state: 'closed' });
    const draft = fake.seedMergeRequest({ projectId: 42, iid: 9, draft: true });
    const conflicted = fake.seedMergeRequest({ projectId: 42, iid: 10, hasConflicts: true });

    const closed = await caught(client.merge(42, 8, fake.mergeRequest(42, 8)?.sha ?? ''));
    const notReady = await caught(client.merge(42, 9, draft.sha));
    const conflict = await caught(client.merge(42, 10, conflicted.sha));

    for (const error of [closed, notReady, conflict]) {
      expect(error).toBeInstanceOf(MergeRequestNotMergeableError);
      expect(error).toMatchObject({ name: 'MergeRequestNotMergeableError', retryable: false });
    }
    expect((notReady as Error).message).toContain('405');
    expect((conflict as Error).message).toContain('422 Branch cannot be merged');
  });

  it('closes a merge request, and closing it again is fine', async () => {
    await client.close(42, 7);
    await client.close(42, 7);
    expect(fake.mergeRequest(42, 7)?.state).toBe('closed');
    expect(calls('PUT', '/merge_requests/7').map((r) => r.body)).toEqual([
      { state_event: 'close' },
      { state_event: 'close' },
    ]);
  });

  it('refuses to report a merged merge request as closed', async () => {
    await client.merge(42, 7, mr.sha);
    const error = await caught(client.close(42, 7));
    expect(error).toBeInstanceOf(GitLabError);
    expect(error).toMatchObject({ name: 'GitLabError', retryable: false });
  });

  it('adds a note', async () => {
    await client.addNote(42, 7, 'Rejected by bob: needs a migration plan');
    expect(fake.mergeRequest(42, 7)?.notes.map((n) => n.body)).toEqual([
      'Rejected by bob: needs a migration plan',
    ]);
    expect(calls('POST', '/merge_requests/7/notes').map((r) => r.body)).toEqual([
      { body: 'Rejected by bob: needs a migration plan' },
    ]);
  });

  it('does not hold calls back at a guess of GitLab.com’s limits: GitLab answers 429 itself', async () => {
    // gitbeaker's defaults queue a client's calls past 3,000 of one kind a minute, for the rest of
    // the minute: these would time out (2 s) without reaching GitLab.
    let failed = 0;
    for (let i = 0; i < 3050; i += 50)
      await Promise.all(
        Array.from({ length: 50 }, () => client.getMergeRequest(42, 7).catch(() => failed++)),
      );
    expect(failed).toBe(0);
    expect(calls('GET', '/merge_requests/7')).toHaveLength(3050);
  });

  it('throws a retryable GitLabUnavailableError on a 500', async () => {
    fake.failNext(1, { status: 500 });
    const error = await caught(client.addNote(42, 7, 'hello'));
    expect(error).toBeInstanceOf(GitLabError);
    expect(error).toMatchObject({ name: 'GitLabUnavailableError', retryable: true });
    expect((error as Error).message).toContain('500');
    expect((error as Error).cause).toBeDefined();
  });

  it('throws a retryable GitLabUnavailableError when 502s outlast gitbeaker’s own retries', async () => {
    fake.failNext(10, { status: 502 });
    const error = await caught(client.getMergeRequest(42, 7));
    expect(error).toMatchObject({ name: 'GitLabUnavailableError', retryable: true });
  });

  it('throws a retryable GitLabUnavailableError on a timeout', async () => {
    const impatient = createGitLabClient({ url: fake.url, token: TOKEN, timeoutMs: 200 });
    fake.failNext(1, 'timeout');
    const error = await caught(impatient.getMergeRequest(42, 7));
    expect(error).toMatchObject({ name: 'GitLabUnavailableError', retryable: true });
    expect((error as Error).message).toContain('timed out');
  });

  it('throws a retryable GitLabUnavailableError when GitLab cannot be reached', async () => {
    const gone = await startGitLabFake();
    await gone.close();
    const unreachable = createGitLabClient({ url: gone.url, token: TOKEN, timeoutMs: 2_000 });
    const error = await caught(unreachable.getMergeRequest(42, 7));
    expect(error).toMatchObject({ name: 'GitLabUnavailableError', retryable: true });
    expect((error as Error).message).toContain('network error');
  });

  it('throws a non-retryable GitLabError for a bad token', async () => {
    const wrong = createGitLabClient({ url: fake.url, token: 'glpat-wrong', timeoutMs: 2_000 });
    const error = await caught(wrong.getMergeRequest(42, 7));
    expect(error).toBeInstanceOf(GitLabError);
    expect(error).toMatchObject({ name: 'GitLabError', retryable: false });
    expect((error as Error).message).toContain('401 Unauthorized');
  });

  it('does not mistake a bad token for an earlier approval', async () => {
    const wrong = createGitLabClient({ url: fake.url, token: 'glpat-wrong', timeoutMs: 2_000 });
    const error = await caught(wrong.approve(42, 7, mr.sha));
    expect(error).toMatchObject({ name: 'GitLabError', retryable: false });
  });

  it('throws a non-retryable GitLabError for an unknown merge request', async () => {
    const error = await caught(client.getMergeRequest(42, 99));
    expect(error).toMatchObject({ name: 'GitLabError', retryable: false });
    expect((error as Error).message).toContain('404');
  });

  it('never puts the token in an error message, stack or cause', async () => {
    const errors: unknown[] = [];
    fake.failNext(1, { status: 500 });
    errors.push(await caught(client.getMergeRequest(42, 7)));
    errors.push(await caught(createGitLabClient({ url: fake.url, token: TOKEN.slice(0, -1) }).close(42, 7)));
    const approved = mr.sha; // `mr` is the fake's live record, so read the sha before the push
    fake.pushCommit(42, 7, randomSha());
    errors.push(await caught(client.merge(42, 7, approved)));
    errors.push(await caught(client.approve(42, 7, approved)));
    errors.push(await caught(client.getMergeRequest(42, 404)));
    fake.failNext(1, 'timeout');
    errors.push(
      await caught(createGitLabClient({ url: fake.url, token: TOKEN, timeoutMs: 100 }).addNote(42, 7, 'x')),
    );

    expect(errors).toHaveLength(6);
    expect(errors.map((e) => (e as Error).name)).toEqual([
      'GitLabUnavailableError',
      'GitLabError',
      'MergeRequestChangedError',
      'MergeRequestChangedError',
      'GitLabError',
      'GitLabUnavailableError',
    ]);
    for (const error of errors) {
      expect(error).toBeInstanceOf(GitLabError);
      expect(everything(error)).not.toContain(TOKEN);
      expect(everything(error)).not.toContain(TOKEN.slice(0, -1));
    }
  });

  it('rejects an unusable configuration', () => {
    expect(() => createGitLabClient({ url: 'not a url', token: TOKEN })).toThrow(ConfigError);
    expect(() => createGitLabClient({ url: fake.url, token: '' })).toThrow(ConfigError);
  });
});
