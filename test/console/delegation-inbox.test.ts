/**
 * A delegate in the console (docs/delegation.md): while bob is away with his seat delegated to
 * dave, dave's inbox lists bob's pending approvals under "Waiting for you" with the buttons, and
 * dave's decision there fills bob's seat. On the embedded runtime in demo mode.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Approval } from '../../core/approvals/types.ts';
import { DEFAULT_CONFIG_INPUT, parseConfig } from '../../core/config.ts';
import {
  eventually,
  finalStatus,
  json,
  openedMergeRequest,
  postGitLab,
  startTestRuntime,
  type TestRuntime,
} from '../support/runtime.ts';

let rt: TestRuntime;

beforeAll(async () => {
  const input = structuredClone(DEFAULT_CONFIG_INPUT) as { users: Record<string, object> };
  input.users.dave = { name: 'Dave', gitlab: 'dave' };
  rt = await startTestRuntime(parseConfig(input));
}, 60_000);

afterAll(async () => {
  await rt?.stop();
});

const inboxOf = async (user: string) => (await fetch(`${rt.urls.app}/console?as=${user}`)).text();

/** The "Waiting for you" part of an inbox page. */
function waitingForYou(html: string): string {
  const start = html.indexOf('id="mine"');
  const end = html.indexOf('<h2>', start);
  return html.slice(start, end);
}

describe('a delegate in the console', () => {
  it('lists the delegator’s pending approvals for the delegate with buttons, and counts their decision for the seat', async () => {
    const until = new Date(Date.now() + 3 * 86_400_000).toISOString().slice(0, 10);
    const set = await fetch(`${rt.urls.app}/console/api/delegation`, {
      method: 'PUT',
      headers: { 'content-type': 'application/json', origin: rt.urls.app },
      body: JSON.stringify({ actor: 'bob', to: 'dave', until }),
    });
    expect(set.status).toBe(200);

    const { hook } = openedMergeRequest(rt.gitlab, 91);
    const { executionArn } = await json<{ executionArn: string }>(await postGitLab(rt.urls.app, hook));
    const approval = await eventually(async () => {
      const body = await json<{ approvals: Approval[] }>(await fetch(`${rt.urls.app}/console/api/approvals`));
      return body.approvals.find((a) => a.executionArn === executionArn);
    }, 'the approval');

    const daves = waitingForYou(await inboxOf('dave'));
    expect(daves).toContain(`data-approval-id="${approval.approvalId}"`);
    expect(daves).toContain(`action="/console/approvals/${approval.approvalId}/decide"`);
    // Bob's seat is held by dave: the card says who is waited on.
    expect(daves).toMatch(/Waiting on dave, carol|Waiting on carol, dave/);
    // Bob, back early, keeps his seat: the request stays listed for him too, until a vote fills it.
    expect(waitingForYou(await inboxOf('bob'))).toContain(
      `action="/console/approvals/${approval.approvalId}/decide"`,
    );

    const decided = await fetch(`${rt.urls.app}/console/approvals/${approval.approvalId}/decide`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', origin: rt.urls.app },
      body: 'actor=dave&decision=approve',
      redirect: 'manual',
    });
    expect(decided.status).toBe(303);
    expect(await finalStatus(rt, executionArn)).toBe('SUCCEEDED');
    const { approval: after } = await json<{ approval: Approval }>(
      await fetch(`${rt.urls.app}/console/api/approvals/${approval.approvalId}`),
    );
    expect(after.votes.map((v) => [v.user, v.onBehalfOf?.user])).toEqual([['dave', 'bob']]);
    expect(waitingForYou(await inboxOf('bob'))).not.toContain(approval.approvalId);
  });
});
