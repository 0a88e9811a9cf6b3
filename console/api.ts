import { Hono } from 'hono';
import { z } from 'zod';
import type { DelegationView } from '../core/app.ts';
import { nudgeRefusalError } from '../core/approvals/nudge.ts';
import { refusalError } from '../core/approvals/refusal.ts';
import type { Approval } from '../core/approvals/types.ts';
import { withdrawRefusalError } from '../core/approvals/withdraw.ts';
import { AUDIT_CHAINS, type AuditKind } from '../core/audit.ts';
import { WORKFLOW_KINDS, type WorkflowKind } from '../core/config.ts';
import { parseUntil } from '../core/delegations.ts';
import { InvalidInputError, NotFoundError } from '../core/errors.ts';
import { describeIssues, parseJson, readRawJsonBody } from '../webhooks/body.ts';
import type { AppDeps } from '../webhooks/deps.ts';
import { actingActor, requireIdentity } from './auth.ts';
import { allAuditRecords, toCsv } from './export.ts';
import { parseAuditFilter, parseExecutionFilter, parseKindFilter, parseTime } from './filters.ts';
import { executionDetails, listAllExecutions, listExecutions } from './queries.ts';
import { redactHistory } from './views.ts';

const STATUSES = ['pending', 'approved', 'rejected', 'expired', 'cancelled'] as const;

export const DecisionBody = z
  .object({
    decision: z.enum(['approve', 'reject']),
    /** Demo mode only: who is acting. With a real configuration the signed-in person acts, whatever this says. */
    actor: z.string().min(1).max(64).optional(),
    comment: z.string().max(2000).optional(),
  })
  .strict();

/** `PUT /console/api/delegation`: who decides in your place, and until when (a date or a time with its zone). */
export const DelegationBody = z
  .object({
    to: z.string().min(1).max(128),
    until: z.string().min(1).max(64),
    /** Demo mode only (see DecisionBody). */
    actor: z.string().min(1).max(64).optional(),
  })
  .strict();

function delegationView(view: DelegationView) {
  return { delegation: view.mine ?? null, forOthers: view.forOthers };
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
  app.use('*', requireIdentity(deps, 'api'));

  app.get('/users', (c) =>
    c.json({ users: Object.entries(deps.config.users).map(([key, user]) => ({ key, name: user.name })) }),
  );

  app.get('/approvals', async (c) => {
    const status = c.req.query('status') ?? 'pending';
    if (!(STATUSES as readonly string[]).includes(status))
      throw new InvalidInputError(`unknown status "${status.slice(0, 20)}"`);
    const limitText = c.req.query('limit') ?? '100';
    const limit = Number(limitText);
    if (!Number.isInteger(limit) || limit < 1 || limit > 1000) {
      throw new InvalidInputError('limit must be a whole number from 1 to 1000');
    }
    const approvals = await deps.store.list(status as Approval['status'], { limit });
    return c.json({ approvals });
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
      actor: actingActor(deps, c, actor),
      decision,
      ...(comment ? { comment } : {}),
      now: deps.now(),
    });
    if (result.outcome === 'refused') throw refusalError(result);
    return c.json({ outcome: result.outcome, approval: result.approval });
  });

  // The requester reminds the approvers who have not voted (at most once per 15 minutes).
  app.post('/approvals/:approvalId/nudge', async (c) => {
    const raw = await readRawJsonBody(c, 4 * 1024);
    const parsed = z
      .object({ actor: z.string().min(1).max(64).optional() })
      .strict()
      .safeParse(raw ? parseJson(raw) : {});
    if (!parsed.success) throw new InvalidInputError(describeIssues(parsed.error.issues));
    const result = await deps.signoff.nudge({
      approvalId: c.req.param('approvalId'),
      actor: actingActor(deps, c, parsed.data.actor),
    });
    if (result.outcome === 'refused') throw nudgeRefusalError(result);
    return c.json({ outcome: result.outcome, notified: result.notified, approval: result.approval });
  });

  // The requester withdraws their own pending request (`cancel <id>` in chat, `signoff cancel`).
  app.post('/approvals/:approvalId/cancel', async (c) => {
    const raw = await readRawJsonBody(c, 4 * 1024);
    const parsed = z
      .object({ actor: z.string().min(1).max(64).optional(), reason: z.string().max(500).optional() })
      .strict()
      .safeParse(raw ? parseJson(raw) : {});
    if (!parsed.success) throw new InvalidInputError(describeIssues(parsed.error.issues));
    const result = await deps.signoff.withdraw({
      approvalId: c.req.param('approvalId'),
      actor: actingActor(deps, c, parsed.data.actor),
      ...(parsed.data.reason ? { why: parsed.data.reason } : {}),
    });
    if (result.outcome === 'refused') throw withdrawRefusalError(result);
    return c.json({ outcome: result.outcome, approval: result.approval });
  });

  // Delegation while away (docs/delegation.md), always as the verified person (demo mode: `actor`).
  app.get('/delegation', async (c) => {
    const actor = actingActor(deps, c, c.req.query('actor'));
    return c.json(delegationView(await deps.signoff.delegationsOf(actor.user ?? '')));
  });

  app.put('/delegation', async (c) => {
    const parsed = DelegationBody.safeParse(parseJson(await readRawJsonBody(c, 4 * 1024)));
    if (!parsed.success) throw new InvalidInputError(describeIssues(parsed.error.issues));
    const { to, until, actor } = parsed.data;
    const delegation = await deps.signoff.delegate({
      actor: actingActor(deps, c, actor),
      to,
      until: parseUntil(until),
    });
    return c.json({ delegation });
  });

  app.delete('/delegation', async (c) => {
    const actor = actingActor(deps, c, c.req.query('actor'));
    const ended = await deps.signoff.endDelegation(actor);
    return c.json({ ended: ended ?? null });
  });

  app.get('/notifications', async (c) => {
    // Signed in: your own notifications; demo mode: the user asked for.
    const user = actingActor(deps, c, c.req.query('user')).user ?? '';
    return c.json({ notifications: await deps.notifications.forUser(user) });
  });

  // No kind (or `all`): every kind, newest first, as the CLI and the console page list them.
  app.get('/executions', async (c) => {
    const filter = parseExecutionFilter((name) => c.req.query(name), { kind: 'merge-request' });
    if (parseKindFilter(c.req.query('kind'))) return c.json(await listExecutions(deps, filter));
    if (filter.cursor) throw new InvalidInputError('cursor goes with the kind it was returned for');
    return c.json(await listAllExecutions(deps, WORKFLOW_KINDS, filter));
  });

  app.get('/executions/:executionArn', async (c) => {
    const details = await executionDetails(deps, c.req.param('executionArn'));
    return c.json({ ...details, history: redactHistory(details.history) });
  });

  app.get('/audit', async (c) => {
    const filter = parseAuditFilter((name) => c.req.query(name));
    return c.json(await deps.audit.query(filter));
  });

  // Exactly the rows the filter matches (every page), as CSV or JSON.
  app.get('/audit/export', async (c) => {
    const format = c.req.query('format') ?? 'csv';
    if (format !== 'csv' && format !== 'json') throw new InvalidInputError('format must be csv or json');
    const filter = parseAuditFilter((name) => c.req.query(name));
    const records = await allAuditRecords(deps.audit, filter);
    const stamp = deps.now().toISOString().replace(/[:.]/g, '-');
    c.header('content-disposition', `attachment; filename="signoff-audit-${stamp}.${format}"`);
    c.header('cache-control', 'no-store');
    if (format === 'json')
      return c.json({ filter: { ...filter, cursor: undefined, limit: undefined }, records });
    return c.body(toCsv(records), 200, { 'content-type': 'text/csv; charset=utf-8' });
  });

  // Recompute the audit hash chains (every kind, or ?kind=) from ?since=: `signoff audit verify`.
  app.get('/audit/verify', async (c) => {
    const kind = c.req.query('kind') || undefined;
    if (kind !== undefined && !(AUDIT_CHAINS as readonly string[]).includes(kind))
      throw new InvalidInputError(`unknown kind "${kind.slice(0, 40)}"`);
    const since = parseTime('since', c.req.query('since') || undefined, 'since');
    const chains = await deps.audit.verify({
      ...(kind ? { kind: kind as AuditKind } : {}),
      ...(since ? { since } : {}),
    });
    return c.json({ intact: chains.every((chain) => !chain.broken), chains });
  });

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
