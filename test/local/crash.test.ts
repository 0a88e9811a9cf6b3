import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DescribeExecutionCommand, SFNClient } from '@aws-sdk/client-sfn';
import { afterAll, describe, expect, it } from 'vitest';
import { decide } from '../../core/approvals/decide.ts';
import { createApprovalStore } from '../../core/approvals/store.ts';
import type { Approval } from '../../core/approvals/types.ts';
import type { AuditRecord } from '../../core/audit.ts';
import { buildMergeRequestHook, type GitLabFake, startGitLabFake } from '../../local/demo/gitlab.ts';
import { type RuntimeProcess, startRuntimeProcess } from '../../reliability/runtime.ts';
import { type LarkFake, startLarkFake } from '../fakes/lark.ts';
import { eventually, inputWithChatIds, json, postGitLab, WEBHOOK_TOKEN } from '../support/runtime.ts';

const cleanups: Array<() => Promise<void> | void> = [];
afterAll(async () => {
  for (const cleanup of cleanups.reverse()) await cleanup();
});

describe('crash safety of the embedded runtime', () => {
  it('keeps a paused execution across kill -9: it completes once when decided after the restart', async () => {
    const gitlab: GitLabFake = await startGitLabFake();
    cleanups.push(() => gitlab.close());
    // `npm start`'s entry point as a child process: the real server, as a user runs it.
    const runtime: RuntimeProcess = await startRuntimeProcess({
      GITLAB_URL: gitlab.url,
      GITLAB_TOKEN: gitlab.token,
      GITLAB_WEBHOOK_TOKEN: WEBHOOK_TOKEN,
    });
    cleanups.push(() => runtime.stop());
    const app = runtime.app;
    const sfn = new SFNClient({
      region: 'us-east-1',
      endpoint: runtime.sfn,
      credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
    });
    cleanups.push(() => sfn.destroy());

    const mr = gitlab.seedMergeRequest({
      projectId: 3,
      projectPath: 'platform/api',
      iid: 12,
      title: 'Risky change',
    });
    const hook = buildMergeRequestHook(mr, {
      action: 'open',
      actor: { username: 'alice' },
      baseUrl: gitlab.url,
    });
    const { executionArn } = await json<{ executionArn: string }>(await postGitLab(app, hook));
    const approval = await eventually(async () => {
      const body = await json<{ approvals: Approval[] }>(
        await fetch(`${app}/console/api/approvals?status=pending`),
      );
      return body.approvals.find((a) => a.executionArn === executionArn);
    }, 'the approval');

    await runtime.kill();
    await runtime.restart();

    const paused = await sfn.send(new DescribeExecutionCommand({ executionArn }));
    expect(paused.status).toBe('RUNNING');
    // A redelivered webhook after the restart still starts nothing new.
    expect(await json(await postGitLab(app, hook))).toMatchObject({ executionArn });

    const decided = await fetch(`${app}/console/api/approvals/${approval.approvalId}/decision`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ decision: 'approve', actor: 'bob' }),
    });
    expect(decided.status).toBe(200);
    const status = await eventually(async () => {
      const out = await sfn.send(new DescribeExecutionCommand({ executionArn }));
      return out.status !== 'RUNNING' && out.status;
    }, 'the execution to end');
    expect(status).toBe('SUCCEEDED');

    const merges = gitlab.requests.filter(
      (r) => r.method === 'PUT' && r.path.endsWith('/merge_requests/12/merge'),
    );
    expect(merges).toHaveLength(1);
    expect(merges[0]?.body).toMatchObject({ sha: mr.sha });
    const pending = await json<{ approvals: Approval[] }>(
      await fetch(`${app}/console/api/approvals?status=pending`),
    );
    expect(pending.approvals).toHaveLength(0);
    // One approval for the execution: the restart did not request a second one.
    const all = await json<{ approvals: Approval[] }>(
      await fetch(`${app}/console/api/approvals?status=approved`),
    );
    expect(all.approvals.filter((a) => a.executionArn === executionArn)).toHaveLength(1);
  }, 120_000);

  it('finishes a decision cut short by kill -9 before its resume: the execution resumes, every card shows it, the audit has the vote', async () => {
    const gitlab: GitLabFake = await startGitLabFake();
    cleanups.push(() => gitlab.close());
    const lark: LarkFake = await startLarkFake();
    cleanups.push(() => lark.close());
    const openIds = {
      bob: 'ou_bob00000000000000000000000000000',
      carol: 'ou_carol0000000000000000000000000000',
    };
    const config = inputWithChatIds('lark', openIds);
    const configPath = join(mkdtempSync(join(tmpdir(), 'signoff-crash-config-')), 'signoff.config.json');
    writeFileSync(configPath, JSON.stringify(config));
    // A configuration file is a real configuration: the console API wants a token (alice's here).
    const operator = { authorization: `Bearer ${'t'.repeat(40)}` };
    const runtime = await startRuntimeProcess({
      SIGNOFF_CONFIG: configPath,
      SIGNOFF_CONSOLE_TOKENS: JSON.stringify({ alice: 't'.repeat(40) }),
      GITLAB_URL: gitlab.url,
      GITLAB_TOKEN: gitlab.token,
      GITLAB_WEBHOOK_TOKEN: WEBHOOK_TOKEN,
      LARK_APP_ID: lark.appId,
      LARK_APP_SECRET: lark.appSecret,
      LARK_VERIFICATION_TOKEN: 'crash-verification-token',
      LARK_ENCRYPT_KEY: 'crash-encrypt-key',
      LARK_DOMAIN: lark.url,
    });
    cleanups.push(() => runtime.stop());
    const sfn = new SFNClient({
      region: 'us-east-1',
      endpoint: runtime.sfn,
      credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
    });
    cleanups.push(() => sfn.destroy());

    const mr = gitlab.seedMergeRequest({
      projectId: 4,
      projectPath: 'platform/web',
      iid: 21,
      title: 'Cut short',
    });
    const hook = buildMergeRequestHook(mr, {
      action: 'open',
      actor: { username: 'alice' },
      baseUrl: gitlab.url,
    });
    const { executionArn } = await json<{ executionArn: string }>(await postGitLab(runtime.app, hook));
    const approval = await eventually(async () => {
      const body = await json<{ approvals: Approval[] }>(
        await fetch(`${runtime.app}/console/api/approvals?status=pending`, { headers: operator }),
      );
      const found = body.approvals.find((a) => a.executionArn === executionArn);
      return found && found.cards.filter((c) => c.platform === 'lark').length === 2 && found;
    }, 'the approval and its two Lark cards');

    // Bob's click as the runtime writes it (the completing vote and its outbox entry, through the
    // same core code over the runtime's own DynamoDB endpoint) — then the process dies before
    // it resumes the execution, writes the records or updates the other cards.
    const dynamo = new DynamoDBClient({
      region: 'us-east-1',
      endpoint: runtime.dynamo,
      credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
    });
    cleanups.push(() => dynamo.destroy());
    const bob = { platform: 'lark' as const, id: openIds.bob, name: 'Bob', user: 'bob' };
    const decided = await decide(createApprovalStore(dynamo, 'signoff'), {
      approvalId: approval.approvalId,
      actor: bob,
      decision: 'approve',
      now: new Date(),
    });
    expect(decided.outcome).toBe('completed');
    await runtime.kill();
    await runtime.restart();

    const status = await eventually(async () => {
      const out = await sfn.send(new DescribeExecutionCommand({ executionArn }));
      return out.status !== 'RUNNING' && out.status;
    }, 'the execution to end');
    expect(status).toBe('SUCCEEDED');
    expect(
      gitlab.requests.filter((r) => r.method === 'PUT' && r.path.endsWith('/merge_requests/21/merge')),
    ).toHaveLength(1);
    // Every card shows the decision.
    for (const ref of approval.cards.filter((c) => c.platform === 'lark')) {
      const card = await eventually(async () => {
        const message = lark.messages.get(ref.id);
        const last = message?.patches.at(-1);
        return last !== undefined && JSON.stringify(last);
      }, `card ${ref.id} to be updated`);
      expect(card).toContain('Approved');
      expect(card).not.toContain('"Approve"');
    }
    // The audit has the vote and the decision, once.
    const audit = await json<{ records: AuditRecord[] }>(
      await fetch(`${runtime.app}/console/api/audit?execution=${encodeURIComponent(executionArn)}`, {
        headers: operator,
      }),
    );
    const actions = audit.records.map((r) => `${r.action}:${r.outcome}:${r.actor.name}`);
    expect(actions.filter((a) => a === 'approval.vote:approve:Bob')).toHaveLength(1);
    expect(actions.filter((a) => a === 'approval.decided:approved:Bob')).toHaveLength(1);
  }, 120_000);
});
