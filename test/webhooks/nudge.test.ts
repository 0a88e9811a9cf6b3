import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Approval } from '../../core/approvals/types.ts';
import type { AuditRecord } from '../../core/audit.ts';
import {
  consoleCommand,
  decideAs,
  eventually,
  json,
  openedMergeRequest,
  pendingFor,
  postGitLab,
  startTestRuntime,
  type TestRuntime,
} from '../support/runtime.ts';

let rt: TestRuntime;
beforeAll(async () => {
  rt = await startTestRuntime();
});
afterAll(async () => {
  await rt?.stop();
});

async function pendingApproval(iid: number): Promise<Approval> {
  const { hook } = openedMergeRequest(rt.gitlab, iid);
  const { executionArn } = await json<{ executionArn: string }>(await postGitLab(rt.urls.app, hook));
  return pendingFor(rt, executionArn);
}

function nudge(approvalId: string, actor: string): Promise<Response> {
  return fetch(`${rt.urls.app}/console/api/approvals/${approvalId}/nudge`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ actor }),
  });
}

async function remindersOf(user: string, approvalId: string): Promise<number> {
  const body = await json<{ notifications: Array<{ text: string }> }>(
    await fetch(`${rt.urls.app}/console/api/notifications?user=${user}`),
  );
  return body.notifications.filter(
    (n) => n.text.includes(approvalId) && n.text.includes('is waiting for your decision'),
  ).length;
}

async function nudgeRecords(approval: Approval): Promise<AuditRecord[]> {
  const body = await json<{ records: AuditRecord[] }>(
    await fetch(
      `${rt.urls.app}/console/api/audit?execution=${encodeURIComponent(approval.executionArn)}&action=approval.nudged`,
    ),
  );
  return body.records;
}

describe('nudge (console API)', () => {
  it('reminds the approvers who have not voted, once per 15 minutes, only for the requester', async () => {
    const approval = await pendingApproval(61);

    const notMine = await nudge(approval.approvalId, 'bob');
    expect(notMine.status).toBe(403);
    expect((await json<{ error: { code: string } }>(notMine)).error.code).toBe('NotYourRequest');

    const first = await nudge(approval.approvalId, 'alice');
    expect(first.status).toBe(200);
    const body = await json<{ notified: string[]; approval: Approval }>(first);
    expect(body.notified).toEqual(['bob', 'carol']);
    expect(body.approval.lastNudgedAt).toBeDefined();
    expect(await remindersOf('bob', approval.approvalId)).toBe(1);
    expect(await remindersOf('carol', approval.approvalId)).toBe(1);
    expect(await remindersOf('alice', approval.approvalId)).toBe(0);

    const again = await nudge(approval.approvalId, 'alice');
    expect(again.status).toBe(409);
    expect((await json<{ error: { code: string } }>(again)).error.code).toBe('NudgedRecently');
    expect(await remindersOf('bob', approval.approvalId)).toBe(1);

    const records = await nudgeRecords(approval);
    expect(records.map((r) => [r.actor.user, r.outcome, r.detail?.notified])).toEqual([
      ['alice', 'sent', 'bob,carol'],
    ]);
  });

  it('refuses once the approval is decided, and for an unknown id', async () => {
    const approval = await pendingApproval(62);
    expect((await decideAs(rt, approval.approvalId, 'bob', 'approve')).status).toBe(200);
    await eventually(async () => {
      const now = await json<{ approval: Approval }>(
        await fetch(`${rt.urls.app}/console/api/approvals/${approval.approvalId}`),
      );
      return now.approval.status === 'approved';
    }, 'the approval to be approved');
    const late = await nudge(approval.approvalId, 'alice');
    expect(late.status).toBe(409);
    expect((await json<{ error: { code: string } }>(late)).error.code).toBe('NotPending');
    expect((await nudge('a-no-such-approval', 'alice')).status).toBe(404);
  });
});

describe('nudge (chat command, four languages)', () => {
  it('nudges in the language it was written in, and says when to try again', async () => {
    const approval = await pendingApproval(63);
    expect((await consoleCommand(rt, 'bob', `nudge ${approval.approvalId}`)).text).toBe(
      'Only the person who asked can nudge the approvers.',
    );
    expect((await consoleCommand(rt, 'alice', `催办 ${approval.approvalId}`)).text).toBe(
      '已提醒： Bob, Carol',
    );
    expect(await remindersOf('carol', approval.approvalId)).toBe(1);
    expect((await consoleCommand(rt, 'alice', `催辦 ${approval.approvalId}`)).text).toContain(
      '15 分鐘內已經催辦過',
    );
    expect((await consoleCommand(rt, 'alice', `催促 ${approval.approvalId}`)).text).toContain(
      '15 分以内に催促済みです',
    );
    expect((await consoleCommand(rt, 'alice', 'nudge')).text).toBe('Which one? Add its id.');
    expect(await remindersOf('carol', approval.approvalId)).toBe(1);
  });
});
