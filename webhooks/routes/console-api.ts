import type { Context } from 'hono';
import { Hono } from 'hono';
import { z } from 'zod';
import type { DecideResult } from '../../core/approvals/decide.ts';
import type { Actor, Approval } from '../../core/approvals/types.ts';
import type { AuditPage } from '../../core/audit.ts';
import { type Config, WORKFLOW_KINDS, type WorkflowKind } from '../../core/config.ts';
import { ConflictError, ForbiddenError, InvalidInputError, NotFoundError } from '../../core/errors.ts';
import { describeIssues, parseJson, readRawJsonBody } from '../body.ts';
import type { AppDeps } from '../deps.ts';
import { loopbackOnly } from './console-guard.ts';
import { executionView, redactHistory } from './console-views.ts';

const STATUSES = ['pending', 'approved', 'rejected', 'expired', 'cancelled'] as const;
const EXECUTION_STATUSES = ['RUNNING', 'SUCCEEDED', 'FAILED', 'TIMED_OUT', 'ABORTED'] as const;

export const DecisionBody = z
  .object({
    decision: z.enum(['approve', 'reject']),
    actor: z.string().min(1).max(64),
    comment: z.string().max(2000).optional(),
  })
  .strict();

/** A configured user acting in the console, or a 403. */
export function consoleActor(config: Config, user: string): Actor {
  const entry = config.users[user];
  if (!entry) throw new ForbiddenError(`"${user.slice(0, 64)}" is not a configured user`);
  return { platform: 'console', id: entry.console ?? user, name: entry.name, user };
}

/** Turn a refused decision into the HTTP error a client can act on. */
export function refusalError(result: Extract<DecideResult, { outcome: 'refused' }>): Error {
  switch (result.reason) {
    case 'not-found':
      return new NotFoundError(result.message, { code: 'ApprovalNotFound' });
    case 'not-an-approver':
      return new ForbiddenError(result.message, { code: 'NotAnApprover' });
    case 'self-approval':
      return new ForbiddenError(result.message, { code: 'SelfApproval' });
    case 'already-voted':
      return new ConflictError(result.message, { code: 'AlreadyVoted' });
    case 'already-decided':
      return new ConflictError(result.message, { code: 'AlreadyDecided' });
    case 'expired':
      return new ConflictError(result.message, { code: 'Expired' });
    case 'busy':
      return new ConflictError(result.message, { code: 'Busy' });
  }
}

export function parseKind(value: string | undefined): WorkflowKind | undefined {
  if (value === undefined || value === '') return undefined;
  if (!(WORKFLOW_KINDS as readonly string[]).includes(value))
    throw new InvalidInputError(`unknown workflow kind "${value.slice(0, 40)}"`);
  return value as WorkflowKind;
}

/** The console's JSON API (also what tests and scripts drive). */
export function consoleApi(deps: AppDeps): Hono {
  const app = new Hono();
  app.use('*', loopbackOnly(deps));

  app.get('/users', (c) =>
    c.json({ users: Object.entries(deps.config.users).map(([key, user]) => ({ key, name: user.name })) }),
  );

  app.get('/approvals', async (c) => {
    const status = c.req.query('status') ?? 'pending';
    if (!(STATUSES as readonly string[]).includes(status))
      throw new InvalidInputError(`unknown status "${status.slice(0, 20)}"`);
    const approvals = await deps.store.list(status as Approval['status']);
    return c.json({ approvals: approvals });
  });

  app.get('/approvals/:approvalId', async (c) => {
    const approval = await deps.store.get(c.req.param('approvalId'));
    if (!approval) throw new NotFoundError('no such approval', { code: 'ApprovalNotFound' });
    return c.json({ approval: approval });
  });

  app.post('/approvals/:approvalId/decision', async (c) => {
    const parsed = DecisionBody.safeParse(parseJson(await readRawJsonBody(c, 64 * 1024)));
    if (!parsed.success) throw new InvalidInputError(describeIssues(parsed.error.issues));
    const { decision, actor, comment } = parsed.data;
    const result = await deps.approvals.decide({
      approvalId: c.req.param('approvalId'),
      actor: consoleActor(deps.config, actor),
      decision,
      ...(comment ? { comment } : {}),
      now: deps.now(),
    });
    if (result.outcome === 'refused') throw refusalError(result);
    return c.json({ outcome: result.outcome, approval: result.approval });
  });

  app.get('/notifications', async (c) => {
    const user = c.req.query('user') ?? '';
    consoleActor(deps.config, user);
    return c.json({ notifications: await deps.notifications.forUser(user) });
  });

  app.get('/executions', async (c) => {
    const kind = parseKind(c.req.query('kind')) ?? 'merge-request';
    const status = c.req.query('status');
    if (status && !(EXECUTION_STATUSES as readonly string[]).includes(status)) {
      throw new InvalidInputError(`unknown execution status "${status.slice(0, 20)}"`);
    }
    const page = await deps.engine.list(kind, {
      ...(status ? { status: status as (typeof EXECUTION_STATUSES)[number] } : {}),
      ...(c.req.query('cursor') ? { cursor: c.req.query('cursor') } : {}),
    });
    return c.json(page);
  });

  app.get('/executions/:executionArn', async (c) => {
    const view = await executionView(deps, c.req.param('executionArn'));
    return c.json({ ...view, history: redactHistory(view.history) });
  });

  app.get('/audit', async (c) => c.json(await auditQuery(deps, c)));

  app.post('/demo/merge-requests', async (c) => {
    if (!deps.demo) throw new NotFoundError('no demo stand-ins here: GITLAB_URL points at a real GitLab');
    const raw = await readRawJsonBody(c, 16 * 1024);
    const parsed = z
      .object({ title: z.string().max(200).optional(), author: z.string().max(64).optional() })
      .strict()
      .safeParse(raw ? parseJson(raw) : {});
    if (!parsed.success) throw new InvalidInputError(describeIssues(parsed.error.issues));
    const result = await deps.demo.simulateMergeRequest(parsed.data);
    return c.json(result.body as object, result.status === 202 ? 202 : 502);
  });

  return app;
}

/** The audit query shared by the API and the page: by execution, by actor or by kind (never a Scan). */
export async function auditQuery(deps: AppDeps, c: Context): Promise<AuditPage> {
  const execution = c.req.query('execution');
  if (execution) return { records: await deps.audit.byExecution(execution) };
  const range = {
    ...(c.req.query('since') ? { since: c.req.query('since') } : {}),
    ...(c.req.query('until') ? { until: c.req.query('until') } : {}),
    ...(c.req.query('cursor') ? { cursor: c.req.query('cursor') } : {}),
  };
  const actor = c.req.query('actor');
  if (actor) {
    const user = deps.config.users[actor] ? actor : undefined;
    return deps.audit.byActor(user ?? actor, range);
  }
  return deps.audit.byKind(parseKind(c.req.query('kind')) ?? 'merge-request', range);
}
