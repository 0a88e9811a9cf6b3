/**
 * The GitLab stand-in's repositories and pipelines: branches with commits, `POST /projects/:id/pipeline`,
 * `GET /projects/:id/pipelines/:pid`, cancel, commits and compare; pipelines whose jobs take a few
 * seconds and end as the demo (or a test) chooses, each status change sent as a real-shaped
 * Pipeline Hook (GitLab docs, "Pipeline events") to the configured webhook.
 */
import { randomUUID } from 'node:crypto';
import type { Context, Hono } from 'hono';
import type { ContentfulStatusCode } from 'hono/utils/http-status';
import { signGitLabBody } from '../../webhooks/verify-gitlab.ts';
import { BOT, type FakeCommit, isoNow, shaOf } from './gitlab-model.ts';

export type PipelineOutcome = 'success' | 'failed' | 'canceled' | 'skipped';
/** How a pipeline ends: after `runMs` with an outcome, or `hold` (running until `finishPipeline`). */
export type PipelinePlan = { outcome: PipelineOutcome; runMs?: number } | 'hold';
/** What happens to a final status's hook: sent, lost (never sent), sent twice, or sent before the create call answers. */
export type HookDelivery = 'send' | 'drop' | 'twice' | 'before-answer';

export interface FakeProject {
  id: number;
  path: string;
  /** Commits per branch, newest first. */
  branches: Map<string, FakeCommit[]>;
}

export interface FakePipeline {
  id: number;
  iid: number;
  projectId: number;
  ref: string;
  sha: string;
  status: string;
  source: string;
  variables: Array<{ key: string; value: string }>;
  jobs: Array<{ id: number; name: string; stage: string; status: string }>;
  createdAt: string;
  startedAt?: string;
  finishedAt?: string;
  /** Hooks sent for it, in order (status of each). */
  hooksSent: string[];
}

export interface PipelineControls {
  projects: Map<number, FakeProject>;
  pipelines: Map<number, FakePipeline>;
  seedProject(project: { id: number; path: string; branch?: string; commits?: number }): FakeProject;
  /** A new commit on a branch (what a merge does). */
  pushTo(projectId: number, branch: string, message?: string): FakeCommit;
  /** How the next created pipelines run (first in, first used; default `{ outcome: 'success' }`). */
  planNext(...plans: PipelinePlan[]): void;
  /** How the next final statuses' hooks are delivered (first in, first used; default `send`). */
  deliverNext(...deliveries: HookDelivery[]): void;
  /** End a pipeline now with `status` (a held one, or a cancel from the GitLab UI). */
  finishPipeline(pipelineId: number, status: PipelineOutcome, delivery?: HookDelivery): Promise<void>;
  /** Where Pipeline Hooks go: the app's /webhooks/gitlab and its token (and signing token). */
  setHookTarget(target: { url: string; token: string; signingToken?: string } | undefined): void;
  /** Each delivered hook: status and the HTTP status the app answered. */
  deliveries: Array<{ pipelineId: number; status: string; answered: number }>;
  stop(): void;
}

const JOBS = [
  { name: 'build', stage: 'build' },
  { name: 'test', stage: 'test' },
  { name: 'deploy', stage: 'deploy' },
];

/** Ruby's time format in pipeline hooks (`2016-08-12 15:23:28 UTC`). */
function rubyTime(iso: string | undefined): string | null {
  return iso
    ? `${iso
        .replace('T', ' ')
        .replace(/\.\d{3}Z$/, '')
        .replace(/Z$/, '')} UTC`
    : null;
}

/** Adds the repository and pipeline routes to the stand-in's app. */
export function mountPipelines(
  app: Hono<{ Variables: { body: unknown } }>,
  baseUrl: () => string,
  apiError: (c: Context, status: number, message: string) => Response,
): PipelineControls {
  const projects = new Map<number, FakeProject>();
  const pipelines = new Map<number, FakePipeline>();
  const plans: PipelinePlan[] = [];
  const delivering: HookDelivery[] = [];
  const timers = new Set<NodeJS.Timeout>();
  const deliveries: PipelineControls['deliveries'] = [];
  let target: { url: string; token: string; signingToken?: string } | undefined;
  let nextPipelineId = 1000;
  let nextJobId = 5000;

  function seedProject(seed: { id: number; path: string; branch?: string; commits?: number }): FakeProject {
    const branch = seed.branch ?? 'main';
    const commits: FakeCommit[] = [];
    for (let i = (seed.commits ?? 3) - 1; i >= 0; i--) {
      const id = shaOf(`${seed.path}:${branch}:${i}`);
      commits.push({
        id,
        message: `Change ${i + 1} on ${branch}`,
        authorName: 'Alice',
        authorEmail: 'alice@example.com',
        committerName: 'Alice',
        committerEmail: 'alice@example.com',
        createdAt: isoNow(),
        parentIds: i > 0 ? [shaOf(`${seed.path}:${branch}:${i - 1}`)] : [],
      });
    }
    const project: FakeProject = { id: seed.id, path: seed.path, branches: new Map([[branch, commits]]) };
    projects.set(project.id, project);
    return project;
  }

  function projectOf(id: string): FakeProject | undefined {
    const decoded = decodeURIComponent(id);
    if (/^\d+$/.test(decoded)) return projects.get(Number(decoded));
    return [...projects.values()].find((p) => p.path === decoded);
  }

  function allCommits(project: FakeProject): FakeCommit[] {
    return [...project.branches.values()].flat();
  }

  function commitJson(project: FakeProject, commit: FakeCommit): Record<string, unknown> {
    return {
      id: commit.id,
      short_id: commit.id.slice(0, 8),
      title: commit.message.split('\n')[0] ?? '',
      message: commit.message,
      author_name: commit.authorName,
      author_email: commit.authorEmail,
      created_at: commit.createdAt,
      parent_ids: commit.parentIds,
      web_url: `${baseUrl()}/${project.path}/-/commit/${commit.id}`,
    };
  }

  function pipelineJson(p: FakePipeline): Record<string, unknown> {
    const project = projects.get(p.projectId);
    return {
      id: p.id,
      iid: p.iid,
      project_id: p.projectId,
      sha: p.sha,
      ref: p.ref,
      status: p.status,
      source: p.source,
      created_at: p.createdAt,
      updated_at: p.finishedAt ?? p.startedAt ?? p.createdAt,
      started_at: p.startedAt ?? null,
      finished_at: p.finishedAt ?? null,
      duration: duration(p),
      web_url: `${baseUrl()}/${project?.path}/-/pipelines/${p.id}`,
      user: { id: BOT.id, username: BOT.username, name: BOT.name },
    };
  }

  function duration(p: FakePipeline): number | null {
    if (!p.startedAt || !p.finishedAt) return null;
    return Math.max(0, Math.round((Date.parse(p.finishedAt) - Date.parse(p.startedAt)) / 1000));
  }

  /** The Pipeline Hook body as GitLab sends it (docs: "Pipeline events"). */
  function hookBody(p: FakePipeline): Record<string, unknown> {
    const project = projects.get(p.projectId) as FakeProject;
    const commit = allCommits(project).find((c) => c.id === p.sha);
    const web = `${baseUrl()}/${project.path}`;
    return {
      object_kind: 'pipeline',
      object_attributes: {
        id: p.id,
        iid: p.iid,
        name: null,
        ref: p.ref,
        tag: false,
        sha: p.sha,
        before_sha: '0000000000000000000000000000000000000000',
        source: p.source,
        status: p.status,
        detailed_status: p.status === 'success' ? 'passed' : p.status,
        stages: [...new Set(p.jobs.map((j) => j.stage))],
        created_at: rubyTime(p.createdAt),
        finished_at: rubyTime(p.finishedAt),
        duration: duration(p),
        queued_duration: 0,
        variables: [],
        url: `${web}/-/pipelines/${p.id}`,
      },
      merge_request: null,
      user: { id: BOT.id, name: BOT.name, username: BOT.username, avatar_url: null, email: '[REDACTED]' },
      project: {
        id: project.id,
        name: project.path.split('/').pop(),
        description: '',
        web_url: web,
        avatar_url: null,
        git_ssh_url: `git@example.com:${project.path}.git`,
        git_http_url: `${web}.git`,
        namespace: project.path.split('/')[0],
        visibility_level: 0,
        path_with_namespace: project.path,
        default_branch: 'main',
      },
      commit: commit
        ? {
            id: commit.id,
            message: commit.message,
            title: commit.message.split('\n')[0],
            timestamp: commit.createdAt,
            url: `${web}/-/commit/${commit.id}`,
            author: { name: commit.authorName, email: commit.authorEmail },
          }
        : null,
      builds: p.jobs.map((j) => ({
        id: j.id,
        stage: j.stage,
        name: j.name,
        status: j.status,
        created_at: rubyTime(p.createdAt),
        started_at: rubyTime(p.startedAt),
        finished_at: rubyTime(p.finishedAt),
        duration: null,
        queued_duration: null,
        failure_reason: j.status === 'failed' ? 'script_failure' : null,
        when: 'on_success',
        manual: false,
        allow_failure: false,
        user: { id: BOT.id, name: BOT.name, username: BOT.username },
        runner: null,
        artifacts_file: { filename: null, size: null },
        environment: null,
      })),
    };
  }

  async function sendHook(p: FakePipeline): Promise<void> {
    p.hooksSent.push(p.status);
    if (!target) return;
    const body = JSON.stringify(hookBody(p));
    const id = randomUUID();
    const timestamp = Math.floor(Date.now() / 1000);
    const headers: Record<string, string> = {
      'content-type': 'application/json',
      'x-gitlab-event': 'Pipeline Hook',
      'x-gitlab-token': target.token,
      'idempotency-key': id,
      'x-gitlab-webhook-uuid': randomUUID(),
      'user-agent': 'GitLab/18.0.0',
      ...(target.signingToken
        ? {
            'webhook-id': id,
            'webhook-timestamp': String(timestamp),
            'webhook-signature': signGitLabBody(body, target.signingToken, id, timestamp),
          }
        : {}),
    };
    try {
      const response = await fetch(target.url, { method: 'POST', headers, body });
      deliveries.push({ pipelineId: p.id, status: p.status, answered: response.status });
      await response.body?.cancel();
    } catch {
      deliveries.push({ pipelineId: p.id, status: p.status, answered: 0 });
    }
  }

  async function finish(p: FakePipeline, status: PipelineOutcome, delivery: HookDelivery): Promise<void> {
    if (['success', 'failed', 'canceled', 'skipped'].includes(p.status)) return;
    p.status = status;
    p.startedAt ??= isoNow();
    p.finishedAt = isoNow();
    let failedOne = false;
    for (const job of p.jobs) {
      if (status === 'failed' && !failedOne && job.stage === 'deploy') {
        job.status = 'failed';
        failedOne = true;
      } else if (status === 'failed' && failedOne) job.status = 'skipped';
      else job.status = status === 'success' ? 'success' : status === 'skipped' ? 'skipped' : 'canceled';
    }
    if (delivery === 'drop') {
      p.hooksSent.push(`${status} (lost)`);
      return;
    }
    await sendHook(p);
    if (delivery === 'twice') await sendHook(p);
  }

  function later(ms: number, run: () => Promise<void>): void {
    const timer = setTimeout(() => {
      timers.delete(timer);
      run().catch(() => undefined);
    }, ms);
    timers.add(timer);
  }

  app.get('/api/v4/projects/:id/repository/commits/:ref', (c) => {
    const project = projectOf(c.req.param('id'));
    if (!project) return apiError(c, 404, '404 Project Not Found');
    const ref = decodeURIComponent(c.req.param('ref'));
    const commit = project.branches.get(ref)?.[0] ?? allCommits(project).find((k) => k.id === ref);
    if (!commit) return apiError(c, 404, '404 Commit Not Found');
    return c.json(commitJson(project, commit));
  });

  app.get('/api/v4/projects/:id/repository/compare', (c) => {
    const project = projectOf(c.req.param('id'));
    if (!project) return apiError(c, 404, '404 Project Not Found');
    const from = c.req.query('from') ?? '';
    const to = c.req.query('to') ?? '';
    // Each branch is a straight line here: the commits after `from` up to `to`, oldest first.
    for (const commits of project.branches.values()) {
      const fromAt = commits.findIndex((k) => k.id === from);
      const end = commits.findIndex((k) => k.id === to);
      if (fromAt < 0 || end < 0 || fromAt < end) continue;
      const between = commits.slice(end, fromAt).reverse();
      return c.json({
        commit: commitJson(project, commits[end] as FakeCommit),
        commits: between.map((k) => commitJson(project, k)),
        diffs: [],
        compare_timeout: false,
        compare_same_ref: from === to,
        web_url: `${baseUrl()}/${project.path}/-/compare/${from}...${to}`,
      });
    }
    return apiError(c, 404, '404 Ref Not Found');
  });

  app.post('/api/v4/projects/:id/pipeline', async (c) => {
    const project = projectOf(c.req.param('id'));
    if (!project) return apiError(c, 404, '404 Project Not Found');
    const params = (c.get('body') ?? {}) as { ref?: unknown; variables?: unknown };
    const ref = typeof params.ref === 'string' ? params.ref : (c.req.query('ref') ?? '');
    const head = project.branches.get(ref)?.[0];
    if (!head) return c.json({ message: { base: ['Reference not found'] } }, 400 as ContentfulStatusCode);
    const variables = Array.isArray(params.variables)
      ? params.variables.filter(
          (v): v is { key: string; value: string } =>
            typeof v === 'object' && v !== null && typeof v.key === 'string' && typeof v.value === 'string',
        )
      : [];
    const id = nextPipelineId++;
    const pipeline: FakePipeline = {
      id,
      iid: id - 999,
      projectId: project.id,
      ref,
      sha: head.id,
      status: 'created',
      source: 'api',
      variables: variables.map(({ key, value }) => ({ key, value })),
      jobs: JOBS.map((j) => ({ ...j, id: nextJobId++, status: 'created' })),
      createdAt: isoNow(),
      hooksSent: [],
    };
    pipelines.set(id, pipeline);
    const plan = plans.shift() ?? { outcome: 'success' as const };
    if (delivering[0] === 'before-answer' && plan !== 'hold') {
      delivering.shift();
      // GitLab's hook can reach Signoff before the create call's answer does.
      await finish(pipeline, plan.outcome, 'send');
      return c.json(pipelineJson(pipeline), 201);
    }
    later(10, async () => {
      // A pipeline finished (or canceled) within these 10 ms stays finished, as on GitLab.
      if (pipeline.status !== 'created') return;
      pipeline.status = 'running';
      pipeline.startedAt = isoNow();
      for (const job of pipeline.jobs) job.status = job.stage === 'build' ? 'running' : 'pending';
      await sendHook(pipeline);
    });
    if (plan !== 'hold')
      later(plan.runMs ?? 3000, () => finish(pipeline, plan.outcome, delivering.shift() ?? 'send'));
    return c.json(pipelineJson(pipeline), 201);
  });

  app.get('/api/v4/projects/:id/pipelines/:pid{[0-9]+}', (c) => {
    const pipeline = pipelines.get(Number(c.req.param('pid')));
    const project = projectOf(c.req.param('id'));
    if (!pipeline || !project || pipeline.projectId !== project.id) return apiError(c, 404, '404 Not found');
    return c.json(pipelineJson(pipeline));
  });

  app.post('/api/v4/projects/:id/pipelines/:pid{[0-9]+}/cancel', async (c) => {
    const pipeline = pipelines.get(Number(c.req.param('pid')));
    const project = projectOf(c.req.param('id'));
    if (!pipeline || !project || pipeline.projectId !== project.id) return apiError(c, 404, '404 Not found');
    await finish(pipeline, 'canceled', 'send');
    return c.json(pipelineJson(pipeline));
  });

  return {
    projects,
    pipelines,
    seedProject,
    pushTo(projectId, branch, message) {
      const project = projects.get(projectId);
      if (!project) throw new Error(`no project ${projectId}`);
      const commits = project.branches.get(branch) ?? [];
      const commit: FakeCommit = {
        id: shaOf(`${project.path}:${branch}:push:${commits.length}:${Date.now()}`),
        message: message ?? `Change ${commits.length + 1} on ${branch}`,
        authorName: 'Carol',
        authorEmail: 'carol@example.com',
        committerName: 'Carol',
        committerEmail: 'carol@example.com',
        createdAt: isoNow(),
        parentIds: commits[0] ? [commits[0].id] : [],
      };
      project.branches.set(branch, [commit, ...commits]);
      return commit;
    },
    planNext(...next) {
      plans.push(...next);
    },
    deliverNext(...next) {
      delivering.push(...next);
    },
    async finishPipeline(pipelineId, status, delivery = 'send') {
      const pipeline = pipelines.get(pipelineId);
      if (!pipeline) throw new Error(`no pipeline ${pipelineId}`);
      await finish(pipeline, status, delivery);
    },
    setHookTarget(next) {
      target = next;
    },
    deliveries,
    stop() {
      for (const timer of timers) clearTimeout(timer);
      timers.clear();
    },
  };
}
