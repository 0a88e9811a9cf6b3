/**
 * The demo GitLab: a wire-true stand-in for the parts of the GitLab REST API (v4) that Signoff calls
 * through @gitbeaker/rest. `npm start` serves it, clearly labelled, when no real GitLab is configured;
 * tests point the real client at it. Its data and their REST shapes are in gitlab-model.ts, the Merge
 * Request Hook payload GitLab sends is built by gitlab-hook.ts.
 */
import type { AddressInfo } from 'node:net';
import { serve } from '@hono/node-server';
import { type Context, Hono, type Next } from 'hono';
import type { ContentfulStatusCode } from 'hono/utils/http-status';
import { z } from 'zod';
import {
  approvalsJson,
  authorOf,
  BOT,
  commitJson,
  commitOf,
  type FakeCommit,
  type FakeMergeRequest,
  type FakeNote,
  type FakeUser,
  isoNow,
  mergeRequestJson,
  noteJson,
  randomSha,
  userIdOf,
} from './gitlab-model.ts';
import { mountPipelines, type PipelineControls } from './gitlab-pipelines.ts';

export {
  buildMergeRequestHook,
  type MergeRequestHookAction,
  type MergeRequestHookOptions,
} from './gitlab-hook.ts';
export {
  type FakeCommit,
  type FakeMergeRequest,
  type FakeMergeRequestState,
  type FakeNote,
  type FakeUser,
  mergeRequestJson,
  randomSha,
} from './gitlab-model.ts';

export interface RecordedRequest {
  method: string;
  /** Path and query exactly as received, e.g. `/api/v4/projects/grp%2Fapp/merge_requests/1/merge`. */
  path: string;
  /** Lower-cased header names; token values are replaced by `[redacted]`. */
  headers: Record<string, string>;
  body: unknown;
  at: string;
}

export type FakeFailure = { status: number } | 'timeout';

export interface GitLabFake {
  url: string;
  /** Repositories and pipelines (gitlab-pipelines.ts): seed projects, choose outcomes, lose or repeat hooks. */
  pipelines: PipelineControls;
  token: string;
  /** The user the token belongs to; approvals, merges and notes are made as this user. */
  user: FakeUser;
  requests: RecordedRequest[];
  seedMergeRequest(mr: Partial<FakeMergeRequest> & { projectId: number; iid: number }): FakeMergeRequest;
  mergeRequest(projectId: number, iid: number): FakeMergeRequest | undefined;
  /**
   * The next `times` API calls fail with `status` (JSON body as GitLab) or hang until the client
   * gives up; with `path`, only calls whose path contains it (others pass).
   */
  failNext(times: number, failure: FakeFailure, path?: string): void;
  /**
   * Simulates a push to the source branch: new head, approvals reset. The new commit is written
   * by `author` (name and email as git records them; the merge request's author by default).
   */
  pushCommit(projectId: number, iid: number, sha: string, author?: { name: string; email: string }): void;
  close(): Promise<void>;
}

export interface GitLabFakeOptions {
  port?: number;
  host?: string;
  token?: string;
  label?: string;
}

type Env = { Variables: { body: unknown; mr: FakeMergeRequest } };

export const DEMO_LABEL = 'Demo GitLab stand-in (local, not a real GitLab)';
const DEFAULT_TOKEN = 'glpat-fake-token-0000000000';
const DEFAULT_AUTHOR: FakeUser = { id: 11, username: 'alice', name: 'Alice' };
const TOKEN_HEADERS = new Set(['private-token', 'authorization', 'job-token']);
const REASONS: Record<number, string> = {
  400: 'Bad request',
  401: 'Unauthorized',
  403: 'Forbidden',
  404: 'Not Found',
  405: 'Method Not Allowed',
  408: 'Request Timeout',
  409: 'Conflict',
  422: 'Unprocessable Entity',
  429: 'Too Many Requests',
  500: 'Internal Server Error',
  502: 'Bad Gateway',
  503: 'Service Unavailable',
  504: 'Gateway Timeout',
};

/** Starts the fake on loopback (port 0 unless given). */
export async function startGitLabFake(options: GitLabFakeOptions = {}): Promise<GitLabFake> {
  const token = options.token ?? DEFAULT_TOKEN;
  const label = options.label ?? DEMO_LABEL;
  const host = options.host ?? '127.0.0.1';
  const mergeRequests = new Map<string, FakeMergeRequest>();
  const requests: RecordedRequest[] = [];
  const failures: Array<{ failure: FakeFailure; path?: string }> = [];
  const hanging = new Set<() => void>();
  let nextId = 100;
  let nextNoteId = 1000;
  let baseUrl = '';

  const key = (projectId: number, iid: number) => `${projectId}:${iid}`;

  function seedMergeRequest(seed: Partial<FakeMergeRequest> & { projectId: number; iid: number }) {
    const now = isoNow();
    const mr: Omit<FakeMergeRequest, 'commits'> & { commits?: FakeCommit[] } = {
      id: nextId++,
      projectPath: `group/project-${seed.projectId}`,
      title: `Merge request !${seed.iid}`,
      description: '',
      state: 'opened',
      sha: randomSha(),
      lastCommitMessage: 'Update README.md',
      sourceBranch: `feature-${seed.iid}`,
      targetBranch: 'main',
      author: DEFAULT_AUTHOR,
      draft: false,
      labels: [],
      hasConflicts: false,
      mergeCommitSha: null,
      mergedAt: null,
      mergedBy: null,
      closedAt: null,
      closedBy: null,
      createdAt: now,
      updatedAt: now,
      approvedBy: [],
      notes: [],
      ...seed,
    };
    if (!mr.commits) {
      // One commit, the head, written by the author, unless the seed lists them.
      mr.commits = [commitOf(mr.sha, mr.lastCommitMessage, authorOf(mr.author), mr.createdAt)];
    } else if (seed.sha === undefined && mr.commits[0]) {
      mr.sha = mr.commits[0].id;
    }
    const sameProject = [...mergeRequests.values()].find((m) => m.projectId === mr.projectId);
    if (sameProject && sameProject.projectPath !== mr.projectPath && seed.projectPath === undefined) {
      mr.projectPath = sameProject.projectPath;
    }
    const seeded = mr as FakeMergeRequest;
    mergeRequests.set(key(seeded.projectId, seeded.iid), seeded);
    return seeded;
  }

  function findProject(id: string): { projectId: number; projectPath: string } | undefined {
    const all = [...mergeRequests.values()];
    const hit = /^\d+$/.test(id)
      ? all.find((m) => m.projectId === Number(id))
      : all.find((m) => m.projectPath === id);
    return hit && { projectId: hit.projectId, projectPath: hit.projectPath };
  }

  const app = new Hono<Env>();

  app.use('/api/v4/*', async (c, next) => {
    const body = await readBody(c);
    c.set('body', body);
    const url = new URL(c.req.url);
    requests.push({
      method: c.req.method,
      path: url.pathname + url.search,
      headers: recordedHeaders(c.req.raw.headers),
      body,
      at: new Date().toISOString(),
    });
    const at = failures.findIndex((f) => f.path === undefined || url.pathname.includes(f.path));
    const failure = at >= 0 ? failures.splice(at, 1)[0]?.failure : undefined;
    if (failure === 'timeout') {
      // Hold the request until the client aborts or the fake closes; the response is never read.
      await new Promise<void>((resolve) => {
        const done = () => {
          hanging.delete(done);
          resolve();
        };
        hanging.add(done);
        c.req.raw.signal.addEventListener('abort', done, { once: true });
      });
      return c.json({ message: '504 Gateway Timeout' }, 504);
    }
    if (failure) {
      if (failure.status === 429) c.header('Retry-After', '1');
      return apiError(c, failure.status, `${failure.status} ${REASONS[failure.status] ?? 'Error'}`);
    }
    const privateToken = c.req.header('private-token');
    const bearer = c.req.header('authorization')?.replace(/^Bearer\s+/i, '');
    if (privateToken !== token && bearer !== token) return apiError(c, 401, '401 Unauthorized');
    return next();
  });

  const mrPath = '/api/v4/projects/:id/merge_requests/:iid{[0-9]+}';
  app.use(mrPath, loadMergeRequest);
  app.use(`${mrPath}/*`, loadMergeRequest);

  async function loadMergeRequest(c: Context<Env>, next: Next) {
    const project = findProject(c.req.param('id') ?? '');
    if (!project) return apiError(c, 404, '404 Project Not Found');
    const mr = mergeRequests.get(key(project.projectId, Number(c.req.param('iid'))));
    if (!mr) return apiError(c, 404, '404 Not found');
    c.set('mr', mr);
    await next();
  }

  app.get(mrPath, (c) => c.json(mergeRequestJson(c.get('mr'), baseUrl)));

  app.put(mrPath, (c) => {
    const mr = c.get('mr');
    const params = paramsOf(c);
    // Like GitLab, a state_event that does not apply (close a closed MR) is ignored with 200.
    if (params.state_event === 'close' && mr.state === 'opened') {
      mr.state = 'closed';
      mr.closedAt = isoNow();
      mr.closedBy = BOT;
    } else if (params.state_event === 'reopen' && mr.state === 'closed') {
      mr.state = 'opened';
      mr.closedAt = null;
      mr.closedBy = null;
    }
    if (typeof params.title === 'string') mr.title = params.title;
    if (typeof params.description === 'string') mr.description = params.description;
    mr.updatedAt = isoNow();
    return c.json(mergeRequestJson(mr, baseUrl));
  });

  app.get(`${mrPath}/approvals`, (c) => c.json(approvalsJson(c.get('mr'), baseUrl)));

  // Offset pagination as GitLab's REST API does it: page/per_page (20 by default, 100 at most),
  // the x-* headers and a Link header, which is what gitbeaker follows.
  app.get(`${mrPath}/commits`, (c) => {
    const mr = c.get('mr');
    const url = new URL(c.req.url);
    const perPage = Math.min(100, Math.max(1, Number(url.searchParams.get('per_page')) || 20));
    const page = Math.max(1, Number(url.searchParams.get('page')) || 1);
    const total = mr.commits.length;
    const totalPages = Math.max(1, Math.ceil(total / perPage));
    const items = mr.commits.slice((page - 1) * perPage, page * perPage);
    const link = (p: number) => {
      const next = new URL(`${baseUrl}${url.pathname}`);
      next.searchParams.set('id', String(mr.projectId));
      next.searchParams.set('merge_request_iid', String(mr.iid));
      next.searchParams.set('page', String(p));
      next.searchParams.set('per_page', String(perPage));
      return next.toString();
    };
    const links = [
      ...(page > 1 ? [`<${link(page - 1)}>; rel="prev"`] : []),
      ...(page < totalPages ? [`<${link(page + 1)}>; rel="next"`] : []),
      `<${link(1)}>; rel="first"`,
      `<${link(totalPages)}>; rel="last"`,
    ];
    c.header('Link', links.join(', '));
    c.header('X-Page', String(page));
    c.header('X-Per-Page', String(perPage));
    c.header('X-Total', String(total));
    c.header('X-Total-Pages', String(totalPages));
    c.header('X-Next-Page', page < totalPages ? String(page + 1) : '');
    c.header('X-Prev-Page', page > 1 ? String(page - 1) : '');
    return c.json(items.map((commit) => commitJson(commit, mr, baseUrl)));
  });

  app.post(`${mrPath}/approve`, (c) => {
    const mr = c.get('mr');
    const { sha } = paramsOf(c);
    if (mr.state !== 'opened') return apiError(c, 401, '401 Unauthorized');
    if (typeof sha === 'string' && sha !== mr.sha) {
      return apiError(c, 409, `SHA does not match HEAD of source branch: ${mr.sha}`);
    }
    // GitLab answers 401 when the same user approves twice.
    if (mr.approvedBy.some((u) => u.id === BOT.id)) return apiError(c, 401, '401 Unauthorized');
    mr.approvedBy.push(BOT);
    mr.updatedAt = isoNow();
    return c.json(approvalsJson(mr, baseUrl), 201);
  });

  app.put(`${mrPath}/merge`, (c) => {
    const mr = c.get('mr');
    const { sha } = paramsOf(c);
    // Order as in GitLab's API: mergeable state (405), then conflicts (422), then the sha (409).
    if (mr.state !== 'opened' || mr.draft) return apiError(c, 405, '405 Method Not Allowed');
    if (mr.hasConflicts) return apiError(c, 422, 'Branch cannot be merged');
    if (typeof sha === 'string' && sha !== mr.sha) {
      return apiError(c, 409, `SHA does not match HEAD of source branch: ${mr.sha}`);
    }
    const now = isoNow();
    mr.state = 'merged';
    mr.mergeCommitSha = randomSha();
    mr.mergedAt = now;
    mr.mergedBy = BOT;
    mr.updatedAt = now;
    return c.json(mergeRequestJson(mr, baseUrl));
  });

  app.get(`${mrPath}/notes`, (c) => c.json(c.get('mr').notes.map((n) => noteJson(n, c.get('mr'), baseUrl))));

  app.post(`${mrPath}/notes`, (c) => {
    const mr = c.get('mr');
    const { body, internal } = paramsOf(c);
    if (typeof body !== 'string' || body === '') return c.json({ error: 'body is missing' }, 400);
    const note: FakeNote = {
      id: nextNoteId++,
      body,
      author: BOT,
      internal: internal === true || internal === 'true',
      createdAt: isoNow(),
    };
    mr.notes.push(note);
    return c.json(noteJson(note, mr, baseUrl), 201);
  });

  const pipelines = mountPipelines(
    app as unknown as Parameters<typeof mountPipelines>[0],
    () => baseUrl,
    apiError,
  );
  // The demo's release target (docs/release.md): `release web` runs its pipeline.
  pipelines.seedProject({ id: 42, path: 'demo/web', commits: 3 });

  app.all('/api/v4/*', (c) => c.json({ error: '404 Not Found' }, 404));

  const DemoMergeRequest = z
    .object({
      projectId: z.number().int().positive(),
      projectPath: z.string().regex(/^[\w.-]+(\/[\w.-]+)+$/),
      iid: z.number().int().positive(),
      title: z.string().min(1),
      description: z.string(),
      sourceBranch: z.string().min(1),
      targetBranch: z.string().min(1),
      author: z.object({
        id: z.number().int().optional(),
        username: z.string().min(1),
        name: z.string().optional(),
      }),
      draft: z.boolean(),
      labels: z.array(z.string()),
      lastCommitMessage: z.string(),
    })
    .partial();

  app.post('/__demo/merge_requests', async (c) => {
    const parsed = DemoMergeRequest.safeParse(await c.req.json().catch(() => ({})));
    if (!parsed.success) return c.json({ error: z.prettifyError(parsed.error) }, 400);
    const { author, ...fields } = parsed.data;
    const projectId = fields.projectId ?? 1;
    const iid =
      fields.iid ??
      1 +
        Math.max(
          0,
          ...[...mergeRequests.values()].filter((m) => m.projectId === projectId).map((m) => m.iid),
        );
    if (mergeRequests.has(key(projectId, iid))) return c.json({ error: `!${iid} already exists` }, 409);
    const seed: Partial<FakeMergeRequest> & { projectId: number; iid: number } = {
      ...dropUndefined(fields),
      projectId,
      iid,
      sha: randomSha(),
    };
    if (author) {
      seed.author = {
        id: author.id ?? userIdOf(author.username),
        username: author.username,
        name: author.name ?? author.username,
      };
    }
    return c.json(mergeRequestJson(seedMergeRequest(seed), baseUrl), 201);
  });

  app.get('/__demo/requests', (c) => c.json(requests));

  app.get('/', (c) => c.html(demoPage(label, baseUrl, requests, [...mergeRequests.values()])));

  const { server, address } = await new Promise<{ server: ReturnType<typeof serve>; address: AddressInfo }>(
    (resolve, reject) => {
      const s = serve({ fetch: app.fetch, port: options.port ?? 0, hostname: host }, (info) =>
        resolve({ server: s, address: info }),
      );
      s.once('error', reject);
    },
  );
  const urlHost = address.family === 'IPv6' ? `[${address.address}]` : address.address;
  baseUrl = `http://${urlHost}:${address.port}`;

  return {
    url: baseUrl,
    pipelines,
    token,
    user: BOT,
    requests,
    seedMergeRequest,
    mergeRequest: (projectId, iid) => mergeRequests.get(key(projectId, iid)),
    failNext(times, failure, path) {
      for (let i = 0; i < times; i++) failures.push(path === undefined ? { failure } : { failure, path });
    },
    pushCommit(projectId, iid, sha, author) {
      const mr = mergeRequests.get(key(projectId, iid));
      if (!mr) throw new Error(`no merge request !${iid} in project ${projectId}`);
      const message = `Push ${sha.slice(0, 8)}`;
      mr.commits.unshift({
        ...commitOf(sha, message, author ?? authorOf(mr.author), isoNow()),
        parentIds: [mr.sha],
      });
      mr.sha = sha;
      mr.lastCommitMessage = message;
      mr.approvedBy = []; // "Remove all approvals when commits are added", GitLab's default
      mr.updatedAt = isoNow();
    },
    close() {
      pipelines.stop();
      for (const done of [...hanging]) done();
      return new Promise<void>((resolve, reject) => {
        server.close((error) => (error ? reject(error) : resolve()));
        if ('closeAllConnections' in server) server.closeAllConnections();
      });
    },
  };
}

function apiError(c: Context, status: number, message: string): Response {
  return c.json({ message }, status as ContentfulStatusCode);
}

/** Grape merges query and body parameters; so does the fake. */
function paramsOf(c: Context<Env>): Record<string, unknown> {
  const body = c.get('body');
  const query = Object.fromEntries(new URL(c.req.url).searchParams);
  return body && typeof body === 'object' && !Array.isArray(body) ? { ...query, ...body } : query;
}

async function readBody(c: Context): Promise<unknown> {
  if (c.req.method === 'GET' || c.req.method === 'HEAD') return null;
  const type = c.req.header('content-type') ?? '';
  const text = await c.req.text();
  if (text === '') return null;
  if (type.includes('application/json')) {
    try {
      return JSON.parse(text);
    } catch {
      return text;
    }
  }
  if (type.includes('application/x-www-form-urlencoded'))
    return Object.fromEntries(new URLSearchParams(text));
  return text;
}

function recordedHeaders(headers: Headers): Record<string, string> {
  const out: Record<string, string> = {};
  headers.forEach((value, name) => {
    out[name] = TOKEN_HEADERS.has(name) ? '[redacted]' : value;
  });
  return out;
}

function dropUndefined<T extends object>(value: T): Partial<T> {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as Partial<T>;
}

function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (ch) => `&#${ch.charCodeAt(0)};`);
}

function demoPage(
  label: string,
  baseUrl: string,
  requests: RecordedRequest[],
  mergeRequests: FakeMergeRequest[],
): string {
  const rows = requests
    .map(
      (r) =>
        `<tr><td>${escapeHtml(r.at)}</td><td>${escapeHtml(r.method)}</td><td><code>${escapeHtml(r.path)}</code></td>` +
        `<td><code>${escapeHtml(r.body === null ? '' : JSON.stringify(r.body))}</code></td></tr>`,
    )
    .join('\n');
  const mrs = mergeRequests
    .map(
      (m) =>
        `<li><code>${escapeHtml(m.projectPath)}!${m.iid}</code> ${escapeHtml(m.title)} — ${escapeHtml(m.state)}` +
        ` at <code>${escapeHtml(m.sha.slice(0, 8))}</code></li>`,
    )
    .join('\n');
  return `<!doctype html>
<html lang="en">
<head><meta charset="utf-8"><title>${escapeHtml(label)}</title>
<style>body{font-family:system-ui,sans-serif;margin:2rem}table{border-collapse:collapse}td{border:1px solid #ccc;padding:.25rem .5rem;vertical-align:top}.banner{background:#fff3cd;padding:.5rem 1rem;border:1px solid #e0c36b}</style>
</head>
<body>
<p class="banner"><strong>${escapeHtml(label)}</strong>. It answers the GitLab REST API at <code>${escapeHtml(baseUrl)}/api/v4</code> and records every call; nothing here reaches a real GitLab.</p>
<h2>Merge requests</h2>
<ul>${mrs || '<li>none yet</li>'}</ul>
<h2>Recorded API calls (${requests.length})</h2>
<table><tr><th>at</th><th>method</th><th>path</th><th>body</th></tr>
${rows}
</table>
</body>
</html>`;
}
