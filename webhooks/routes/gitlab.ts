import { createHash } from 'node:crypto';
import { Hono } from 'hono';
import { InvalidInputError } from '../../core/errors.ts';
import { MergeRequestHook, mergeRequestTrigger } from '../../workflows/merge-request.ts';
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
  'Pipeline Hook',
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

/**
 * Execution names this process started recently. A redelivered webhook (GitLab retries,
 * "Resend", a burst of duplicates) is answered from here without a round trip; Step
 * Functions' own idempotency on the name stays the real guard (other processes, restarts).
 */
class RecentStarts {
  private readonly names = new Map<string, { executionArn: string; at: number }>();
  constructor(
    private readonly max = 10_000,
    private readonly ttlMs = 10 * 60_000,
  ) {}
  get(name: string, now: number): string | undefined {
    const hit = this.names.get(name);
    if (!hit || now - hit.at > this.ttlMs) return undefined;
    return hit.executionArn;
  }
  add(name: string, executionArn: string, now: number): void {
    // Oldest first (a Map keeps insertion order): drop what has expired, and the oldest when
    // full, so the map holds at most the last ten minutes of starts, not the last 10,000.
    for (const [oldest, hit] of this.names) {
      if (this.names.size < this.max && now - hit.at <= this.ttlMs) break;
      this.names.delete(oldest);
    }
    this.names.delete(name);
    this.names.set(name, { executionArn, at: now });
  }
}

/** POST /webhooks/gitlab: verify → parse → start, cancel or ignore. */
export function gitlabWebhook(deps: AppDeps): Hono {
  const app = new Hono();
  const recent = new RecentStarts();
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
    // The very same delivery again (a retry, "Resend", a burst): answered before any parsing.
    const bodyKey = `body:${createHash('sha256').update(event).update('\n').update(raw).digest('base64url')}`;
    const again = recent.get(bodyKey, now.getTime());
    if (again) return c.json({ executionArn: again, started: true, cancelled: [] }, 202);
    const body = parseJson(raw);
    if (IGNORED_EVENTS.has(event)) return c.json({ ignored: `${event} events need no approval` }, 202);
    if (event !== 'Merge Request Hook')
      throw new InvalidInputError(`unknown X-Gitlab-Event "${event.slice(0, 64)}"`);

    const parsed = MergeRequestHook.safeParse(body);
    if (!parsed.success)
      throw new InvalidInputError(`not a merge request event: ${describeIssues(parsed.error.issues)}`);
    const hook = parsed.data;
    const trigger = mergeRequestTrigger(hook, deps.config);
    const actor = {
      platform: 'gitlab' as const,
      id: hook.user.username,
      name: hook.user.name ?? hook.user.username,
    };

    if (trigger.action === 'ignore') return c.json({ ignored: trigger.reason }, 202);
    if (trigger.action === 'cancel') {
      const cancelled = await deps.approvals.cancelSubject(trigger.subject, trigger.reason, actor, now);
      return c.json({ cancelled: cancelled.map((a) => a.approvalId) }, 202);
    }

    const seen = recent.get(trigger.name, now.getTime());
    if (seen) return c.json({ executionArn: seen, started: true, cancelled: [] }, 202);

    const executionArn = deps.engine.executionArn('merge-request', trigger.name);
    const cancelled = trigger.cancelReason
      ? await deps.approvals.cancelSubject(
          trigger.input.approval.subject ?? '',
          trigger.cancelReason,
          actor,
          now,
          {
            exceptExecution: executionArn,
          },
        )
      : [];
    const result = await deps.engine.start('merge-request', trigger.name, trigger.input);
    if (result.started) {
      await deps.audit.append(
        {
          kind: 'merge-request',
          executionArn: result.executionArn,
          action: 'execution.requested',
          actor: trigger.input.requester,
          outcome: 'started',
          at: result.startDate.toISOString(),
          detail: {
            project: hook.project.path_with_namespace,
            iid: hook.object_attributes.iid,
            sha: trigger.input.mergeRequest.sha,
            // The record's actor is who acted (opened, pushed); the author, who the approval's
            // requester will be, by GitLab id (PrepareMergeRequest reads their name).
            ...(hook.object_attributes.author_id !== undefined
              ? { authorId: hook.object_attributes.author_id }
              : {}),
          },
        },
        // A redelivery maps to the same execution and start date: one record.
        { once: `${result.executionArn}#requested` },
      );
    }
    if (result.started) {
      recent.add(trigger.name, result.executionArn, now.getTime());
      recent.add(bodyKey, result.executionArn, now.getTime());
    }
    deps.log('info', 'merge request webhook', { executionArn: result.executionArn, started: result.started });
    return c.json(
      {
        executionArn: result.executionArn,
        started: result.started,
        cancelled: cancelled.map((a) => a.approvalId),
      },
      202,
    );
  });
  return app;
}
