/**
 * The requester's buttons on their own pending request in the console: remind the approvers
 * (once per 15 minutes) and withdraw it; and the JSON API's withdraw. On the embedded runtime,
 * in demo mode (the acting user named by the form), as the console's own forms post them.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Approval } from '../../core/approvals/types.ts';
import type { AuditRecord } from '../../core/audit.ts';
import {
  eventually,
  finalOutcome,
  json,
  openedMergeRequest,
  postGitLab,
  startTestRuntime,
  type TestRuntime,
} from '../support/runtime.ts';

let rt: TestRuntime;

beforeAll(async () => {
  rt = await startTestRuntime();
}, 60_000);

afterAll(async () => {
  await rt?.stop();
});

/** Alice's merge request `iid`, pending on bob and carol. */
async function pendingRequest(iid: number): Promise<Approval> {
  const { hook } = openedMergeRequest(rt.gitlab, iid);
  const { executionArn } = await json<{ executionArn: string }>(await postGitLab(rt.urls.app, hook));
  return eventually(async () => {
    const body = await json<{ approvals: Approval[] }>(await fetch(`${rt.urls.app}/console/api/approvals`));
    return body.approvals.find((a) => a.executionArn === executionArn && a.status === 'pending');
  }, 'the approval');
}

/** A console form post as the page sends it; the flash of the page it redirects to. */
async function formPost(path: string, fields: Record<string, string>): Promise<string> {
  const response = await fetch(`${rt.urls.app}${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded', origin: rt.urls.app },
    body: new URLSearchParams(fields).toString(),
    redirect: 'manual',
  });
  expect(response.status).toBe(303);
  const location = new URL(response.headers.get('location') ?? '', rt.urls.app);
  return location.searchParams.get('flash') ?? '';
}

async function notificationsOf(user: string): Promise<string[]> {
  const body = await json<{ notifications: Array<{ text: string }> }>(
    await fetch(`${rt.urls.app}/console/api/notifications?user=${user}`),
  );
  return body.notifications.map((n) => n.text);
}

describe('the requester’s buttons in the console', () => {
  it('shows Remind and Withdraw to the requester only, reminds the approvers once per 15 minutes', async () => {
    const approval = await pendingRequest(81);
    const pageAs = async (user: string) =>
      (await fetch(`${rt.urls.app}/console/approvals/${approval.approvalId}?as=${user}`)).text();
    const alices = await pageAs('alice');
    expect(alices).toContain(`action="/console/approvals/${approval.approvalId}/nudge"`);
    expect(alices).toContain('Withdraw this request');
    expect(await pageAs('bob')).not.toContain('/nudge"');

    const before = (await notificationsOf('bob')).length;
    const reminded = await formPost(`/console/approvals/${approval.approvalId}/nudge`, { actor: 'alice' });
    expect(reminded).toBe('Reminded: Bob, Carol');
    const bobs = await notificationsOf('bob');
    expect(bobs.length).toBe(before + 1);
    expect(bobs.join('\n')).toContain(approval.approvalId);

    // Again at once: too soon, nobody told twice.
    const again = await formPost(`/console/approvals/${approval.approvalId}/nudge`, { actor: 'alice' });
    expect(again).toContain('The approvers were reminded less than 15 minutes ago');
    expect((await notificationsOf('bob')).length).toBe(before + 1);
    // Bob did not ask: refused.
    const notHis = await formPost(`/console/approvals/${approval.approvalId}/nudge`, { actor: 'bob' });
    expect(notHis).toBe('Only the person who asked can nudge the approvers.');
  });

  it('withdraws the request with a reason: the execution ends Signoff.Cancelled; others are refused and change nothing', async () => {
    const approval = await pendingRequest(82);
    const bobs = await formPost(`/console/approvals/${approval.approvalId}/cancel`, { actor: 'bob' });
    expect(bobs).toBe('Only the person who asked can cancel a request.');
    const still = await json<{ approval: Approval }>(
      await fetch(`${rt.urls.app}/console/api/approvals/${approval.approvalId}`),
    );
    expect(still.approval.status).toBe('pending');

    const withdrawn = await formPost(`/console/approvals/${approval.approvalId}/cancel`, {
      actor: 'alice',
      reason: 'wrong branch',
    });
    expect(withdrawn).toMatch(/^Cancelled: /);
    expect(await finalOutcome(rt, approval.executionArn)).toMatchObject({
      status: 'FAILED',
      error: 'Signoff.Cancelled',
      cause: expect.stringContaining('withdrawn by Alice: wrong branch'),
    });
    const twice = await formPost(`/console/approvals/${approval.approvalId}/cancel`, { actor: 'alice' });
    expect(twice).toBe('It is no longer waiting: cancelled');
    const audit = await json<{ records: AuditRecord[] }>(
      await fetch(
        `${rt.urls.app}/console/api/audit?execution=${encodeURIComponent(approval.executionArn)}&action=approval.decided`,
      ),
    );
    expect(audit.records.map((r) => [r.actor.user, r.outcome])).toEqual([['alice', 'cancelled']]);
  });

  it('withdraws through the JSON API: 403 for someone else, 200 for the requester, 409 after', async () => {
    const approval = await pendingRequest(83);
    const post = (body: object) =>
      fetch(`${rt.urls.app}/console/api/approvals/${approval.approvalId}/cancel`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', origin: rt.urls.app },
        body: JSON.stringify(body),
      });
    const refused = await post({ actor: 'carol' });
    expect(refused.status).toBe(403);
    expect(await json(refused)).toMatchObject({ error: { code: 'NotYourRequest' } });
    const done = await post({ actor: 'alice', reason: 'not needed' });
    expect(done.status).toBe(200);
    expect(await json(done)).toMatchObject({ outcome: 'withdrawn', approval: { status: 'cancelled' } });
    const late = await post({ actor: 'alice' });
    expect(late.status).toBe(409);
    expect(await json(late)).toMatchObject({ error: { code: 'NotPending' } });
    const garbage = await post({ actor: 'alice', extra: true });
    expect(garbage.status).toBe(400);
  });
});
