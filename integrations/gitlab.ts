import { GitbeakerRequestError, GitbeakerRetryError, GitbeakerTimeoutError, Gitlab } from '@gitbeaker/rest';
import { z } from 'zod';
import { ConfigError, IntegrationError } from '../core/errors.ts';

export interface GitLabConfig {
  /** Instance base URL, e.g. `https://gitlab.example.com` (no `/api/v4`). */
  url: string;
  /** Personal, project or group access token with the `api` scope; sent as `PRIVATE-TOKEN`. */
  token: string;
  /** Per-call timeout, including gitbeaker's own 429/502 retries. Default 30 s. */
  timeoutMs?: number;
}

export type MergeRequestState = 'opened' | 'closed' | 'merged' | 'locked';

export interface MergeRequestInfo {
  projectId: number;
  projectPath: string;
  iid: number;
  title: string;
  state: MergeRequestState;
  /** Head of the source branch (GitLab's `sha`, the diff head). */
  sha: string;
  sourceBranch: string;
  targetBranch: string;
  /** Author username. */
  author: string;
  /** Author's GitLab user id (the hook's `object_attributes.author_id`). */
  authorId: number;
  /** Author's display name. */
  authorName: string;
  webUrl: string;
  mergeCommitSha?: string;
}

/** One commit of a merge request as `GET …/merge_requests/:iid/commits` lists it. */
export interface CommitInfo {
  sha: string;
  authorName: string;
  authorEmail: string;
  committerName: string;
  committerEmail: string;
}

export interface MergeResult {
  mergeCommitSha?: string;
  /** The merge request was already merged at the requested sha, so no merge was sent. */
  alreadyMerged: boolean;
}

export interface GitLabClient {
  getMergeRequest(projectId: number, iid: number): Promise<MergeRequestInfo>;
  /** Every commit of the merge request (all pages), newest first. */
  listMergeRequestCommits(projectId: number, iid: number): Promise<CommitInfo[]>;
  /** Approves at `sha`; succeeds when this token's user has already approved. */
  approve(projectId: number, iid: number, sha: string): Promise<void>;
  /**
   * Merges only if the source head is still `sha`; a merge already made at `sha` is reported, not
   * repeated. `read`: the merge request as the caller has just read it, so it is not read again
   * (GitLab refuses the merge if it changed since; the refusal is then re-read and explained).
   */
  merge(projectId: number, iid: number, sha: string, read?: MergeRequestInfo): Promise<MergeResult>;
  /** Closes the merge request; an already-closed one is fine. */
  close(projectId: number, iid: number): Promise<void>;
  addNote(projectId: number, iid: number, body: string): Promise<void>;
  /** The commit a branch or tag points at now (`GET /projects/:id/repository/commits/:ref`). */
  getCommit(project: string | number, ref: string): Promise<{ sha: string; title: string; webUrl?: string }>;
  /** Commits in `to` that are not in `from`, oldest first (`GET /projects/:id/repository/compare`). */
  compare(
    project: string | number,
    from: string,
    to: string,
  ): Promise<Array<{ sha: string; title: string; authorName: string }>>;
  /** `POST /projects/:id/pipeline` with `ref` and JSON variables (never a trigger token). */
  createPipeline(
    project: string | number,
    ref: string,
    variables: Record<string, string>,
  ): Promise<PipelineInfo>;
  /** `GET /projects/:id/pipelines/:pipeline_id` (the reconciler). */
  getPipeline(project: string | number, pipelineId: number): Promise<PipelineInfo>;
  /** `POST /projects/:id/pipelines/:pipeline_id/cancel` (a release that timed out). */
  cancelPipeline(project: string | number, pipelineId: number): Promise<void>;
}

/** A pipeline as the pipelines API answers it. */
export interface PipelineInfo {
  id: number;
  projectId: number;
  status: string;
  ref: string;
  sha: string;
  webUrl?: string;
  /** Seconds it ran, once finished. */
  duration?: number;
  finishedAt?: string;
}

/** A GitLab call failed. `retryable` is true for 5xx, 408, 429, timeouts and network failures. */
export class GitLabError extends IntegrationError {}

/**
 * GitLab answered 5xx, 408 or 429, timed out or could not be reached. Its own class because the
 * ASL retries by error name: a plain GitLabError (401, 403, 404) is not retried.
 */
export class GitLabUnavailableError extends GitLabError {
  constructor(message: string, options?: ErrorOptions) {
    super(message, { ...options, retryable: true });
  }
}

/** The merge request's head is no longer the approved sha (GitLab 409, or 422 naming the SHA). Not retryable. */
export class MergeRequestChangedError extends GitLabError {
  constructor(message: string, options?: ErrorOptions) {
    super(message, { ...options, retryable: false });
  }
}

/** GitLab refused to merge: draft, closed, conflicts, pipeline or approvals pending (405/406/422). Not retryable. */
export class MergeRequestNotMergeableError extends GitLabError {
  constructor(message: string, options?: ErrorOptions) {
    super(message, { ...options, retryable: false });
  }
}

const DEFAULT_TIMEOUT_MS = 30_000;
const TOKEN_HEADERS = ['private-token', 'authorization', 'job-token'];

const UserRef = z.object({ id: z.number().int(), username: z.string(), name: z.string() });

const MergeRequestBody = z.object({
  iid: z.number().int(),
  project_id: z.number().int(),
  title: z.string(),
  state: z.enum(['opened', 'closed', 'merged', 'locked']),
  sha: z.string().min(1),
  source_branch: z.string(),
  target_branch: z.string(),
  author: UserRef,
  web_url: z.string(),
  merge_commit_sha: z.string().nullish(),
  squash_commit_sha: z.string().nullish(),
  references: z.object({ full: z.string() }).partial().nullish(),
});

const PipelineBody = z.object({
  id: z.number().int().positive(),
  project_id: z.number().int(),
  status: z.string().min(1),
  ref: z.string(),
  sha: z.string(),
  web_url: z.string().nullish(),
  duration: z.number().nullish(),
  finished_at: z.string().nullish(),
});

const CommitBody = z.object({
  id: z.string().min(1),
  title: z.string().nullish(),
  web_url: z.string().nullish(),
});
const CompareBody = z.object({
  commits: z.array(
    z.object({ id: z.string(), title: z.string().nullish(), author_name: z.string().nullish() }),
  ),
});

const ApprovalsBody = z.object({ user_has_approved: z.boolean() });

// GitLab writes an empty string, not null, for a missing email; tolerate both.
const CommitsBody = z.array(
  z.object({
    id: z.string().min(1),
    author_name: z.string().nullish(),
    author_email: z.string().nullish(),
    committer_name: z.string().nullish(),
    committer_email: z.string().nullish(),
  }),
);

/** GitLab's largest page: fewer round trips for long merge requests. */
const COMMITS_PER_PAGE = 100;

type Action = 'read' | 'approve' | 'merge' | 'close' | 'note' | 'pipeline';

/** Creates a client for one GitLab instance and token. */
export function createGitLabClient(config: GitLabConfig): GitLabClient {
  let host: string;
  try {
    host = new URL(config.url).toString().replace(/\/+$/, '');
  } catch (cause) {
    throw new ConfigError('gitlab url is not a valid URL', { cause });
  }
  if (!config.token) throw new ConfigError('gitlab token is empty');
  const { token } = config;
  const api = new Gitlab({
    host,
    token,
    queryTimeout: config.timeoutMs ?? DEFAULT_TIMEOUT_MS,
    // No client-side limits. gitbeaker's defaults (GitLab.com's, e.g. 3,000 calls of one kind a
    // minute) queue calls past them for the rest of the minute: a burst of merge requests timed out
    // waiting without GitLab being asked. GitLab enforces its own limits with 429, which gitbeaker
    // retries with backoff (ten times), and after that is a GitLabUnavailableError the workflow retries.
    rateLimits: {},
  });

  const fail = (error: unknown, action: Action, what: string): GitLabError =>
    toGitLabError(error, action, what, token);

  async function getMergeRequest(projectId: number, iid: number): Promise<MergeRequestInfo> {
    const what = mrName(projectId, iid);
    let body: unknown;
    try {
      body = await scrubbed(api.MergeRequests.show(projectId, iid));
    } catch (error) {
      throw fail(error, 'read', what);
    }
    return parseMergeRequest(body, what);
  }

  async function listMergeRequestCommits(projectId: number, iid: number): Promise<CommitInfo[]> {
    const what = mrName(projectId, iid);
    let body: unknown;
    try {
      // gitbeaker follows the Link rel="next" header through every page (no maxPages).
      body = await scrubbed(api.MergeRequests.allCommits(projectId, iid, { perPage: COMMITS_PER_PAGE }));
    } catch (error) {
      throw fail(error, 'read', `commits of ${what}`);
    }
    const parsed = CommitsBody.safeParse(body);
    if (!parsed.success) {
      throw new GitLabError(redact(`gitlab returned unexpected commits for ${what}`, token), {
        cause: parsed.error,
      });
    }
    return parsed.data.map((c) => ({
      sha: c.id,
      authorName: c.author_name ?? '',
      authorEmail: c.author_email ?? '',
      committerName: c.committer_name ?? '',
      committerEmail: c.committer_email ?? '',
    }));
  }

  async function approve(projectId: number, iid: number, sha: string): Promise<void> {
    const what = mrName(projectId, iid);
    try {
      await scrubbed(api.MergeRequestApprovals.approve(projectId, iid, { sha }));
      return;
    } catch (error) {
      // GitLab checks the sha first (409), then answers 401 when this user has already approved.
      if (statusOf(error) !== 401) throw fail(error, 'approve', what);
      let approvals: unknown;
      try {
        approvals = await scrubbed(
          api.MergeRequestApprovals.showConfiguration(projectId, { mergerequestIId: iid }),
        );
      } catch (lookupError) {
        const mapped = fail(lookupError, 'read', what);
        throw mapped.retryable ? mapped : fail(error, 'approve', what);
      }
      const parsed = ApprovalsBody.safeParse(approvals);
      if (parsed.success && parsed.data.user_has_approved) return;
      throw fail(error, 'approve', what);
    }
  }

  async function merge(
    projectId: number,
    iid: number,
    sha: string,
    read?: MergeRequestInfo,
  ): Promise<MergeResult> {
    const what = mrName(projectId, iid);
    const before = read ?? (await getMergeRequest(projectId, iid));
    const settled = settledMerge(before, sha, what);
    if (settled) return settled;
    if (before.state !== 'opened') {
      throw new MergeRequestNotMergeableError(
        redact(`gitlab merge ${what} refused: it is ${before.state}`, token),
      );
    }
    let body: unknown;
    try {
      body = await scrubbed(api.MergeRequests.merge(projectId, iid, { sha }));
    } catch (error) {
      const status = statusOf(error);
      if (status === 405 || status === 406 || status === 409 || status === 422) {
        // GitLab checks mergeability before the sha, so re-read to report the real reason, and to
        // recognise a merge that already landed (an earlier attempt that timed out, or a person).
        const after = await getMergeRequest(projectId, iid).catch(() => undefined);
        const again = after && settledMerge(after, sha, what);
        if (again) return again;
        if (after && after.sha !== sha) {
          throw new MergeRequestChangedError(changedMessage(what, after.sha, sha, token), { cause: error });
        }
      }
      throw fail(error, 'merge', what);
    }
    const merged = parseMergeRequest(body, what);
    if (merged.state !== 'merged') {
      throw new MergeRequestNotMergeableError(
        redact(`gitlab merge ${what} did not merge: it is ${merged.state}`, token),
      );
    }
    return merged.mergeCommitSha === undefined
      ? { alreadyMerged: false }
      : { mergeCommitSha: merged.mergeCommitSha, alreadyMerged: false };
  }

  async function close(projectId: number, iid: number): Promise<void> {
    const what = mrName(projectId, iid);
    let body: unknown;
    try {
      // GitLab ignores a state_event that does not apply, so closing a closed MR answers 200.
      body = await scrubbed(api.MergeRequests.edit(projectId, iid, { stateEvent: 'close' }));
    } catch (error) {
      throw fail(error, 'close', what);
    }
    const after = parseMergeRequest(body, what);
    if (after.state !== 'closed') {
      throw new GitLabError(redact(`gitlab close ${what} refused: it is ${after.state}`, token));
    }
  }

  async function addNote(projectId: number, iid: number, body: string): Promise<void> {
    try {
      await scrubbed(api.MergeRequestNotes.create(projectId, iid, body));
    } catch (error) {
      throw fail(error, 'note', mrName(projectId, iid));
    }
  }

  async function getCommit(project: string | number, ref: string) {
    let body: unknown;
    try {
      body = await scrubbed(api.Commits.show(project, ref));
    } catch (error) {
      throw fail(error, 'read', `commit ${ref} of ${project}`);
    }
    const parsed = parsedOr(CommitBody, body, `commit ${ref} of ${project}`);
    return {
      sha: parsed.id,
      title: parsed.title ?? '',
      ...(parsed.web_url ? { webUrl: parsed.web_url } : {}),
    };
  }

  async function compare(project: string | number, from: string, to: string) {
    let body: unknown;
    try {
      body = await scrubbed(api.Repositories.compare(project, from, to));
    } catch (error) {
      throw fail(error, 'read', `compare ${from}...${to} of ${project}`);
    }
    return parsedOr(CompareBody, body, `compare of ${project}`).commits.map((c) => ({
      sha: c.id,
      title: c.title ?? '',
      authorName: c.author_name ?? '',
    }));
  }

  async function createPipeline(project: string | number, ref: string, variables: Record<string, string>) {
    let body: unknown;
    try {
      body = await scrubbed(
        api.Pipelines.create(project, ref, {
          variables: Object.entries(variables).map(([key, value]) => ({
            key,
            value,
            variable_type: 'env_var',
          })),
        }),
      );
    } catch (error) {
      throw fail(error, 'pipeline', `create on ${ref} of ${project}`);
    }
    return toPipeline(body, `created on ${ref} of ${project}`);
  }

  async function getPipeline(project: string | number, pipelineId: number) {
    let body: unknown;
    try {
      body = await scrubbed(api.Pipelines.show(project, pipelineId));
    } catch (error) {
      throw fail(error, 'read', `pipeline ${pipelineId} of ${project}`);
    }
    return toPipeline(body, `pipeline ${pipelineId} of ${project}`);
  }

  async function cancelPipeline(project: string | number, pipelineId: number) {
    try {
      await scrubbed(api.Pipelines.cancel(project, pipelineId));
    } catch (error) {
      throw fail(error, 'pipeline', `cancel ${pipelineId} of ${project}`);
    }
  }

  return {
    getMergeRequest,
    listMergeRequestCommits,
    approve,
    merge,
    close,
    addNote,
    getCommit,
    compare,
    createPipeline,
    getPipeline,
    cancelPipeline,
  };

  function parsedOr<T>(schema: z.ZodType<T>, body: unknown, what: string): T {
    const parsed = schema.safeParse(body);
    if (!parsed.success)
      throw new GitLabError(redact(`gitlab returned an unexpected answer for ${what}`, token), {
        cause: parsed.error,
      });
    return parsed.data;
  }

  function toPipeline(body: unknown, what: string): PipelineInfo {
    const p = parsedOr(PipelineBody, body, what);
    return {
      id: p.id,
      projectId: p.project_id,
      status: p.status,
      ref: p.ref,
      sha: p.sha,
      ...(p.web_url ? { webUrl: p.web_url } : {}),
      ...(typeof p.duration === 'number' ? { duration: p.duration } : {}),
      ...(p.finished_at ? { finishedAt: p.finished_at } : {}),
    };
  }

  function parseMergeRequest(body: unknown, what: string): MergeRequestInfo {
    const parsed = MergeRequestBody.safeParse(body);
    if (!parsed.success) {
      throw new GitLabError(redact(`gitlab returned an unexpected merge request for ${what}`, token), {
        cause: parsed.error,
      });
    }
    return toInfo(parsed.data);
  }
}

function settledMerge(mr: MergeRequestInfo, sha: string, what: string): MergeResult | undefined {
  if (mr.state !== 'merged') return undefined;
  if (mr.sha !== sha) {
    throw new MergeRequestChangedError(
      `gitlab merge ${what} refused: it was merged at ${mr.sha}, not ${sha}`,
    );
  }
  return mr.mergeCommitSha === undefined
    ? { alreadyMerged: true }
    : { mergeCommitSha: mr.mergeCommitSha, alreadyMerged: true };
}

function toInfo(body: z.infer<typeof MergeRequestBody>): MergeRequestInfo {
  const info: MergeRequestInfo = {
    projectId: body.project_id,
    projectPath: projectPathOf(body),
    iid: body.iid,
    title: body.title,
    state: body.state,
    sha: body.sha,
    sourceBranch: body.source_branch,
    targetBranch: body.target_branch,
    author: body.author.username,
    authorId: body.author.id,
    authorName: body.author.name,
    webUrl: body.web_url,
  };
  const mergeCommitSha = body.merge_commit_sha ?? body.squash_commit_sha;
  if (mergeCommitSha) info.mergeCommitSha = mergeCommitSha;
  return info;
}

/** `references.full` is `group/project!iid`; older instances only give `web_url`. */
function projectPathOf(body: z.infer<typeof MergeRequestBody>): string {
  const full = body.references?.full;
  const suffix = `!${body.iid}`;
  if (full?.endsWith(suffix)) return full.slice(0, -suffix.length);
  try {
    const path = new URL(body.web_url).pathname;
    const at = path.indexOf('/-/merge_requests/');
    const legacy = path.lastIndexOf('/merge_requests/');
    const end = at >= 0 ? at : legacy;
    if (end > 0) return decodeURIComponent(path.slice(1, end));
  } catch {
    // fall through to the project id
  }
  return String(body.project_id);
}

function mrName(projectId: number, iid: number): string {
  return `!${iid} in project ${projectId}`;
}

function changedMessage(what: string, head: string, sha: string, token: string): string {
  return redact(`gitlab merge ${what} refused: head is ${head}, not the approved ${sha}`, token);
}

function statusOf(error: unknown): number | undefined {
  return error instanceof GitbeakerRequestError ? error.cause?.response.status : undefined;
}

function descriptionOf(error: GitbeakerRequestError): string {
  return error.cause?.description || error.message;
}

/** Maps any failure of a gitbeaker call to a GitLabError subclass, keeping the cause. */
function toGitLabError(error: unknown, action: Action, what: string, token: string): GitLabError {
  if (error instanceof GitLabError) return error;
  const prefix = `gitlab ${action} ${what} failed`;

  if (error instanceof GitbeakerRequestError) {
    const status = statusOf(error) ?? 0;
    const description = descriptionOf(error);
    const message = redact(`${prefix}: ${status} ${description}`.trim(), token);
    const options = { cause: error };
    const mentionsSha = /\bsha\b/i.test(description);
    if ((action === 'approve' || action === 'merge') && (status === 409 || (status === 422 && mentionsSha))) {
      return new MergeRequestChangedError(message, options);
    }
    if (action === 'merge' && (status === 405 || status === 406 || status === 422)) {
      return new MergeRequestNotMergeableError(message, options);
    }
    if (status >= 500 || status === 429 || status === 408)
      return new GitLabUnavailableError(message, options);
    return new GitLabError(message, { ...options, retryable: false });
  }
  if (error instanceof GitbeakerTimeoutError) {
    return new GitLabUnavailableError(redact(`${prefix}: timed out`, token), { cause: error });
  }
  if (error instanceof GitbeakerRetryError) {
    // gitbeaker already retried 429/502 ten times.
    return new GitLabUnavailableError(redact(`${prefix}: ${error.message}`, token), { cause: error });
  }
  if (isNetworkError(error)) {
    const detail = networkDetail(error);
    return new GitLabUnavailableError(
      redact(`${prefix}: network error${detail ? ` (${detail})` : ''}`, token),
      {
        cause: error,
      },
    );
  }
  const detail = error instanceof Error ? error.message : String(error);
  return new GitLabError(redact(`${prefix}: ${detail}`, token), { cause: error, retryable: false });
}

/** undici rejects with `TypeError('fetch failed')` whose cause carries the socket error code. */
function isNetworkError(error: unknown): error is Error {
  if (error instanceof TypeError && error.message === 'fetch failed') return true;
  return error instanceof Error && (error.name === 'AbortError' || error.name === 'TimeoutError');
}

function networkDetail(error: Error): string | undefined {
  const cause: unknown = error.cause;
  if (cause && typeof cause === 'object' && 'code' in cause && typeof cause.code === 'string')
    return cause.code;
  return undefined;
}

/**
 * gitbeaker keeps the failed Request, PRIVATE-TOKEN header included, on `error.cause.request`.
 * Every call goes through here so that no error we throw or wrap can carry the token.
 */
async function scrubbed<T>(call: Promise<T>): Promise<T> {
  try {
    return await call;
  } catch (error) {
    if (error instanceof GitbeakerRequestError) scrubRequest(error);
    throw error;
  }
}

function scrubRequest(error: GitbeakerRequestError): void {
  const headers = error.cause?.request.headers;
  if (!headers) return;
  for (const name of TOKEN_HEADERS) {
    try {
      headers.delete(name);
    } catch {
      // immutable headers: nothing we can do, and the message never carries them
    }
  }
}

function redact(message: string, token: string): string {
  return token ? message.split(token).join('[redacted]') : message;
}
