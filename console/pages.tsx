import type { Context } from 'hono';
import { Hono } from 'hono';
import { getCookie, setCookie } from 'hono/cookie';
import { streamSSE } from 'hono/streaming';
import { refusalText, statusText } from '../core/approvals/refusals.ts';
import { contentIn } from '../core/cards.ts';
import type { Notice } from '../core/chat.ts';
import { LANGUAGES } from '../core/commands.ts';
import { WORKFLOW_KINDS } from '../core/config.ts';
import { InvalidInputError, NotFoundError } from '../core/errors.ts';
import { runCommand } from '../webhooks/commands/index.ts';
import type { AppDeps } from '../webhooks/deps.ts';
import { AuditPageView } from './audit-page.tsx';
import { actingActor, identityOf, requireIdentity } from './auth.ts';
import { browseExecutions, parsePageNumber } from './browse-executions.ts';
import { ConfirmPage } from './confirm-page.tsx';
import { createChangeFeed } from './events.ts';
import { ExecutionLive, ExecutionPage } from './execution-page.tsx';
import { ExecutionsPage } from './executions-page.tsx';
import { parseAuditFilter, parseExecutionFilter, parseKindFilter } from './filters.ts';
import { LANG_COOKIE, pickLocale, translator } from './i18n.ts';
import { InboxPage } from './inbox-page.tsx';
import type { PageContext } from './layout.tsx';
import { approvalsFor, executionDetails } from './queries.ts';

/** Demo mode: the cookie that remembers who the console acts as (a convenience, not authentication). */
const AS_COOKIE = 'signoff_as';
const COOKIE = { path: '/console', sameSite: 'Strict', httpOnly: true, maxAge: 365 * 24 * 3600 } as const;

/**
 * Language (`?lang=`, cookie, Accept-Language) and acting user of a request: the signed-in
 * person, or in demo mode the one chosen with `?as=` (kept in a cookie).
 */
export function pageContext(deps: AppDeps, c: Context): PageContext {
  const langQuery = c.req.query('lang');
  if (langQuery && (LANGUAGES as readonly string[]).includes(langQuery))
    setCookie(c, LANG_COOKIE, langQuery, COOKIE);
  const locale = pickLocale({
    ...(langQuery ? { query: langQuery } : {}),
    ...(getCookie(c, LANG_COOKIE) ? { cookie: getCookie(c, LANG_COOKIE) } : {}),
    ...(c.req.header('accept-language') ? { acceptLanguage: c.req.header('accept-language') } : {}),
  });
  const base = { locale, t: translator(locale), url: new URL(c.req.url) };
  const identity = identityOf(c);
  if (identity) return { ...base, as: identity.user, signedIn: identity.method === 'session' };
  if (!deps.consoleAccess?.demo) return base;
  const asQuery = c.req.query('as');
  let as: string | undefined;
  if (asQuery !== undefined) {
    as = deps.config.users[asQuery] ? asQuery : undefined;
    if (as) setCookie(c, AS_COOKIE, as, COOKIE);
    else setCookie(c, AS_COOKIE, '', { ...COOKIE, maxAge: 0 });
  } else {
    const saved = getCookie(c, AS_COOKIE);
    as = saved && deps.config.users[saved] ? saved : undefined;
  }
  return { ...base, demo: true, ...(as ? { as } : {}) };
}

/** The page context with the header's pending count: what waits for the acting user, or all pending. */
async function fullContext(deps: AppDeps, c: Context, as?: string): Promise<PageContext> {
  const page = { ...pageContext(deps, c), ...(as ? { as } : {}) };
  const pending = await deps.store.list('pending');
  // A delegate is waited on in the delegator's place (docs/delegation.md).
  const delegates = await deps.signoff.delegatesOf([...new Set(pending.flatMap((a) => a.policy.approvers))]);
  return {
    ...page,
    delegates,
    pending: page.as ? approvalsFor(page.as, pending, delegates).length : pending.length,
  };
}

/** The server-rendered console: approvals inbox, executions, one execution, audit, and their change events. */
export function consolePages(deps: AppDeps): Hono {
  const app = new Hono();
  // Host, Origin and who may reach it are checked for the whole console (console/guard.ts).
  app.use('*', requireIdentity(deps, 'page'));

  const changes = createChangeFeed(deps);
  // Server-sent events: `change` with a marker whenever approvals or executions move; pages fetch
  // themselves again on a new marker. A comment every 20 s keeps proxies from closing it.
  app.get('/events', (c) => {
    // Without a socket (Lambda behind API Gateway, which buffers whole responses) a stream would
    // only hold the function until the gateway's timeout: 204 tells EventSource not to reconnect.
    if (deps.remoteAddress(c) === undefined) return c.body(null, 204);
    return streamSSE(c, async (stream) => {
      let queue = Promise.resolve();
      const unsubscribe = changes.subscribe((change) => {
        queue = queue
          .then(() => stream.writeSSE({ event: 'change', data: JSON.stringify(change), retry: 3000 }))
          .catch(() => undefined);
      });
      stream.onAbort(unsubscribe);
      try {
        while (!stream.aborted && !stream.closed) {
          await stream.sleep(20_000);
          await stream.write(': keep-alive\n\n');
        }
      } finally {
        unsubscribe();
      }
    });
  });

  async function inbox(c: Context, extra: { notice?: Notice; as?: string } = {}) {
    const page = await fullContext(deps, c, extra.as);
    const flash = c.req.query('flash');
    const [pending, approved, rejected, expired, cancelled, notifications] = await Promise.all([
      deps.store.list('pending'),
      deps.store.list('approved', { limit: 10 }),
      deps.store.list('rejected', { limit: 10 }),
      deps.store.list('expired', { limit: 5 }),
      deps.store.list('cancelled', { limit: 5 }),
      page.as ? deps.notifications.forUser(page.as, 10) : Promise.resolve([]),
    ]);
    const decided = [...approved, ...rejected, ...expired, ...cancelled]
      .sort((x, y) => (y.decidedAt ?? y.createdAt).localeCompare(x.decidedAt ?? x.createdAt))
      .slice(0, 15);
    return c.html(
      <InboxPage
        page={page}
        data={{
          users: Object.entries(deps.config.users).map(([key, user]) => [key, user.name]),
          pending,
          decided,
          notifications,
          ...(flash ? { flash } : {}),
          ...(deps.demo ? { demo: deps.demo } : {}),
          ...(extra.notice ? { notice: extra.notice } : {}),
        }}
      />,
    );
  }

  app.get('/', (c) => inbox(c));

  // A chat command typed in the console, as the acting user; the answer shows above the box.
  app.post('/commands', async (c) => {
    const form = await c.req.parseBody();
    const actor = typeof form.actor === 'string' ? form.actor : '';
    const text = typeof form.text === 'string' ? form.text.slice(0, 4000) : '';
    const eventId =
      typeof form.eventId === 'string' && /^[A-Za-z0-9_-]{1,64}$/.test(form.eventId)
        ? form.eventId
        : undefined;
    if (!text.trim()) throw new InvalidInputError('type a command');
    const who = actingActor(deps, c, actor || undefined);
    const notice = await runCommand(deps, {
      ...(who.user ? { user: who.user } : {}),
      chatUser: { platform: 'console', id: who.id, name: who.name },
      text,
      ...(eventId ? { eventId: `console-${eventId}` } : {}),
    });
    return inbox(c, { notice, ...(who.user ? { as: who.user } : {}) });
  });

  // The requester's buttons on their own pending request: remind the approvers, or withdraw it.
  app.post('/approvals/:approvalId/:action{nudge|cancel}', async (c) => {
    const { t } = pageContext(deps, c);
    const form = await c.req.parseBody();
    const claimed = typeof form.actor === 'string' ? form.actor : '';
    if (!claimed && !identityOf(c))
      return c.redirect(`/console?flash=${encodeURIComponent(t('chooseFirst'))}`, 303);
    const actor = actingActor(deps, c, claimed);
    const approvalId = c.req.param('approvalId');
    let message: string;
    if (c.req.param('action') === 'nudge') {
      const result = await deps.signoff.nudge({ approvalId, actor });
      message =
        result.outcome === 'nudged'
          ? `${t('nudged')} ${result.notified.map((u) => deps.config.users[u]?.name ?? u).join(', ') || '—'}`
          : result.reason === 'too-soon'
            ? `${t('nudgeTooSoon')} ${result.retryAt ?? ''}`
            : result.reason === 'not-yours'
              ? t('nudgeNotYours')
              : result.reason === 'not-pending'
                ? `${t('notPending')} ${statusText(result.approval?.status ?? 'pending', t.language)}`
                : t('notFound');
    } else {
      const reason = typeof form.reason === 'string' ? form.reason.slice(0, 500) : '';
      const result = await deps.signoff.withdraw({
        approvalId,
        actor,
        ...(reason.trim() ? { why: reason } : {}),
      });
      message =
        result.outcome === 'withdrawn'
          ? `${t('cancelled')} ${contentIn(result.approval, t.language).title}`
          : result.reason === 'not-yours'
            ? t('notYours')
            : result.reason === 'not-pending'
              ? `${t('notPending')} ${statusText(result.approval?.status ?? 'pending', t.language)}`
              : t('notFound');
    }
    const asQuery = identityOf(c) ? '' : `as=${encodeURIComponent(actor.user ?? '')}&`;
    return c.redirect(
      `/console/approvals/${encodeURIComponent(approvalId)}?${asQuery}flash=${encodeURIComponent(message)}`,
      303,
    );
  });

  app.post('/approvals/:approvalId/decide', async (c) => {
    const { t } = pageContext(deps, c);
    const form = await c.req.parseBody();
    const actor = typeof form.actor === 'string' ? form.actor : '';
    const decision = form.decision === 'approve' || form.decision === 'reject' ? form.decision : undefined;
    const comment =
      typeof form.comment === 'string' && form.comment.trim()
        ? form.comment.trim().slice(0, 2000)
        : undefined;
    if (!actor && !identityOf(c))
      return c.redirect(`/console?flash=${encodeURIComponent(t('chooseFirst'))}`, 303);
    if (!decision) throw new InvalidInputError('decision must be approve or reject');
    const who = actingActor(deps, c, actor);
    const result = await deps.approvals.decide({
      approvalId: c.req.param('approvalId'),
      actor: who,
      decision,
      ...(comment ? { comment } : {}),
      now: deps.now(),
    });
    // A confirmation from a sign-in older than the policy allows: a fresh sign-in at the
    // provider (max_age=0, its MFA now), then back to the page to confirm again.
    if (result.outcome === 'refused' && result.reason === 'sign-in-again')
      return c.redirect(
        `/console/auth/sign-in?fresh=1&return=${encodeURIComponent(`/console/approvals/${encodeURIComponent(c.req.param('approvalId'))}`)}`,
        303,
      );
    const message =
      result.outcome === 'refused'
        ? t('notRecorded', { message: refusalText(result, t.language, who.user) })
        : result.outcome === 'completed'
          ? t('recorded', { status: statusText(result.approval.status, t.language) })
          : t('recordedMore', { n: result.remaining });
    const asQuery = identityOf(c) ? '' : `as=${encodeURIComponent(who.user ?? '')}&`;
    // A step-up approval was decided on its confirmation page: back there, with the answer.
    if (result.approval?.policy.confirm === 'signed-in')
      return c.redirect(
        `/console/approvals/${encodeURIComponent(result.approval.approvalId)}?flash=${encodeURIComponent(message)}`,
        303,
      );
    return c.redirect(`/console?${asQuery}flash=${encodeURIComponent(message)}`, 303);
  });

  // One approval: where a chat card that needs a signed-in confirmation sends its approvers
  // (without a session, requireIdentity sends them to sign in and back here).
  app.get('/approvals/:approvalId', async (c) => {
    const page = await fullContext(deps, c);
    const approval = await deps.store.get(c.req.param('approvalId'));
    if (!approval) throw new NotFoundError('no such approval', { code: 'ApprovalNotFound' });
    const flash = c.req.query('flash');
    return c.html(<ConfirmPage page={page} approval={approval} {...(flash ? { flash } : {})} />);
  });

  app.post('/demo/merge-request', async (c) => {
    const { t } = pageContext(deps, c);
    if (!deps.demo) throw new InvalidInputError('no demo stand-ins here');
    const form = await c.req.parseBody();
    const title =
      typeof form.title === 'string' && form.title.trim() ? form.title.trim().slice(0, 200) : undefined;
    const result = await deps.demo.simulateMergeRequest(title ? { title } : {});
    const body = result.body as { executionArn?: string; error?: { message?: string } };
    const message =
      result.status === 202 && body.executionArn
        ? t('simulated', { name: body.executionArn.split(':').pop() ?? '' })
        : t('refused', { message: body.error?.message ?? String(result.status) });
    return c.redirect(`/console?flash=${encodeURIComponent(message)}`, 303);
  });

  app.get('/executions', async (c) => {
    const page = await fullContext(deps, c);
    // No kind (or "all"): every kind, merged newest first; `page` numbers the pages both ways.
    const kind = parseKindFilter(c.req.query('kind'));
    const {
      kind: _kind,
      cursor: _cursor,
      ...filter
    } = parseExecutionFilter((name) => c.req.query(name), {
      kind: 'merge-request',
    });
    const number = parsePageNumber(c.req.query('page'));
    const result = await browseExecutions(deps, kind ? [kind] : WORKFLOW_KINDS, filter, number);
    return c.html(<ExecutionsPage page={page} kind={kind} filter={filter} result={result} />);
  });

  app.get('/executions/:executionArn', async (c) => {
    const page = await fullContext(deps, c);
    const details = await executionDetails(deps, c.req.param('executionArn'));
    // The live refresh asks for just the part that changes.
    if (c.req.query('partial') === '1')
      return c.html(<ExecutionLive details={details} t={page.t} {...(page.as ? { as: page.as } : {})} />);
    return c.html(<ExecutionPage page={page} details={details} />);
  });

  app.get('/audit', async (c) => {
    const page = await fullContext(deps, c);
    const filter = parseAuditFilter((name) => c.req.query(name), { limit: 50 });
    const result = await deps.audit.query(filter);
    return c.html(<AuditPageView page={page} filter={filter} result={result} />);
  });

  return app;
}
