import { createHash } from 'node:crypto';
import { Hono } from 'hono';
import { z } from 'zod';
import type { Approval } from '../../core/approvals/types.ts';
import { isWorkflowEnabled } from '../../core/config.ts';
import type { Once } from '../../core/dedupe.ts';
import { InvalidInputError, WorkflowDisabledError } from '../../core/errors.ts';
import { isFinalStatus, type PipelineResult, resumeWhenReady } from '../../core/pipelines.ts';
import {
  MergeRequestHook,
  type MergeRequestTrigger,
  mergeRequestTrigger,
} from '../../workflows/merge-request.ts';
import { describeIssues, parseJson, readRawJsonBody } from '../body.ts';
import type { AppDeps } from '../deps.ts';
import { verifyGitLabRequest } from '../verify-gitlab.ts';

/** Events GitLab sends that Signoff does not act on (yet): acknowledged, not an error. */
const IGNORED_EVENTS = new Set([
  'Push Hook',
  'Tag Push Hook',
  'Note Hook',
  'Confidential Note Hook',
  'Issue Hook',
  'Confidential Issue Hook',
  'Job Hook',
  'Wiki Page Hook',
  'Deployment Hook',
  'Release Hook',
  'Feature Flag Hook',
  'Emoji Hook',
  'Resource Access Token Hook',
  'Member Hook',
  'Subgroup Hook',
  'Project Hook',
  'Vulnerability Hook',
]);

/** What the route answers for one delivery; kept with its Idempotency-Key so a redelivery gets the same. */
const Answer = z.object({
  status: z.union([z.literal(200), z.literal(202)]),
  body: z.record(z.string(), z.unknown()),
});
type Answer = z.infer<typeof Answer>;

/** GitLab's delivery id: a UUID today; anything else printable and short is taken as it is. */
const DELIVERY_KEY = /^[\x21-\x7e]{1,200}$/;

/**
 * Answers this process gave recently, by Idempotency-Key and by body. A burst of redeliveries
 * (GitLab retries, "Resend") is answered from here without a round trip; the store
 * (`deps.dedupe`, shared by every process and kept across restarts) is the real guard, and
 * Step Functions' idempotency on the execution name the last one.
 */
class RecentAnswers {
  private readonly answers = new Map<string, { answer: Answer; at: number }>();
  constructor(
    private readonly max = 10_000,
    private readonly ttlMs = 10 * 60_000,
  ) {}
  get(key: string, now: number): Answer | undefined {
    const hit = this.answers.get(key);
    if (!hit || now - hit.at > this.ttlMs) return undefined;
    return hit.answer;
  }
  add(key: string, answer: Answer, now: number): void {
    // Oldest first (a Map keeps insertion order): drop what has expired, and the oldest when
    // full, so the map holds at most the last ten minutes of answers, not the last 10,000.
    for (const [oldest, hit] of this.answers) {
      if (this.answers.size < this.max && now - hit.at <= this.ttlMs) break;
      this.answers.delete(oldest);
    }
    this.answers.delete(key);
    this.answers.set(key, { answer, at: now });
  }
}

/** POST /webhooks/gitlab: verify → parse → start, cancel or ignore, once per delivery. */
export function gitlabWebhook(deps: AppDeps): Hono {
  const app = new Hono();
  const recent = new RecentAnswers();
  app.post('/', async (c) => {
    const raw = await readRawJsonBody(c, deps.config.maxBodyBytes);
    const now = deps.now();
    verifyGitLabRequest(
      raw,
      (name) => c.req.header(name),
      { webhookToken: deps.gitlabWebhookToken, signingToken: deps.gitlabSigningToken },
      now,
    );

    const event = c.req.header('x-gitlab-event');
    if (!event) throw new InvalidInputError('missing X-Gitlab-Event header');
    // GitLab keeps Idempotency-Key across retries and "Resend" of one delivery; a signed
    // delivery's webhook-id carries the same value and is covered by the signature, so whoever
    // replays a captured delivery cannot give it a fresh id.
    const candidate =
      (deps.gitlabSigningToken && c.req.header('webhook-id')) || c.req.header('idempotency-key');
    const deliveryKey = candidate && DELIVERY_KEY.test(candidate) ? candidate : undefined;
    // With a delivery id, that id is the delivery; without one (older GitLab), its bytes are.
    const cacheKey = deliveryKey
      ? `key:${deliveryKey}`
      : `body:${createHash('sha256').update(event).update('\n').update(raw).digest('base64url')}`;
    const again = recent.get(cacheKey, now.getTime());
    if (again) return c.json(again.body, again.status);

    const body = parseJson(raw);
    if (event === 'Pipeline Hook') {
      const pipeline = PipelineHook.safeParse(body);
      if (!pipeline.success)
        throw new InvalidInputError(`not a pipeline event: ${describeIssues(pipeline.error.issues)}`);
      const hook = pipeline.data;
      const status = hook.object_attributes.status;
      if (!deps.pipelines) return c.json({ ignored: 'releases are not set up here' }, 202);
      if (!isFinalStatus(status))
        return c.json({ ignored: `pipeline status ${status.slice(0, 32)} is not final` }, 202);
      // Signoff creates its pipelines through the API; a final status of any other pipeline is not ours.
      const source = hook.object_attributes.source;
      if (source && source !== 'api')
        return c.json({ ignored: `a ${source.slice(0, 32)} pipeline is not a release` }, 202);
      const act = () => settlePipeline(deps, hook, status, now);
      const once = deliveryKey
        ? await deps.dedupe.once('gitlab', deliveryKey, now, act, (value) => value)
        : ({ duplicate: false, value: await act() } as const);
      const answer = replay(once);
      if (!once.duplicate || once.state === 'done') recent.add(cacheKey, answer, now.getTime());
      return c.json(answer.body, answer.status);
    }
    if (event !== 'Merge Request Hook') {
      if (IGNORED_EVENTS.has(event)) return c.json({ ignored: `${event} events need no approval` }, 202);
      // Verified, so it is GitLab: a kind of event added after this list was written. An error
      // here would count towards disabling the hook (4 failures in a row), stopping merge
      // request events too.
      return c.json({ ignored: `X-Gitlab-Event "${event.slice(0, 64)}" is not handled` }, 200);
    }

    // A team without a merge-request policy uses Signoff for other workflows: not an error GitLab
    // would count towards disabling the hook.
    if (!isWorkflowEnabled(deps.config, 'merge-request'))
      return c.json({ ignored: new WorkflowDisabledError('merge-request').message }, 202);
    const parsed = MergeRequestHook.safeParse(body);
    if (!parsed.success)
      throw new InvalidInputError(`not a merge request event: ${describeIssues(parsed.error.issues)}`);
    const hook = parsed.data;
    const trigger = mergeRequestTrigger(hook, deps.config);
    if (trigger.action === 'ignore') return c.json({ ignored: trigger.reason }, 202);

    const act = () => actOn(deps, hook, trigger, now);
    const once = deliveryKey
      ? await deps.dedupe.once('gitlab', deliveryKey, now, act, (value) => value)
      : ({ duplicate: false, value: await act() } as const);
    const answer = replay(once);
    // Not an answer to keep while the first delivery is still being processed.
    if (!once.duplicate || once.state === 'done') recent.add(cacheKey, answer, now.getTime());
    return c.json(answer.body, answer.status);
  });
  return app;
}

/** The Pipeline Hook fields Signoff reads (GitLab docs, "Pipeline events"); everything else is ignored. */
const PipelineHook = z.object({
  object_kind: z.literal('pipeline'),
  object_attributes: z.object({
    id: z.number().int().positive(),
    status: z.string().min(1).max(64),
    source: z.string().max(64).nullish(),
    sha: z.string().max(64).nullish(),
    duration: z.number().nullish(),
    finished_at: z.string().max(64).nullish(),
    url: z.string().max(2048).nullish(),
  }),
  builds: z
    .array(
      z.object({
        name: z.string().max(255),
        status: z.string().max(64),
        stage: z.string().max(255).nullish(),
      }),
    )
    .max(1000)
    .nullish(),
});
type PipelineHook = z.infer<typeof PipelineHook>;

/**
 * Keep the pipeline's final status (the first one wins) and resume its release when its task
 * token is stored; when the hook overtook the task that stores it, the task applies it. A
 * duplicate (another delivery of the same status) changes nothing.
 */
async function settlePipeline(
  deps: AppDeps,
  hook: PipelineHook,
  status: PipelineResult['status'],
  now: Date,
): Promise<Answer> {
  const pipelines = deps.pipelines;
  if (!pipelines) return { status: 202, body: { ignored: 'releases are not set up here' } };
  const attributes = hook.object_attributes;
  const failedJob = hook.builds?.find((b) => b.status === 'failed')?.name;
  const record = await pipelines.record(
    {
      pipelineId: attributes.id,
      status,
      duration: attributes.duration ?? null,
      finishedAt: attributes.finished_at ?? null,
      webUrl: attributes.url ?? null,
      ...(failedJob ? { failedJob } : {}),
      via: 'hook',
    },
    now,
  );
  const resumed = await resumeWhenReady(pipelines, deps.engine, record, now);
  deps.log('info', 'pipeline hook', { pipelineId: attributes.id, status, resumed });
  return { status: 202, body: { pipelineId: attributes.id, status, resumed } };
}

/** The answer for a delivery seen before: the one it got, or "in progress". Always 2xx (GitLab disables failing hooks). */
function replay(once: Once<Answer>): Answer {
  if (!once.duplicate) return once.value;
  const first = Answer.safeParse(once.result);
  if (first.success) return first.data;
  return {
    status: 202,
    body: { duplicate: once.state === 'done' ? 'already processed' : 'being processed' },
  };
}

/**
 * Start or cancel for one merge request event. An event older than a pending approval (a late
 * or redelivered one) starts nothing and leaves that approval alone; it still cancels what is
 * older than itself when it is a push, close or merge.
 */
async function actOn(
  deps: AppDeps,
  hook: MergeRequestHook,
  trigger: Exclude<MergeRequestTrigger, { action: 'ignore' }>,
  now: Date,
): Promise<Answer> {
  const actor = {
    platform: 'gitlab' as const,
    id: hook.user.username,
    name: hook.user.name ?? hook.user.username,
  };
  const subject = trigger.action === 'cancel' ? trigger.subject : (trigger.input.approval.subject ?? '');
  const executionArn =
    trigger.action === 'start' ? deps.engine.executionArn('merge-request', trigger.name) : undefined;

  const { newer, older } = await pendingByAge(deps, hook, subject, executionArn);
  if (newer) {
    deps.log('info', 'merge request webhook older than a pending approval', {
      approvalId: newer.approvalId,
      executionArn: newer.executionArn,
    });
    const reason = trigger.action === 'cancel' ? trigger.reason : trigger.cancelReason;
    const cancelled: string[] = [];
    for (const approval of reason ? older : []) {
      const done = await deps.approvals.cancel(approval.approvalId, reason ?? '', actor, now);
      if (done) cancelled.push(done.approvalId);
    }
    return {
      status: 202,
      body: {
        ignored: `this event is older than the pending approval ${newer.approvalId}, which stands`,
        approvalId: newer.approvalId,
        cancelled,
      },
    };
  }

  if (trigger.action === 'cancel') {
    const cancelled = await deps.approvals.cancelSubject(trigger.subject, trigger.reason, actor, now);
    return { status: 202, body: { cancelled: cancelled.map((a) => a.approvalId) } };
  }

  const cancelled = trigger.cancelReason
    ? await deps.approvals.cancelSubject(subject, trigger.cancelReason, actor, now, {
        exceptExecution: executionArn,
      })
    : [];
  const mr = hook.object_attributes;
  const result = await deps.signoff.startWorkflow({
    kind: 'merge-request',
    name: trigger.name,
    input: trigger.input,
    by: trigger.input.requester,
    detail: {
      project: hook.project.path_with_namespace,
      iid: mr.iid,
      sha: trigger.input.mergeRequest.sha,
      // What orders this request against later events of the merge request (newerApproval).
      ...(mr.updated_at ? { updatedAt: mr.updated_at } : {}),
      ...(mr.oldrev ? { oldrev: mr.oldrev } : {}),
      // The record's actor is who acted (opened, pushed); the author, who the approval's
      // requester will be, by GitLab id (PrepareMergeRequest reads their name).
      ...(mr.author_id !== undefined ? { authorId: mr.author_id } : {}),
    },
  });
  deps.log('info', 'merge request webhook', { executionArn: result.executionArn, started: result.started });
  return {
    status: 202,
    body: {
      executionArn: result.executionArn,
      started: result.started,
      cancelled: cancelled.map((a) => a.approvalId),
    },
  };
}

/**
 * The pending approvals of this merge request (but `exceptExecution`'s), split by whether they
 * were asked for by a later event than `hook`. With one that is newer, the hook is a late or
 * redelivered one (an old push arriving after a newer push started its approval): it must
 * neither cancel that approval nor start one for a stale head.
 *
 * Order comes from GitLab's own `object_attributes.updated_at` (GitLab's clock, whole seconds),
 * compared with the one recorded when the approval's execution was requested. It is read from
 * the execution's request record (`signoff.requestOf`) rather than from the execution's input because the
 * webhook function may read the table but, on AWS, may describe executions only when the
 * console is enabled; asking GitLab for the current head instead would add a call to another
 * service (and its failures) to every push, inside GitLab's 10-second delivery timeout. Within
 * one second the push chain decides: the approval's push left exactly this hook's head.
 * Approvals whose request has no time count as older: requested before this rule, or (a window
 * of one DynamoDB write, well inside PrepareMergeRequest's GitLab calls) stored before their
 * webhook wrote the record. Treating those as newer instead would let an approval whose record
 * was never written block every later push.
 */
async function pendingByAge(
  deps: AppDeps,
  hook: MergeRequestHook,
  subject: string,
  exceptExecution: string | undefined,
): Promise<{ newer?: Approval; older: Approval[] }> {
  const ours = gitlabTime(hook.object_attributes.updated_at);
  if (ours === undefined) return { older: [] };
  let newer: Approval | undefined;
  const older: Approval[] = [];
  for (const pending of await deps.store.pendingFor(subject)) {
    if (pending.executionArn === exceptExecution) continue;
    const requested = await deps.signoff.requestOf(pending.executionArn);
    const theirs = gitlabTime(requested?.detail?.updatedAt);
    const sameSecondLater =
      theirs === ours && requested?.detail?.oldrev === hook.object_attributes.last_commit.id;
    if (theirs !== undefined && (theirs > ours || sameSecondLater)) newer ??= pending;
    else older.push(pending);
  }
  return newer ? { newer, older } : { older };
}

/** GitLab's hook times, `2026-01-12T11:30:05Z` or `2025-11-03 09:12:40 UTC`, in ms; undefined if neither. */
function gitlabTime(value: unknown): number | undefined {
  if (typeof value !== 'string') return undefined;
  const iso = value.replace(/^(\d{4}-\d\d-\d\d) (\d\d:\d\d:\d\d(?:\.\d+)?) UTC$/, '$1T$2Z');
  if (!/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(?:\.\d+)?(?:Z|[+-]\d\d:?\d\d)$/.test(iso)) return undefined;
  const ms = Date.parse(iso);
  return Number.isNaN(ms) ? undefined : ms;
}
