import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Approval } from '../../core/approvals/types.ts';
import type { Notice } from '../../core/chat.ts';
import {
  consoleCommand,
  eventually,
  json,
  openedMergeRequest,
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
  return eventually(async () => {
    const body = await json<{ approvals: Approval[] }>(
      await fetch(`${rt.urls.app}/console/api/approvals?status=pending`),
    );
    return body.approvals.find((a) => a.executionArn === executionArn);
  }, 'the approval');
}

describe('shared chat commands (through the console command API)', () => {
  it('lists what waits for my decision, and says where a request is, in the language asked', async () => {
    const approval = await pendingApproval(41);
    expect((await command('bob', 'approvals')).text).toContain(approval.approvalId);
    expect((await command('carol', '承認待ち')).text).toContain(approval.approvalId);
    expect((await command('alice', 'approvals')).text).toBe('Nothing is waiting for your decision.');

    expect((await command('bob', `status ${approval.approvalId}`)).text).toBe('Waiting for approval: 0 of 1');
    const byName = await command('bob', `状态 ${approval.executionArn.split(':').pop()}`);
    expect(byName.title).toContain('Change 41');
    expect((await command('bob', '狀態 no-such-id')).text).toBe('找不到這個 ID 的請求。');
    expect((await command('bob', 'status')).text).toBe('Which one? Add its id.');
  });

  it('lets only the requester cancel, and the execution ends cancelled', async () => {
    const approval = await pendingApproval(42);
    expect((await command('bob', `cancel ${approval.approvalId}`)).text).toContain(
      'Only the person who asked',
    );
    expect((await command('alice', `取消 ${approval.approvalId}`)).text).toContain('已取消');
    const after = await json<{ approval: Approval }>(
      await fetch(`${rt.urls.app}/console/api/approvals/${approval.approvalId}`),
    );
    expect(after.approval.status).toBe('cancelled');
    expect(after.approval.reason).toBe('withdrawn by Alice');
    expect((await command('alice', `cancel ${approval.approvalId}`)).text).toContain(
      'It is no longer waiting',
    );
    expect(rt.gitlab.mergeRequest(7, 42)?.state).toBe('opened');
  });

  it('answers unknown text with the help, never silence', async () => {
    const notice = await command('bob', 'what can you do?');
    expect(notice.text).toContain('I did not understand that');
    expect(notice.text).toContain('approvals');
    expect((await command('bob', 'ヘルプ')).title).toBe('Signoff コマンド');
  });
});

function command(actor: string, text: string): Promise<Notice> {
  return consoleCommand(rt, actor, text);
}
