import { describe, expect, it } from 'vitest';
import type { Approval } from '../../core/approvals/types.ts';
import type { AuditRecord } from '../../core/audit.ts';
import { cliRuntime } from '../support/cli.ts';
import { finalStatus, json, openedMergeRequest, pendingFor, postGitLab } from '../support/runtime.ts';

const { rt: runtime, cli } = cliRuntime();

const inTenDays = () => new Date(Date.now() + 10 * 86_400_000).toISOString().slice(0, 10);

describe('signoff delegate', () => {
  it('refuses a wrong command line or a delegation the rules do not allow', async () => {
    expect((await cli('delegate', 'to', 'alice', '--as', 'bob')).code).toBe(2);
    expect((await cli('delegate', 'off', 'now', '--as', 'bob')).code).toBe(2);
    expect((await cli('delegate', 'to', 'alice', '--until', '2020-01-01', '--as', 'bob')).err).toMatch(
      /^signoff: until must be in the future/,
    );
    // The demo's approvers are Bob and Carol: Alice approves nothing.
    expect(await cli('delegate', 'to', 'bob', '--until', inTenDays(), '--as', 'alice')).toEqual({
      code: 1,
      out: '',
      err: 'signoff: only an approver can delegate: no policy here names you as an approver\n',
    });
    expect((await cli('delegate', '--as', 'bob', '--format', 'json')).out).toBe(
      `${JSON.stringify({ delegation: null, forOthers: [] }, null, 2)}\n`,
    );
  });

  it('sets, shows and ends a delegation; a decision through the CLI fills the seat it stands in for', async () => {
    const set = await cli('delegate', 'to', 'alice', '--until', inTenDays(), '--as', 'bob');
    expect(set.code).toBe(0);
    expect(set.out).toMatch(
      /^until \d{4}-\d{2}-\d{2}T00:00:00\.000Z, cards for bob go to alice, who may decide in their place\n$/,
    );
    const shown = await cli('delegate', '--as', 'alice');
    expect(shown.out).toMatch(/^APPROVER +DELEGATE +UNTIL +SINCE\nbob +alice +\d{4}-/);

    // Carol's merge request: Bob's seat is Alice's now.
    const { hook } = openedMergeRequest(runtime().gitlab, 81, 'carol');
    const { executionArn } = await json<{ executionArn: string }>(await postGitLab(runtime().urls.app, hook));
    const approval: Approval = await pendingFor(runtime(), executionArn);
    expect(approval.delegated).toEqual([{ user: 'bob', name: 'Bob', to: 'alice' }]);
    const decided = await cli('decide', approval.approvalId, 'approve', '--as', 'alice', '--format', 'json');
    expect(decided.code).toBe(0);
    expect(JSON.parse(decided.out).approval.votes).toMatchObject([
      { user: 'alice', onBehalfOf: { user: 'bob', name: 'Bob' } },
    ]);
    expect(await finalStatus(runtime(), executionArn)).toBe('SUCCEEDED');

    expect(await cli('delegate', 'off', '--as', 'bob')).toEqual({
      code: 0,
      out: 'delegation to alice ended: cards come to bob again\n',
      err: '',
    });
    expect((await cli('delegate', 'off', '--as', 'bob')).out).toBe('no delegation\n');
    const audit = await cli('audit', '--kind', 'delegation', '--format', 'json');
    const records = (JSON.parse(audit.out) as { records: AuditRecord[] }).records;
    expect(records.map((r) => [r.action, r.actor.user, r.actor.via, r.detail?.to]).reverse()).toEqual([
      ['delegation.set', 'bob', 'cli', 'alice'],
      ['delegation.cleared', 'bob', 'cli', 'alice'],
    ]);
    expect((await cli('audit', 'verify', '--kind', 'delegation')).code).toBe(0);
  });
});
