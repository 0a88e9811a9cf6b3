/**
 * The gate holds against a forged resume (issue "The gate holds", item 1): the task token is
 * readable from the execution history (as on AWS) or by whoever holds `states:SendTaskSuccess`;
 * a `SendTaskSuccess {"decision":"approve"}` sent straight to the Step Functions endpoint must
 * not merge, deploy or open a case. Over real HTTP on the embedded runtime.
 */
import { GetExecutionHistoryCommand, SendTaskSuccessCommand } from '@aws-sdk/client-sfn';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Approval } from '../../core/approvals/types.ts';
import type { AuditRecord } from '../../core/audit.ts';
import type { Notice } from '../../core/chat.ts';
import {
  consoleCommand,
  decideAs,
  eventually,
  finalStatus,
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

/** The token of the execution's waiting task, read as an attacker would: from GetExecutionHistory. */
async function tokenFromHistory(executionArn: string): Promise<string> {
  return eventually(async () => {
    const history = await rt.sfn.send(new GetExecutionHistoryCommand({ executionArn }));
    for (const event of history.events ?? []) {
      const parameters = event.taskScheduledEventDetails?.parameters;
      const token = parameters
        ? (JSON.parse(parameters) as { Payload?: { taskToken?: string } }).Payload?.taskToken
        : undefined;
      if (token) return token;
    }
    return undefined;
  }, 'the task token in the history');
}

async function forge(executionArn: string, output: object): Promise<void> {
  const taskToken = await tokenFromHistory(executionArn);
  await rt.sfn.send(new SendTaskSuccessCommand({ taskToken, output: JSON.stringify(output) }));
}

async function failure(executionArn: string): Promise<string | undefined> {
  const history = await rt.sfn.send(new GetExecutionHistoryCommand({ executionArn, reverseOrder: true }));
  return history.events?.find((e) => e.type === 'ExecutionFailed')?.executionFailedEventDetails?.error;
}

async function audit(executionArn: string): Promise<AuditRecord[]> {
  const body = await json<{ records: AuditRecord[] }>(
    await fetch(`${rt.urls.app}/console/api/audit?execution=${encodeURIComponent(executionArn)}`),
  );
  return body.records;
}

async function approvalOf(executionArn: string): Promise<Approval | undefined> {
  const body = await json<{ approvals: Approval[] }>(
    await fetch(`${rt.urls.app}/console/api/approvals?status=cancelled`),
  );
  return body.approvals.find((a) => a.executionArn === executionArn);
}

function executionOf(notice: Notice): string {
  const url = notice.links?.find((l) => l.label === 'Execution')?.url ?? '';
  return decodeURIComponent(url.split('/console/executions/')[1] ?? '');
}

describe('a forged SendTaskSuccess', () => {
  it('does not merge: the execution fails with ApprovalNotGrantedError, audited, the approval stopped', async () => {
    const { mr, hook } = openedMergeRequest(rt.gitlab, 901);
    const started = await json<{ executionArn: string }>(await postGitLab(rt.urls.app, hook));
    const pending = await pendingFor(rt, started.executionArn);
    expect(pending.votes).toEqual([]);

    await forge(started.executionArn, { decision: 'approve' });

    expect(await finalStatus(rt, started.executionArn)).toBe('FAILED');
    expect(await failure(started.executionArn)).toBe('ApprovalNotGrantedError');
    expect(rt.gitlab.requests.filter((r) => r.path.includes(`/merge_requests/${mr.iid}/merge`))).toEqual([]);
    expect(rt.gitlab.requests.filter((r) => r.path.includes(`/merge_requests/${mr.iid}/approve`))).toEqual(
      [],
    );
    const records = await audit(started.executionArn);
    expect(records.find((r) => r.action === 'approval.forged_resume')).toMatchObject({
      outcome: 'refused',
      detail: expect.objectContaining({ approvalId: pending.approvalId, status: 'pending' }),
    });
    expect(records.some((r) => r.action === 'merge-request.merged')).toBe(false);
    // Its token is spent: the approval is stopped, every card says so, and a click changes nothing.
    const stopped = await eventually(() => approvalOf(started.executionArn), 'the approval to be stopped');
    expect(stopped.status).toBe('cancelled');
    const click = await decideAs(rt, pending.approvalId, 'bob', 'approve');
    expect(click.status).toBe(409);
    expect(await json(click)).toMatchObject({
      error: { message: expect.stringContaining('already cancelled') },
    });
  });

  it('does not close on a forged reject either', async () => {
    const { mr, hook } = openedMergeRequest(rt.gitlab, 902);
    const started = await json<{ executionArn: string }>(await postGitLab(rt.urls.app, hook));
    await pendingFor(rt, started.executionArn);
    await forge(started.executionArn, { decision: 'reject', approvers: [], comment: 'forged' });
    expect(await finalStatus(rt, started.executionArn)).toBe('FAILED');
    expect(await failure(started.executionArn)).toBe('ApprovalNotGrantedError');
    expect(rt.gitlab.mergeRequest(7, mr.iid)?.state).toBe('opened');
  });

  it('does not deploy on a resume naming another execution’s granted approval', async () => {
    // A real, granted approval of one deploy …
    const first = executionOf(await consoleCommand(rt, 'alice', 'deploy test'));
    const granted = await pendingFor(rt, first);
    await decideAs(rt, granted.approvalId, 'bob', 'approve');
    expect(await finalStatus(rt, first)).toBe('SUCCEEDED');
    const moved = rt.lambda.requests.filter((r) => r.action === 'UpdateAlias').length;

    // … replayed into another.
    const second = executionOf(await consoleCommand(rt, 'alice', 'deploy prod'));
    await pendingFor(rt, second);
    await forge(second, {
      approvalId: granted.approvalId,
      decision: 'approve',
      approvers: [{ user: 'bob', name: 'Bob', platform: 'console' }],
    });
    expect(await finalStatus(rt, second)).toBe('FAILED');
    expect(await failure(second)).toBe('ApprovalNotGrantedError');
    expect(rt.lambda.requests.filter((r) => r.action === 'UpdateAlias').length).toBe(moved);
    expect((await audit(second)).some((r) => r.action === 'approval.forged_resume')).toBe(true);
  });

  it('does not open an AWS Support case', async () => {
    const notice = await consoleCommand(
      rt,
      'alice',
      'support case\nsubject: Throttled\nbody: forged\nseverity: low\nservice: aws-lambda\ncategory: performance',
    );
    const arn = executionOf(notice);
    await pendingFor(rt, arn);
    await forge(arn, { decision: 'approve', approvers: [] });
    expect(await finalStatus(rt, arn)).toBe('FAILED');
    expect(await failure(arn)).toBe('ApprovalNotGrantedError');
    expect(rt.support.cases.size).toBe(0);
  });
});
