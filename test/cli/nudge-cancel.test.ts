import { describe, expect, it } from 'vitest';
import type { Approval } from '../../core/approvals/types.ts';
import { cliRuntime } from '../support/cli.ts';
import { finalStatus, json, openedMergeRequest, pendingFor, postGitLab } from '../support/runtime.ts';

const { rt: runtime, cli } = cliRuntime();

async function pendingApproval(iid: number): Promise<Approval> {
  const { hook } = openedMergeRequest(runtime().gitlab, iid);
  const { executionArn } = await json<{ executionArn: string }>(await postGitLab(runtime().urls.app, hook));
  return pendingFor(runtime(), executionArn);
}

describe('signoff nudge and signoff cancel', () => {
  it('nudges as the requester once per 15 minutes, and refuses anyone else', async () => {
    const approval = await pendingApproval(71);
    const notMine = await cli('nudge', approval.approvalId, '--as', 'bob');
    expect([notMine.code, notMine.err]).toEqual([
      1,
      'signoff: only the person who asked can nudge the approvers\n',
    ]);
    const nudged = await cli('nudge', approval.approvalId, '--as', 'alice');
    expect([nudged.code, nudged.out]).toEqual([0, 'reminded: bob, carol\n']);
    const again = await cli('nudge', approval.approvalId, '--as', 'alice');
    expect(again.code).toBe(1);
    expect(again.err).toContain('nudge again after');
    expect((await cli('nudge')).code).toBe(2);
  });

  it('cancels the requester’s own request with a reason, and the execution ends cancelled', async () => {
    const approval = await pendingApproval(72);
    const notMine = await cli('cancel', approval.approvalId, '--as', 'bob');
    expect([notMine.code, notMine.err]).toEqual([
      1,
      'signoff: only the person who asked can cancel a request\n',
    ]);
    const done = await cli('cancel', approval.approvalId, '--as', 'alice', '--reason', 'wrong branch');
    expect([done.code, done.out]).toEqual([0, 'cancelled: Merge !72: Change 72\n']);
    const after = await json<{ approval: Approval }>(
      await fetch(`${runtime().urls.app}/console/api/approvals/${approval.approvalId}`),
    );
    expect([after.approval.status, after.approval.reason]).toEqual([
      'cancelled',
      'withdrawn by Alice: wrong branch',
    ]);
    expect(await finalStatus(runtime(), approval.executionArn)).toBeDefined();
    const twice = await cli('cancel', approval.approvalId, '--as', 'alice');
    expect([twice.code, twice.err]).toEqual([1, 'signoff: it is no longer waiting: it is cancelled\n']);
    expect((await cli('cancel', 'a-missing', '--as', 'alice')).code).toBe(1);
  });
});
