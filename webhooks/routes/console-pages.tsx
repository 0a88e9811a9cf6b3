import type { HistoryEvent } from '@aws-sdk/client-sfn';
import { Hono } from 'hono';
import { csrf } from 'hono/csrf';
import type { Child } from 'hono/jsx';
import type { Approval } from '../../core/approvals/types.ts';
import type { AuditRecord } from '../../core/audit.ts';
import { WORKFLOW_KINDS } from '../../core/config.ts';
import { InvalidInputError } from '../../core/errors.ts';
import type { AppDeps } from '../deps.ts';
import { auditQuery, consoleActor, parseKind, refusalError } from './console-api.ts';
import { loopbackOnly } from './console-guard.ts';
import { executionView, redactHistory } from './console-views.ts';

const STYLE = `
body{font:15px/1.45 system-ui,sans-serif;margin:0;color:#1d2330;background:#f5f6f8}
header{background:#1d2330;color:#fff;padding:.6rem 1rem;display:flex;gap:1rem;flex-wrap:wrap;align-items:center}
header a{color:#cfe0ff;text-decoration:none}header strong{margin-right:1rem}
main{padding:1rem;max-width:1100px;margin:auto}
.card{background:#fff;border:1px solid #d8dce3;border-radius:8px;padding:1rem;margin:0 0 1rem}
.card h3{margin:.1rem 0 .4rem}.muted{color:#667}.flash{background:#fff7d6;border-color:#e9d27a}
.standin{background:#eef6ff;border-color:#9cc3f0}
dl{display:grid;grid-template-columns:max-content 1fr;gap:.2rem .8rem;margin:.4rem 0}dt{color:#667}dd{margin:0;word-break:break-word}
table{border-collapse:collapse;width:100%;background:#fff}th,td{border-bottom:1px solid #e3e6ea;padding:.35rem .5rem;text-align:left;vertical-align:top;font-size:14px}
td pre{white-space:pre-wrap;word-break:break-all;margin:0;max-height:12rem;overflow:auto;font-size:12px}
button{font:inherit;padding:.35rem .9rem;border-radius:6px;border:1px solid #888;background:#fff;cursor:pointer}
button.approve{background:#1f7a3a;color:#fff;border-color:#1f7a3a}button.reject{background:#a12a2a;color:#fff;border-color:#a12a2a}
form.inline{display:inline-flex;gap:.4rem;align-items:center;flex-wrap:wrap;margin:.3rem .6rem .3rem 0}
input[type=text],select{font:inherit;padding:.3rem;border:1px solid #aaa;border-radius:5px}
.status{font-weight:600}.s-pending,.s-RUNNING{color:#9a6a00}.s-approved,.s-SUCCEEDED{color:#1f7a3a}
.s-rejected,.s-FAILED,.s-ABORTED,.s-TIMED_OUT,.s-expired,.s-cancelled{color:#a12a2a}
.table-wrap{overflow-x:auto}
`;

function Layout(props: { title: string; children?: Child; as?: string }) {
  const as = props.as ? `?as=${encodeURIComponent(props.as)}` : '';
  return (
    <html lang="en">
      <head>
        <meta charset="utf-8" />
        <meta name="viewport" content="width=device-width, initial-scale=1" />
        <title>{`${props.title} · Signoff`}</title>
        <style>{STYLE}</style>
      </head>
      <body>
        <header>
          <strong>Signoff console</strong>
          <a href={`/console${as}`}>Approvals</a>
          <a href="/console/executions">Executions</a>
          <a href="/console/audit">Audit</a>
        </header>
        <main>{props.children}</main>
      </body>
    </html>
  );
}

function Status(props: { value: string }) {
  return <span class={`status s-${props.value}`}>{props.value}</span>;
}

function executionLink(arn: string): string {
  return `/console/executions/${encodeURIComponent(arn)}`;
}

function ApprovalCard(props: { approval: Approval; as?: string }) {
  const a = props.approval;
  const approvals = a.votes.filter((v) => v.decision === 'approve').length;
  return (
    <section class="card" data-approval-id={a.approvalId}>
      <h3>{a.card.title}</h3>
      {a.card.summary ? <p>{a.card.summary}</p> : null}
      <dl>
        {a.card.fields.map((f) => (
          <>
            <dt>{f.label}</dt>
            <dd>{f.value}</dd>
          </>
        ))}
        <dt>Requested by</dt>
        <dd>{a.requester.name}</dd>
        <dt>Status</dt>
        <dd>
          <Status value={a.status} />
          {a.status === 'pending' ? ` · ${approvals} of ${a.policy.required} approvals` : ''}
          {a.reason ? ` · ${a.reason}` : ''}
        </dd>
        <dt>Approvers</dt>
        <dd>{a.policy.approvers.join(', ')}</dd>
        {a.votes.length > 0 ? (
          <>
            <dt>Votes</dt>
            <dd>
              {a.votes.map((v) => (
                <div>{`${v.actor.name}: ${v.decision}${v.comment ? ` (“${v.comment}”)` : ''} at ${v.at}`}</div>
              ))}
            </dd>
          </>
        ) : null}
        <dt>Links</dt>
        <dd>
          {a.card.links.map((l) => (
            <div>
              <a href={l.url}>{l.label}</a>
            </div>
          ))}
          <a href={executionLink(a.executionArn)}>History in this console</a>
        </dd>
      </dl>
      {a.status === 'pending' ? (
        <div>
          <form class="inline" method="post" action={`/console/approvals/${a.approvalId}/decide`}>
            <input type="hidden" name="actor" value={props.as ?? ''} />
            <input type="hidden" name="decision" value="approve" />
            <button class="approve" type="submit">
              Approve
            </button>
          </form>
          <form class="inline" method="post" action={`/console/approvals/${a.approvalId}/decide`}>
            <input type="hidden" name="actor" value={props.as ?? ''} />
            <input type="hidden" name="decision" value="reject" />
            <input
              type="text"
              name="comment"
              placeholder="Reason (optional)"
              maxlength={2000}
              aria-label="Reason"
            />
            <button class="reject" type="submit">
              Reject
            </button>
          </form>
        </div>
      ) : null}
    </section>
  );
}

function HistoryTable(props: { history: HistoryEvent[] }) {
  return (
    <div class="table-wrap">
      <table>
        <thead>
          <tr>
            <th>#</th>
            <th>Type</th>
            <th>Time</th>
            <th>Details</th>
          </tr>
        </thead>
        <tbody>
          {props.history.map((e) => {
            const details = Object.entries(e).find(([k]) => k.endsWith('EventDetails'))?.[1];
            return (
              <tr data-event-type={e.type}>
                <td>{e.id}</td>
                <td>{e.type}</td>
                <td>{e.timestamp ? new Date(e.timestamp).toISOString() : ''}</td>
                <td>{details ? <pre>{JSON.stringify(details, null, 1)}</pre> : null}</td>
              </tr>
            );
          })}
        </tbody>
      </table>
    </div>
  );
}

function AuditTable(props: { records: AuditRecord[] }) {
  return (
    <div class="table-wrap">
      <table>
        <thead>
          <tr>
            <th>Time</th>
            <th>Kind</th>
            <th>Action</th>
            <th>Actor</th>
            <th>Outcome</th>
            <th>Execution</th>
          </tr>
        </thead>
        <tbody>
          {props.records.map((r) => (
            <tr>
              <td>{r.at}</td>
              <td>{r.kind}</td>
              <td>{r.action}</td>
              <td>{`${r.actor.name} (${r.actor.platform}:${r.actor.id})`}</td>
              <td>{r.outcome}</td>
              <td>
                <a href={executionLink(r.executionArn)}>{r.executionArn.split(':').pop()}</a>
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}

/** The server-rendered console: approvals inbox, executions, one execution's history, audit. */
export function consolePages(deps: AppDeps): Hono {
  const app = new Hono();
  app.use('*', loopbackOnly(deps));
  // Form posts must come from the console's own pages (a page elsewhere cannot post to loopback).
  app.use('*', csrf());

  app.get('/', async (c) => {
    const users = Object.entries(deps.config.users);
    const asParam = c.req.query('as');
    const as = asParam && deps.config.users[asParam] ? asParam : undefined;
    const flash = c.req.query('flash');
    const [pending, approved, rejected, notifications] = await Promise.all([
      deps.store.list('pending'),
      deps.store.list('approved', { limit: 10 }),
      deps.store.list('rejected', { limit: 10 }),
      as ? deps.notifications.forUser(as, 10) : Promise.resolve([]),
    ]);
    return c.html(
      <Layout title="Approvals" {...(as ? { as } : {})}>
        {flash ? <div class="card flash">{flash.slice(0, 300)}</div> : null}
        <form class="inline" method="get" action="/console">
          <label>
            Acting as{' '}
            <select name="as" aria-label="Acting user">
              <option value="">— choose a user —</option>
              {users.map(([key, user]) => (
                <option value={key} selected={key === as}>{`${user.name} (${key})`}</option>
              ))}
            </select>
          </label>
          <button type="submit">Switch</button>
        </form>
        {deps.demo ? (
          <section class="card standin">
            <h3>Demo</h3>
            <p>
              GitLab here is the <strong>demo GitLab stand-in</strong> (local, not a real GitLab) at{' '}
              <a href={deps.demo.gitlabUrl}>{deps.demo.gitlabUrl}</a>. Set GITLAB_URL and GITLAB_TOKEN to use
              yours.
            </p>
            <form class="inline" method="post" action="/console/demo/merge-request">
              <input
                type="text"
                name="title"
                placeholder="Merge request title"
                maxlength={200}
                aria-label="Title"
              />
              <button type="submit">Simulate a merge request</button>
            </form>
          </section>
        ) : null}
        {notifications.length > 0 ? (
          <section class="card">
            <h3>Your notifications</h3>
            {notifications.map((n) => (
              <div>
                <span class="muted">{n.at}</span> {n.text}
              </div>
            ))}
          </section>
        ) : null}
        <h2>Pending approvals ({pending.length})</h2>
        {pending.length === 0 ? <p class="muted">Nothing waits for a decision.</p> : null}
        {!as && pending.length > 0 ? (
          <p class="muted">Choose who you are acting as to approve or reject.</p>
        ) : null}
        {pending.map((a) => (
          <ApprovalCard approval={a} {...(as ? { as } : {})} />
        ))}
        <h2>Recently decided</h2>
        {[...approved, ...rejected]
          .sort((x, y) => (y.decidedAt ?? '').localeCompare(x.decidedAt ?? ''))
          .map((a) => (
            <ApprovalCard approval={a} />
          ))}
      </Layout>,
    );
  });

  app.post('/approvals/:approvalId/decide', async (c) => {
    const form = await c.req.parseBody();
    const actor = typeof form.actor === 'string' ? form.actor : '';
    const decision = form.decision === 'approve' || form.decision === 'reject' ? form.decision : undefined;
    const comment =
      typeof form.comment === 'string' && form.comment.trim()
        ? form.comment.trim().slice(0, 2000)
        : undefined;
    if (!actor)
      return c.redirect(`/console?flash=${encodeURIComponent('Choose who you are acting as first.')}`, 303);
    if (!decision) throw new InvalidInputError('decision must be approve or reject');
    const result = await deps.approvals.decide({
      approvalId: c.req.param('approvalId'),
      actor: consoleActor(deps.config, actor),
      decision,
      ...(comment ? { comment } : {}),
      now: deps.now(),
    });
    const message =
      result.outcome === 'refused'
        ? `Not recorded: ${refusalError(result).message}`
        : result.outcome === 'completed'
          ? `Recorded: the request is ${result.approval.status}.`
          : `Recorded: ${result.remaining} more approval(s) needed.`;
    return c.redirect(`/console?as=${encodeURIComponent(actor)}&flash=${encodeURIComponent(message)}`, 303);
  });

  app.post('/demo/merge-request', async (c) => {
    if (!deps.demo) throw new InvalidInputError('no demo stand-ins here');
    const form = await c.req.parseBody();
    const title =
      typeof form.title === 'string' && form.title.trim() ? form.title.trim().slice(0, 200) : undefined;
    const result = await deps.demo.simulateMergeRequest(title ? { title } : {});
    const body = result.body as { executionArn?: string; error?: { message?: string } };
    const message =
      result.status === 202 && body.executionArn
        ? `Merge request simulated; execution ${body.executionArn.split(':').pop()} is waiting for approval.`
        : `The simulated webhook was refused: ${body.error?.message ?? result.status}`;
    return c.redirect(`/console?flash=${encodeURIComponent(message)}`, 303);
  });

  app.get('/executions', async (c) => {
    const kind = parseKind(c.req.query('kind')) ?? 'merge-request';
    const { executions } = await deps.engine.list(kind, { limit: 100 });
    return c.html(
      <Layout title="Executions">
        <h2>Executions</h2>
        <form class="inline" method="get">
          <select name="kind" aria-label="Workflow kind">
            {WORKFLOW_KINDS.map((k) => (
              <option value={k} selected={k === kind}>
                {k}
              </option>
            ))}
          </select>
          <button type="submit">Show</button>
        </form>
        <div class="table-wrap">
          <table>
            <thead>
              <tr>
                <th>Name</th>
                <th>Status</th>
                <th>Started</th>
                <th>Stopped</th>
              </tr>
            </thead>
            <tbody>
              {executions.map((e) => (
                <tr>
                  <td>
                    <a href={executionLink(e.executionArn ?? '')}>{e.name}</a>
                  </td>
                  <td>
                    <Status value={e.status ?? ''} />
                  </td>
                  <td>{e.startDate ? new Date(e.startDate).toISOString() : ''}</td>
                  <td>{e.stopDate ? new Date(e.stopDate).toISOString() : ''}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      </Layout>,
    );
  });

  app.get('/executions/:executionArn', async (c) => {
    const view = await executionView(deps, c.req.param('executionArn'));
    const e = view.execution;
    return c.html(
      <Layout title={e.name ?? 'Execution'}>
        <h2>{e.name}</h2>
        <section class="card">
          <dl>
            <dt>Status</dt>
            <dd>
              <Status value={e.status ?? ''} />
            </dd>
            <dt>State machine</dt>
            <dd>{e.stateMachineArn}</dd>
            <dt>Started</dt>
            <dd>{e.startDate ? new Date(e.startDate).toISOString() : ''}</dd>
            {e.stopDate ? (
              <>
                <dt>Stopped</dt>
                <dd>{new Date(e.stopDate).toISOString()}</dd>
              </>
            ) : null}
            {e.error ? (
              <>
                <dt>Error</dt>
                <dd>{`${e.error}: ${e.cause ?? ''}`}</dd>
              </>
            ) : null}
          </dl>
        </section>
        {view.approvals.map((a) => (
          <ApprovalCard approval={a} />
        ))}
        <h3>Event history</h3>
        <HistoryTable history={redactHistory(view.history)} />
        <h3>Audit</h3>
        <AuditTable records={view.audit} />
      </Layout>,
    );
  });

  app.get('/audit', async (c) => {
    const page = await auditQuery(deps, c);
    const kind = c.req.query('kind') ?? '';
    const actor = c.req.query('actor') ?? '';
    return c.html(
      <Layout title="Audit">
        <h2>Audit</h2>
        <form class="inline" method="get">
          <select name="kind" aria-label="Workflow kind">
            {WORKFLOW_KINDS.map((k) => (
              <option value={k} selected={k === kind}>
                {k}
              </option>
            ))}
          </select>
          <input type="text" name="actor" value={actor} placeholder="actor (user key)" aria-label="Actor" />
          <button type="submit">Filter</button>
        </form>
        <AuditTable records={page.records} />
      </Layout>,
    );
  });

  return app;
}
