/**
 * The CLI on AWS acts as the user its IAM principal maps to (`users.<key>.aws`), asked of STS
 * with the caller's own signed request, and records the principal as who really ran it. Against
 * the embedded runtime's endpoints given as on AWS (no runtime.json, so no operator token) and a
 * wire-true STS fake that checks SigV4 signatures.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { userForAwsPrincipal } from '../../console/actor.ts';
import type { Approval } from '../../core/approvals/types.ts';
import type { AuditRecord } from '../../core/audit.ts';
import { DEFAULT_CONFIG_INPUT, parseConfig } from '../../core/config.ts';
import { type StsFake, startStsFake } from '../fakes/sts.ts';
import { runSignoff } from '../support/cli.ts';
import {
  eventually,
  json,
  openedMergeRequest,
  postGitLab,
  startTestRuntime,
  type TestRuntime,
} from '../support/runtime.ts';

const BOB = {
  accessKeyId: 'ASIABOB0000000000001',
  secretAccessKey: 'bob-secret-access-key',
  arn: 'arn:aws:sts::123456789012:assumed-role/Deployer/bob@example.com',
};
const CAROL = {
  accessKeyId: 'AKIACAROL00000000001',
  secretAccessKey: 'carol-secret-access-key',
  arn: 'arn:aws:iam::123456789012:user/carol',
};
const STRANGER = {
  accessKeyId: 'AKIASTRANGER00000001',
  secretAccessKey: 'stranger-secret',
  arn: 'arn:aws:iam::123456789012:user/mallory',
};

const input = {
  ...structuredClone(DEFAULT_CONFIG_INPUT),
  // The test reads the console API with the operator's token; the CLI here has no runtime.json.
  console: { operator: 'alice' },
  users: {
    alice: { name: 'Alice', gitlab: 'alice' },
    bob: {
      name: 'Bob',
      gitlab: 'bob',
      aws: ['arn:aws:sts::123456789012:assumed-role/Deployer/bob@example.com'],
    },
    carol: { name: 'Carol', gitlab: 'carol', aws: ['arn:aws:iam::123456789012:user/carol*'] },
  },
};

let rt: TestRuntime;
let sts: StsFake;
let base: Record<string, string>;
const empty = mkdtempSync(join(tmpdir(), 'signoff-cli-aws-'));

beforeAll(async () => {
  rt = await startTestRuntime(parseConfig(input), undefined, {}, { demo: false });
  sts = await startStsFake([BOB, CAROL, STRANGER]);
  const file = join(rt.dataDir, 'signoff.config.json');
  writeFileSync(file, JSON.stringify(input));
  // As on AWS: the endpoints and credentials from the environment, no local runtime.json.
  base = {
    SIGNOFF_DATA_DIR: empty,
    SIGNOFF_CONFIG: file,
    AWS_REGION: 'us-east-1',
    AWS_ENDPOINT_URL_SFN: rt.urls.sfn,
    AWS_ENDPOINT_URL_DYNAMODB: rt.urls.dynamo,
    AWS_ENDPOINT_URL_STS: sts.url,
    SIGNOFF_ACCOUNT_ID: '123456789012',
  };
}, 60_000);

afterAll(async () => {
  await rt?.stop();
  await sts?.close();
  rmSync(empty, { recursive: true, force: true });
});

function cli(who: { accessKeyId: string; secretAccessKey: string }, ...argv: string[]) {
  return runSignoff(
    { ...base, AWS_ACCESS_KEY_ID: who.accessKeyId, AWS_SECRET_ACCESS_KEY: who.secretAccessKey },
    ...argv,
  );
}

async function api<T>(path: string): Promise<T> {
  return json<T>(
    await fetch(`${rt.urls.app}/console/api${path}`, {
      headers: { authorization: `Bearer ${rt.operator?.token}` },
    }),
  );
}

async function pendingMergeRequest(iid: number): Promise<Approval> {
  const { hook } = openedMergeRequest(rt.gitlab, iid);
  const { executionArn } = await json<{ executionArn: string }>(await postGitLab(rt.urls.app, hook));
  return eventually(async () => {
    const { approvals } = await api<{ approvals: Approval[] }>('/approvals?status=pending');
    return approvals.find((a) => a.executionArn === executionArn);
  }, 'the pending approval');
}

describe('userForAwsPrincipal', () => {
  const config = parseConfig(input);
  it('maps an ARN by the users’ patterns, * matching any run of characters', () => {
    expect(userForAwsPrincipal(config, BOB.arn)).toBe('bob');
    expect(userForAwsPrincipal(config, 'arn:aws:iam::123456789012:user/carol-admin')).toBe('carol');
  });
  it('refuses an ARN no pattern matches, a near miss, and one that matches two users', () => {
    expect(() => userForAwsPrincipal(config, STRANGER.arn)).toThrow(/no configured user/);
    expect(() =>
      userForAwsPrincipal(config, 'arn:aws:sts::123456789012:assumed-role/Deployer/bob@example.com.evil'),
    ).toThrow(/no configured user/);
    // A dot in a pattern is a dot, not "any character".
    expect(() =>
      userForAwsPrincipal(config, 'arn:aws:sts::123456789012:assumed-role/Deployer/bob@exampleXcom'),
    ).toThrow(/no configured user/);
    const both = parseConfig({
      ...input,
      users: { ...input.users, dave: { name: 'Dave', aws: ['arn:aws:iam::123456789012:user/*'] } },
    });
    expect(() => userForAwsPrincipal(both, CAROL.arn)).toThrow(/more than one user \(carol, dave\)/);
  });
});

describe('the CLI on AWS', () => {
  it('decides as the user its IAM principal maps to, and the audit records the principal', async () => {
    const approval = await pendingMergeRequest(61);
    const run = await cli(BOB, 'decide', approval.approvalId, 'approve');
    expect(run.err).toBe('');
    expect(run.code).toBe(0);
    const { approval: now } = await api<{ approval: Approval }>(`/approvals/${approval.approvalId}`);
    expect(now.votes.map((v) => [v.user, v.actor.via, v.actor.principal])).toEqual([['bob', 'cli', BOB.arn]]);
    const { records } = await api<{ records: AuditRecord[] }>(
      `/audit?execution=${encodeURIComponent(approval.executionArn)}`,
    );
    const vote = records.find((r) => r.action === 'approval.vote');
    expect(vote?.actor).toMatchObject({ user: 'bob', via: 'cli', principal: BOB.arn });
    expect(sts.callers).toContain(BOB.accessKeyId);
  });

  it('refuses --as another user without --override --reason, and records an override with the principal', async () => {
    const approval = await pendingMergeRequest(62);
    const refused = await cli(CAROL, 'decide', approval.approvalId, 'approve', '--as', 'bob');
    expect(refused.code).toBe(1);
    expect(refused.err).toMatch(/acts as carol .*--override --reason/);
    const { approval: unchanged } = await api<{ approval: Approval }>(`/approvals/${approval.approvalId}`);
    expect(unchanged.votes).toEqual([]);

    const overridden = await cli(
      CAROL,
      'decide',
      approval.approvalId,
      'approve',
      '--as',
      'bob',
      '--override',
      '--reason',
      'bob approved on the phone',
    );
    expect({ code: overridden.code, err: overridden.err }).toEqual({ code: 0, err: '' });
    const { records } = await api<{ records: AuditRecord[] }>(
      `/audit?execution=${encodeURIComponent(approval.executionArn)}&action=approval.override`,
    );
    expect(records.map((r) => [r.actor.user, r.actor.principal, r.detail])).toEqual([
      [
        'carol',
        CAROL.arn,
        { approvalId: approval.approvalId, as: 'bob', reason: 'bob approved on the phone' },
      ],
    ]);
  });

  it('refuses a principal that maps to nobody, and a request STS rejects, changing nothing; reading still works', async () => {
    const approval = await pendingMergeRequest(63);
    const stranger = await cli(STRANGER, 'decide', approval.approvalId, 'approve');
    expect(stranger.code).toBe(1);
    expect(stranger.err).toContain(`your AWS principal ${STRANGER.arn} is no configured user`);
    const forged = await cli(
      { accessKeyId: BOB.accessKeyId, secretAccessKey: 'not-bobs-secret' },
      'decide',
      approval.approvalId,
      'approve',
    );
    expect(forged.code).toBe(1);
    expect(forged.err).toMatch(/could not ask AWS STS who you are: .*signature/i);
    expect(forged.err).not.toContain('not-bobs-secret');
    const { approval: unchanged } = await api<{ approval: Approval }>(`/approvals/${approval.approvalId}`);
    expect(unchanged.votes).toEqual([]);
    // Listing needs no identity.
    const listed = await cli(STRANGER, 'approvals', '--format', 'json');
    expect(listed.code).toBe(0);
    expect(listed.out).toContain(approval.approvalId);
  });

  it('starts a workflow with the principal’s user as the requester (no --as needed)', async () => {
    const mr = rt.gitlab.seedMergeRequest({
      projectId: 9,
      projectPath: 'platform/cli',
      iid: 64,
      title: 'Started from the CLI on AWS',
      author: { id: 13, username: 'carol', name: 'Carol' },
    });
    const mergeRequest = {
      projectId: 9,
      projectPath: 'platform/cli',
      projectUrl: `${rt.gitlab.url}/platform/cli`,
      iid: 64,
      title: mr.title,
      author: { username: 'carol', name: 'Carol' },
      sourceBranch: mr.sourceBranch,
      targetBranch: mr.targetBranch,
      sha: mr.sha,
      url: `${rt.gitlab.url}/platform/cli/-/merge_requests/64`,
    };
    const run = await cli(CAROL, 'start', 'merge-request', '--input', JSON.stringify({ mergeRequest }));
    expect(run.err).toBe('');
    const executionArn = run.out.trim();
    const { records } = await api<{ records: AuditRecord[] }>(
      `/audit?execution=${encodeURIComponent(executionArn)}`,
    );
    const requested = records.find((r) => r.action === 'execution.requested');
    expect(requested?.actor).toMatchObject({ user: 'carol', principal: CAROL.arn });
  });
});
