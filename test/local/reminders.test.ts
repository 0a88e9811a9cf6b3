import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DescribeExecutionCommand } from '@aws-sdk/client-sfn';
import { afterAll, describe, expect, it } from 'vitest';
import type { Approval } from '../../core/approvals/types.ts';
import type { AuditRecord } from '../../core/audit.ts';
import { type Config, DEFAULT_CONFIG_INPUT, parseConfig } from '../../core/config.ts';
import {
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

/** The demo configuration with dave on call and the merge-request policy's timers. */
function withTimers(policy: Record<string, unknown>): Config {
  const input = structuredClone(DEFAULT_CONFIG_INPUT) as {
    users: Record<string, unknown>;
    policies: Record<string, Record<string, unknown>>;
    groups?: Record<string, string[]>;
  };
  input.users.dave = { name: 'Dave', gitlab: 'dave' };
  input.groups = { 'sre-oncall': ['dave'] };
  input.policies['merge-request'] = { ...input.policies['merge-request'], ...policy };
  return parseConfig(input);
}

const runtimes: TestRuntime[] = [];
const dirs: string[] = [];
afterAll(async () => {
  for (const rt of runtimes) await rt.stop();
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

async function start(config: Config, dataDir?: string): Promise<TestRuntime> {
  const rt = await startTestRuntime(config, dataDir);
  runtimes.push(rt);
  return rt;
}

async function open(rt: TestRuntime, iid: number): Promise<Approval> {
  const { hook } = openedMergeRequest(rt.gitlab, iid);
  const { executionArn } = await json<{ executionArn: string }>(await postGitLab(rt.urls.app, hook));
  return pendingFor(rt, executionArn);
}

async function audit(rt: TestRuntime, approval: Approval, action: string): Promise<AuditRecord[]> {
  const body = await json<{ records: AuditRecord[] }>(
    await fetch(
      `${rt.urls.app}/console/api/audit?execution=${encodeURIComponent(approval.executionArn)}&action=${action}`,
    ),
  );
  return body.records;
}

async function notices(rt: TestRuntime, user: string, approval: Approval, words: string): Promise<number> {
  const body = await json<{ notifications: Array<{ text: string; executionArn: string }> }>(
    await fetch(`${rt.urls.app}/console/api/notifications?user=${user}`),
  );
  return body.notifications.filter((n) => n.executionArn === approval.executionArn && n.text.includes(words))
    .length;
}

async function remindersStatus(rt: TestRuntime, approval: Approval): Promise<string | undefined> {
  const executionArn = approval.executionArn
    .replace(':execution:signoff-merge-request:', ':execution:signoff-reminders:')
    .replace(/[^:]+$/, approval.approvalId);
  try {
    return (await rt.sfn.send(new DescribeExecutionCommand({ executionArn }))).status;
  } catch (error) {
    // request-approval starts it after the cards are sent, a moment after the approval is stored.
    if ((error as Error).name === 'ExecutionDoesNotExist') return undefined;
    throw error;
  }
}

describe('reminders and escalation (signoff-reminders on the local engine)', () => {
  it('reminds the approvers who have not voted, then escalates to the group, who may decide', async () => {
    const rt = await start(withTimers({ remind: ['1s'], escalate: { after: '2s', to: ['sre-oncall'] } }));
    const approval = await open(rt, 81);
    await eventually(
      async () => (await notices(rt, 'bob', approval, 'Still waiting:')) === 1,
      'a reminder to bob',
    );
    expect(await notices(rt, 'carol', approval, 'Still waiting:')).toBe(1);
    const [escalated] = await eventually(
      async () =>
        (await audit(rt, approval, 'approval.escalated')).length
          ? audit(rt, approval, 'approval.escalated')
          : false,
      'the escalation',
    );
    expect(escalated?.detail).toMatchObject({ groups: 'sre-oncall', added: 'dave' });
    expect((await audit(rt, approval, 'approval.reminded')).map((r) => r.detail?.notified)).toEqual([
      'bob,carol',
    ]);
    expect(await notices(rt, 'alice', approval, 'it was also sent to Dave')).toBe(1);
    const now = await json<{ approval: Approval }>(
      await fetch(`${rt.urls.app}/console/api/approvals/${approval.approvalId}`),
    );
    expect(now.approval.policy.approvers).toEqual(['bob', 'carol', 'dave']);

    expect((await decideAs(rt, approval.approvalId, 'dave', 'approve')).status).toBe(200);
    expect(await finalStatus(rt, approval.executionArn)).toBe('SUCCEEDED');
    expect(
      await eventually(
        async () => (await remindersStatus(rt, approval)) !== 'RUNNING' && remindersStatus(rt, approval),
        'the reminders to end',
      ),
    ).toBe('SUCCEEDED');
  });

  it('stops the timers the moment the approval is decided', async () => {
    const rt = await start(withTimers({ remind: ['30s'], escalate: { after: '1m', to: ['sre-oncall'] } }));
    const approval = await open(rt, 82);
    await eventually(async () => (await remindersStatus(rt, approval)) === 'RUNNING', 'the reminders to run');
    expect((await decideAs(rt, approval.approvalId, 'bob', 'approve')).status).toBe(200);
    expect(
      await eventually(
        async () => (await remindersStatus(rt, approval)) !== 'RUNNING' && remindersStatus(rt, approval),
        'the reminders to stop',
      ),
    ).toBe('ABORTED');
    expect(await audit(rt, approval, 'approval.reminded')).toEqual([]);
  });

  it('keeps its timers across a restart of the runtime', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'signoff-reminders-'));
    dirs.push(dir);
    const config = withTimers({ remind: ['4s'] });
    const first = await start(config, dir);
    const approval = await open(first, 83);
    expect(await audit(first, approval, 'approval.reminded')).toEqual([]);
    await first.stop();
    runtimes.splice(runtimes.indexOf(first), 1);

    const second = await start(config, dir);
    const [reminded] = await eventually(
      async () =>
        (await audit(second, approval, 'approval.reminded')).length
          ? audit(second, approval, 'approval.reminded')
          : false,
      'the reminder after the restart',
    );
    expect(reminded?.detail).toMatchObject({ approvalId: approval.approvalId, notified: 'bob,carol' });
    expect(await notices(second, 'bob', approval, 'Still waiting:')).toBe(1);
  });
});
