import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import {
  DescribeExecutionCommand,
  GetExecutionHistoryCommand,
  ListExecutionsCommand,
} from '@aws-sdk/client-sfn';
import { afterEach, describe, expect, it } from 'vitest';
import type { Approval } from '../../core/approvals/types.ts';
import type { Notice } from '../../core/chat.ts';
import { createDeploymentStore, type Deployment } from '../../core/deployments.ts';
import {
  consoleCommand as command,
  decideAs as decide,
  finalOutcome,
  finalStatus,
  json,
  pendingFor,
  startTestRuntime,
  type TestRuntime,
} from '../support/runtime.ts';

const DEPLOY_MACHINE = 'arn:aws:states:us-east-1:123456789012:stateMachine:signoff-deploy';

let runtime: TestRuntime | undefined;
afterEach(async () => {
  await runtime?.stop();
  runtime = undefined;
});

/** The execution a command started, from the notice's Execution link (labelled in the reader's language). */
function executionOf(notice: Notice): string {
  const url = notice.links?.find((l) => l.url.includes('/console/executions/'))?.url ?? '';
  const arn = decodeURIComponent(url.split('/console/executions/')[1] ?? '');
  if (!arn.startsWith('arn:aws:states:')) throw new Error(`no execution in ${JSON.stringify(notice)}`);
  return arn;
}

async function notices(rt: TestRuntime, user: string): Promise<string[]> {
  const body = await json<{ notifications: Array<{ text: string }> }>(
    await fetch(`${rt.urls.app}/console/api/notifications?user=${user}`),
  );
  return body.notifications.map((n) => n.text);
}

/** The deployment record, read straight from the table. */
async function deploymentRecord(rt: TestRuntime, deployId: string): Promise<Deployment | undefined> {
  const client = new DynamoDBClient({
    region: 'us-east-1',
    endpoint: rt.urls.dynamo,
    credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
  });
  try {
    return await createDeploymentStore(client, 'signoff').get(deployId);
  } finally {
    client.destroy();
  }
}

function updates(rt: TestRuntime) {
  return rt.lambda.requests.filter((r) => r.action === 'UpdateAlias');
}

function aliases(rt: TestRuntime, alias: string): Record<string, string | undefined> {
  return Object.fromEntries(
    ['demo-notifier', 'demo-orders', 'demo-payments'].map((fn) => [fn, rt.lambda.aliasVersion(fn, alias)]),
  );
}

describe('deploy and rollback on the embedded runtime', () => {
  it('deploys test from the console, records it, and rolls it back from the list', async () => {
    runtime = await startTestRuntime();
    const rt = runtime;
    // Demo functions: dev / test / prod = orders 4/3/2, payments 3/2/2, notifier 2/2/1.
    const revisions = {
      orders: rt.lambda.fn('demo-orders')?.aliases.get('test')?.revisionId,
      payments: rt.lambda.fn('demo-payments')?.aliases.get('test')?.revisionId,
    };

    const requested = await command(rt, 'bob', 'deploy test', 'evt-deploy-1');
    const executionArn = executionOf(requested);
    expect(requested.title).toContain('dev → test');

    const approval = await pendingFor(rt, executionArn);
    expect(approval.kind).toBe('deploy');
    expect(approval.scope).toBe('test');
    expect(approval.policy.required).toBe(1);
    expect(approval.card.fields).toEqual(
      expect.arrayContaining([
        { label: 'Environment', value: 'dev → test' },
        { label: 'demo-orders', value: 'test: 3 → 4' },
        { label: 'demo-payments', value: 'test: 2 → 3' },
        { label: 'Unchanged', value: 'demo-notifier' },
      ]),
    );
    expect(updates(rt)).toHaveLength(0);

    // The requester may not approve their own deploy.
    const self = await decide(rt, approval.approvalId, 'bob', 'approve');
    expect(self.status).toBe(403);
    expect(await json(self)).toMatchObject({ error: { code: 'SelfApproval' } });
    expect((await decide(rt, approval.approvalId, 'carol', 'approve')).status).toBe(200);

    expect(await finalStatus(rt, executionArn)).toBe('SUCCEEDED');
    expect(aliases(rt, 'test')).toEqual({ 'demo-notifier': '2', 'demo-orders': '4', 'demo-payments': '3' });
    expect(aliases(rt, 'prod')).toEqual({ 'demo-notifier': '1', 'demo-orders': '2', 'demo-payments': '2' });
    // Each alias was moved once, with the RevisionId read before the approval.
    expect(updates(rt).map((r) => [r.path, r.body])).toEqual([
      [
        '/2015-03-31/functions/demo-orders/aliases/test',
        { FunctionVersion: '4', RevisionId: revisions.orders },
      ],
      [
        '/2015-03-31/functions/demo-payments/aliases/test',
        { FunctionVersion: '3', RevisionId: revisions.payments },
      ],
    ]);
    expect((await notices(rt, 'bob'))[0]).toContain(
      'approved by Carol and done: demo-orders 3 → 4, demo-payments 2 → 3',
    );

    const deployId = executionArn.split(':').pop() as string;
    const record = await deploymentRecord(rt, deployId);
    expect(record).toMatchObject({
      deployId,
      environment: 'test',
      source: 'dev',
      status: 'deployed',
      executionArn,
      requester: { user: 'bob', name: 'Bob' },
      approvers: [{ user: 'carol', name: 'Carol', platform: 'console' }],
      functions: [
        { functionName: 'demo-orders', alias: 'test', fromVersion: '3', toVersion: '4' },
        { functionName: 'demo-payments', alias: 'test', fromVersion: '2', toVersion: '3' },
      ],
    });
    expect(Date.parse(record?.requestedAt ?? '')).toBeLessThanOrEqual(Date.parse(record?.approvedAt ?? ''));
    expect(Date.parse(record?.approvedAt ?? '')).toBeLessThanOrEqual(Date.parse(record?.finishedAt ?? ''));
    const last = await command(rt, 'alice', 'last deployers');
    expect(last.text).toContain(`test — Bob`);
    expect(last.text).toContain(deployId);
    expect(last.text).toContain('approved by Carol');
    expect(last.text).toContain('prod — no deployment yet');

    // 退版清單: the recent deployments as buttons; a click sends the command back.
    const list = await command(rt, 'alice', '退版清單');
    expect(list.text).toContain(deployId);
    const choice = list.choices?.find((c) => c.command.includes(deployId));
    expect(choice?.command).toBe(`回滾 ${deployId}`);
    const rollbackRequested = await command(rt, 'alice', choice?.command ?? '', 'evt-click-1');
    const rollbackArn = executionOf(rollbackRequested);
    const rollbackApproval = await pendingFor(rt, rollbackArn);
    expect(rollbackApproval.kind).toBe('rollback');
    expect(rollbackApproval.card.fields).toEqual(
      expect.arrayContaining([
        { label: 'Deployment', value: deployId },
        { label: 'demo-orders', value: 'test: 4 → 3' },
        { label: 'demo-payments', value: 'test: 3 → 2' },
      ]),
    );
    expect((await decide(rt, rollbackApproval.approvalId, 'bob', 'approve')).status).toBe(200);
    expect(await finalStatus(rt, rollbackArn)).toBe('SUCCEEDED');
    expect(aliases(rt, 'test')).toEqual({ 'demo-notifier': '2', 'demo-orders': '3', 'demo-payments': '2' });
    expect(updates(rt)).toHaveLength(4);
    // Alice's last command was in Traditional Chinese: so is the notice.
    expect((await notices(rt, 'alice'))[0]).toContain(`test 中 ${deployId} 的回滾已由 Bob 核准並完成`);
    expect(await deploymentRecord(rt, deployId)).toMatchObject({
      status: 'rolled-back',
      rollback: { executionArn: rollbackArn, requester: { user: 'alice' }, approvers: [{ user: 'bob' }] },
    });

    // Rolled back: off the rollback list, and shown so in the last deployers.
    expect((await command(rt, 'alice', 'rollback')).text).toContain('no completed deployment');
    expect((await command(rt, 'alice', '環境最新佈署人員')).text).toContain('已退版');
    // A second rollback of the same deployment is refused at once.
    expect((await command(rt, 'alice', `rollback ${deployId}`)).text).toContain('rolled-back');
  });

  it('needs two different approvers for prod', async () => {
    runtime = await startTestRuntime();
    const rt = runtime;
    const executionArn = executionOf(await command(rt, 'alice', 'デプロイ prod'));
    const approval = await pendingFor(rt, executionArn);
    expect(approval.policy.required).toBe(2);
    expect(approval.card.fields).toEqual(
      expect.arrayContaining([
        { label: 'Environment', value: 'test → prod' },
        { label: 'demo-orders', value: 'prod: 2 → 3' },
        { label: 'demo-notifier', value: 'prod: 1 → 2' },
      ]),
    );

    const first = await json<{ outcome: string }>(await decide(rt, approval.approvalId, 'bob', 'approve'));
    expect(first.outcome).toBe('counted');
    expect((await decide(rt, approval.approvalId, 'bob', 'approve')).status).toBe(409);
    expect(updates(rt)).toHaveLength(0);
    const second = await json<{ outcome: string }>(await decide(rt, approval.approvalId, 'carol', 'approve'));
    expect(second.outcome).toBe('completed');

    expect(await finalStatus(rt, executionArn)).toBe('SUCCEEDED');
    expect(aliases(rt, 'prod')).toEqual({ 'demo-notifier': '2', 'demo-orders': '3', 'demo-payments': '2' });
    expect((await notices(rt, 'alice'))[0]).toContain('は Bob, Carol が承認し、完了しました');
  });

  it('fails clearly when an alias changed after the approval was asked for, and restores the aliases it moved', async () => {
    runtime = await startTestRuntime();
    const rt = runtime;
    const executionArn = executionOf(await command(rt, 'alice', 'deploy test'));
    const approval = await pendingFor(rt, executionArn);

    // Someone points demo-payments:test elsewhere by hand while the card waits.
    rt.lambda.setAlias('demo-payments', 'test', '1');
    expect((await decide(rt, approval.approvalId, 'bob', 'approve')).status).toBe(200);

    expect(await finalStatus(rt, executionArn)).toBe('FAILED');
    const described = await rt.sfn.send(new DescribeExecutionCommand({ executionArn }));
    expect(described.error).toBe('DeployFailed');
    const history = await rt.sfn.send(new GetExecutionHistoryCommand({ executionArn }));
    const entered = (history.events ?? []).flatMap((e) =>
      e.stateEnteredEventDetails?.name ? [e.stateEnteredEventDetails.name] : [],
    );
    expect(entered).toEqual(
      expect.arrayContaining([
        'PromoteAliases',
        'RestoreAliases',
        'RecordDeploymentFailed',
        'NotifyDeploymentFailed',
      ]),
    );
    const deployId = executionArn.split(':').pop() as string;
    expect(await deploymentRecord(rt, deployId)).toMatchObject({
      status: 'failed',
      approvers: [{ user: 'bob' }],
    });
    expect((await deploymentRecord(rt, deployId))?.error).toContain('restored demo-orders:test→3');
    // demo-orders was moved first, then put back; demo-payments keeps the hand-made change.
    expect(aliases(rt, 'test')).toEqual({ 'demo-notifier': '2', 'demo-orders': '3', 'demo-payments': '1' });
    const refused = rt.lambda.requests.filter(
      (r) => r.action === 'UpdateAlias' && r.path.includes('demo-payments'),
    );
    expect(refused).toHaveLength(1);
    expect(updates(rt).map((r) => (r.body as { FunctionVersion: string }).FunctionVersion)).toEqual([
      '4',
      '3',
      '3',
    ]);

    const text = (await notices(rt, 'alice'))[0] ?? '';
    expect(text).toContain('The test alias of demo-payments changed after it was read for the approval');
    expect(text).toContain('restored demo-orders:test→3');
    expect(text).toContain('left as someone else set them: demo-payments:test at 1');

    // Recorded as failed: nothing to roll back, nobody is the last deployer.
    expect((await command(rt, 'alice', 'rollback')).text).toContain('no completed deployment');
    expect((await command(rt, 'alice', 'last deployers')).text).toContain('test — no deployment yet');
  });

  it('moves nothing when the deploy is rejected, and says who rejected it', async () => {
    runtime = await startTestRuntime();
    const rt = runtime;
    const executionArn = executionOf(await command(rt, 'alice', '部署 test'));
    const approval = await pendingFor(rt, executionArn);
    const rejected = await fetch(`${rt.urls.app}/console/api/approvals/${approval.approvalId}/decision`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ decision: 'reject', actor: 'carol', comment: 'freeze week' }),
    });
    expect(rejected.status).toBe(200);
    expect(await finalOutcome(rt, executionArn)).toEqual({
      status: 'FAILED',
      error: 'Signoff.Rejected',
      cause: 'freeze week',
    });
    expect(updates(rt)).toHaveLength(0);
    expect(aliases(rt, 'test')).toEqual({ 'demo-notifier': '2', 'demo-orders': '3', 'demo-payments': '2' });
    expect((await notices(rt, 'alice'))[0]).toContain('已被 Carol 拒绝：freeze week');
  });

  it('tells the requester when there is nothing to deploy, and asks nobody', async () => {
    runtime = await startTestRuntime();
    const rt = runtime;
    rt.lambda.setAlias('demo-orders', 'test', '4');
    rt.lambda.setAlias('demo-payments', 'test', '3');

    const executionArn = executionOf(await command(rt, 'alice', 'deploy test'));
    expect(await finalStatus(rt, executionArn)).toBe('SUCCEEDED');
    const all = await json<{ approvals: Approval[] }>(
      await fetch(`${rt.urls.app}/console/api/approvals?status=pending`),
    );
    expect(all.approvals.filter((a) => a.executionArn === executionArn)).toEqual([]);
    expect((await notices(rt, 'alice'))[0]).toContain('Nothing to deploy to test');
    expect(updates(rt)).toHaveLength(0);
  });

  it('offers the environments as buttons, refuses the start of the chain, and starts one execution per event', async () => {
    runtime = await startTestRuntime();
    const rt = runtime;
    const menu = await command(rt, 'alice', '環境佈署清單');
    expect(menu.choices).toEqual([
      { label: 'test (dev → test)', command: '佈署 test', key: expect.stringMatching(/^[\w-]{12}$/) },
      { label: 'prod (test → prod)', command: '佈署 prod', key: expect.stringMatching(/^[\w-]{12}$/) },
    ]);
    expect((await command(rt, 'alice', 'deploy')).choices?.map((c) => c.command)).toEqual([
      'deploy test',
      'deploy prod',
    ]);
    const dev = await command(rt, 'alice', 'deploy dev');
    expect(dev.text).toContain('start of the chain');
    expect(dev.choices).toHaveLength(2);
    expect((await command(rt, 'alice', 'deploy staging')).text).toContain('no deploy target named "staging"');

    // The same click delivered twice: one execution.
    const first = await command(rt, 'alice', '佈署 test', 'evt-same');
    const again = await command(rt, 'alice', '佈署 test', 'evt-same');
    expect(executionOf(again)).toBe(executionOf(first));
    await pendingFor(rt, executionOf(first));
    const listed = await rt.sfn.send(new ListExecutionsCommand({ stateMachineArn: DEPLOY_MACHINE }));
    expect(listed.executions).toHaveLength(1);
  });
});
