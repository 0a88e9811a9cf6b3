import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cliDecider } from '../../console/actor.ts';
import type { Approval } from '../../core/approvals/types.ts';
import type { AuditRecord } from '../../core/audit.ts';
import { DEFAULT_CONFIG_INPUT, demoConfig, parseConfig } from '../../core/config.ts';
import { runSignoff } from '../support/cli.ts';
import {
  eventually,
  json,
  openedMergeRequest,
  postGitLab,
  startTestRuntime,
  type TestRuntime,
} from '../support/runtime.ts';

let rt: TestRuntime;
let env: Record<string, string>;
const input = {
  ...structuredClone(DEFAULT_CONFIG_INPUT),
  // A team's configuration: the local runtime's operator token is bob's.
  console: { operator: 'bob' },
};

beforeAll(async () => {
  (input.policies as Record<string, Record<string, unknown>>)['merge-request'] = {
    approvers: ['bob', 'carol'],
    required: 2,
  };
  const config = parseConfig(input);
  rt = await startTestRuntime(config, undefined, {}, { demo: false });
  const file = join(rt.dataDir, 'signoff.config.json');
  writeFileSync(file, JSON.stringify(input));
  // The CLI finds the runtime (and its operator) through runtime.json, with the same configuration.
  env = { SIGNOFF_DATA_DIR: rt.dataDir, SIGNOFF_CONFIG: file };
}, 60_000);

afterAll(async () => {
  await rt?.stop();
});

const cli = runSignoff;

/** The console API with the operator's bearer token (a real configuration needs one). */
async function api<T>(path: string): Promise<T> {
  const response = await fetch(`${rt.urls.app}/console/api${path}`, {
    headers: { authorization: `Bearer ${rt.operator?.token}` },
  });
  return json<T>(response);
}

async function votesOf(approvalId: string): Promise<Array<[string, string | undefined]>> {
  const { approval } = await api<{ approval: Approval }>(`/approvals/${approvalId}`);
  return approval.votes.map((v) => [v.user, v.actor.via]);
}

describe('cliDecider (who a CLI decision acts as)', () => {
  const config = parseConfig(input);

  it('acts as the operator, and refuses --as another without --override --reason', () => {
    expect(cliDecider(config, { demo: false, operator: 'bob' }).actor).toMatchObject({
      user: 'bob',
      via: 'cli',
    });
    expect(() => cliDecider(config, { demo: false, operator: 'bob', as: 'carol' })).toThrow(
      /acts as bob .*--override --reason/,
    );
    expect(() => cliDecider(config, { demo: false, operator: 'bob', as: 'carol', override: true })).toThrow(
      /--override needs --reason/,
    );
    const override = cliDecider(config, {
      demo: false,
      operator: 'bob',
      as: 'carol',
      override: true,
      reason: 'carol is on a plane',
    });
    expect(override).toMatchObject({
      actor: { user: 'carol', via: 'cli-override' },
      override: { by: { user: 'bob', via: 'cli' }, reason: 'carol is on a plane' },
    });
  });

  it('refuses without an identity, and honours --as on the built-in demo configuration only', () => {
    expect(() => cliDecider(config, { demo: false, as: 'bob' })).toThrow(/no identity/);
    expect(cliDecider(demoConfig(), { demo: true, as: 'carol' }).actor).toMatchObject({ user: 'carol' });
  });
});

describe('signoff decide against a runtime with a real configuration', () => {
  it('decides as the operator token’s user; --as another is refused, and an override is audited with who ran it', async () => {
    const { hook } = openedMergeRequest(rt.gitlab, 71);
    const { executionArn } = await json<{ executionArn: string }>(await postGitLab(rt.urls.app, hook));
    const { approvalId } = await eventually(async () => {
      const { approvals } = await api<{ approvals: Approval[] }>('/approvals?status=pending');
      return approvals.find((a) => a.executionArn === executionArn);
    }, 'the approval');

    // Acting as carol without an override: refused, nothing recorded.
    const refused = await cli(env, 'decide', approvalId, 'approve', '--as', 'carol');
    expect(refused.code).toBe(1);
    expect(refused.err).toContain('the CLI acts as bob');
    expect(await votesOf(approvalId)).toEqual([]);
    const noReason = await cli(env, 'decide', approvalId, 'approve', '--as', 'carol', '--override');
    expect(noReason.code).toBe(2);
    expect(noReason.err).toContain('--override needs --reason');

    // Without --as: bob, the operator token's user.
    const own = await cli(env, 'decide', approvalId, 'approve');
    expect({ code: own.code, err: own.err }).toEqual({ code: 0, err: '' });
    expect(await votesOf(approvalId)).toEqual([['bob', 'cli']]);

    // An override: carol's vote, recorded as an override by bob with the reason.
    const overridden = await cli(
      env,
      'decide',
      approvalId,
      'approve',
      '--as',
      'carol',
      '--override',
      '--reason',
      'carol approved on the phone',
    );
    expect({ code: overridden.code, out: overridden.out, err: overridden.err }).toEqual({
      code: 0,
      out: 'recorded: the request is approved\n',
      err: '',
    });
    expect(await votesOf(approvalId)).toEqual([
      ['bob', 'cli'],
      ['carol', 'cli-override'],
    ]);
    const { records } = await api<{ records: AuditRecord[] }>(
      `/audit?execution=${encodeURIComponent(executionArn)}&action=approval.override`,
    );
    expect(records.map((r) => [r.actor.user, r.actor.via, r.outcome, r.detail])).toEqual([
      ['bob', 'cli', 'approve', { approvalId, as: 'carol', reason: 'carol approved on the phone' }],
    ]);
  }, 60_000);

  it('refuses to decide when the CLI has no identity (another runtime’s endpoints, no runtime.json)', async () => {
    const elsewhere = {
      AWS_ENDPOINT_URL_SFN: rt.urls.sfn,
      AWS_ENDPOINT_URL_DYNAMODB: rt.urls.dynamo,
      SIGNOFF_CONFIG: env.SIGNOFF_CONFIG ?? '',
      SIGNOFF_DATA_DIR: join(rt.dataDir, 'nowhere'),
    };
    const result = await cli(elsewhere, 'decide', 'a-missing-approval', 'approve', '--as', 'bob');
    expect(result.code).toBe(1);
    expect(result.err).toContain('the CLI has no identity here');
  });
});
