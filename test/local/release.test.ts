/**
 * Releases (issue 18): a chat command asks to run a GitLab pipeline, the approval gates it, the
 * execution waits on its task token until the Pipeline Hook (or the reconciler) reports the final
 * status, and every card copy, the requester and the audit follow it. Over real HTTP on the
 * embedded runtime, the real @gitbeaker/rest client against the GitLab stand-in, which sends
 * Pipeline Hooks shaped as GitLab documents them.
 */
import {
  DescribeExecutionCommand,
  GetExecutionHistoryCommand,
  SendTaskSuccessCommand,
} from '@aws-sdk/client-sfn';
import { afterEach, describe, expect, it } from 'vitest';
import { decisionData } from '../../chat/line/postback.ts';
import type { Approval } from '../../core/approvals/types.ts';
import type { AuditRecord } from '../../core/audit.ts';
import type { Notice } from '../../core/chat.ts';
import { DEFAULT_CONFIG_INPUT, parseConfig } from '../../core/config.ts';
import type { PipelineOutcome } from '../../local/demo/gitlab-pipelines.ts';
import { cardActionEvent, messageEvent, signedLarkRequest, startLarkFake } from '../fakes/lark.ts';
import {
  lineId,
  linePostbackEvent,
  lineTextEvent,
  lineWebhook,
  signLineBody,
  startLineFake,
} from '../fakes/line.ts';
import {
  consoleCommand as command,
  decideAs as decide,
  eventually,
  finalStatus,
  json,
  pendingFor,
  startTestRuntime,
  type TestRuntime,
  WEBHOOK_TOKEN,
} from '../support/runtime.ts';

let runtime: TestRuntime | undefined;
afterEach(async () => {
  await runtime?.stop();
  runtime = undefined;
});

function executionOf(notice: Notice): string {
  const url = notice.links?.find((l) => l.url.includes('/console/executions/'))?.url ?? '';
  const arn = decodeURIComponent(url.split('/console/executions/')[1] ?? '');
  if (!arn.startsWith('arn:aws:states:')) throw new Error(`no execution in ${JSON.stringify(notice)}`);
  return arn;
}

async function approval(rt: TestRuntime, approvalId: string): Promise<Approval> {
  const body = await json<{ approval: Approval }>(
    await fetch(`${rt.urls.app}/console/api/approvals/${approvalId}`),
  );
  return body.approval;
}

function pipelineField(a: Approval): string | undefined {
  return a.card.fields.find((f) => f.label === 'Pipeline')?.value;
}

async function audit(rt: TestRuntime, executionArn: string): Promise<AuditRecord[]> {
  const body = await json<{ records: AuditRecord[] }>(
    await fetch(`${rt.urls.app}/console/api/audit?execution=${encodeURIComponent(executionArn)}`),
  );
  return body.records;
}

async function notices(rt: TestRuntime, user: string): Promise<string[]> {
  const body = await json<{ notifications: Array<{ text: string }> }>(
    await fetch(`${rt.urls.app}/console/api/notifications?user=${user}`),
  );
  return body.notifications.map((n) => n.text);
}

async function failureOf(rt: TestRuntime, executionArn: string): Promise<string | undefined> {
  return (await rt.sfn.send(new DescribeExecutionCommand({ executionArn }))).error;
}

function createCalls(rt: TestRuntime) {
  return rt.gitlab.requests.filter((r) => r.method === 'POST' && r.path.endsWith('/pipeline'));
}

/** `release web` as bob, approved by carol; returns the execution, the approval and the pipeline it created. */
async function approvedRelease(rt: TestRuntime, eventId: string) {
  const requested = await command(rt, 'bob', 'release web', eventId);
  const executionArn = executionOf(requested);
  const pending = await pendingFor(rt, executionArn);
  expect((await decide(rt, pending.approvalId, 'carol', 'approve')).status).toBe(200);
  const pipelineId = await eventually(async () => {
    const call = createCalls(rt).at(-1);
    if (!call) return undefined;
    const known = [...rt.gitlab.pipelines.pipelines.values()].at(-1);
    // Stored once the card says it is running.
    const now = await approval(rt, pending.approvalId);
    return pipelineField(now)?.includes('running') || pipelineField(now)?.includes('passed')
      ? known?.id
      : undefined;
  }, 'the pipeline to be created');
  return { executionArn, approvalId: pending.approvalId, pipelineId: pipelineId as number };
}

async function postPipelineHook(rt: TestRuntime, body: unknown, headers: Record<string, string> = {}) {
  return fetch(`${rt.urls.app}/webhooks/gitlab`, {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      'x-gitlab-event': 'Pipeline Hook',
      'x-gitlab-token': WEBHOOK_TOKEN,
      ...headers,
    },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });
}

describe('release from chat, watch it run, report back', () => {
  it('runs the approved commit with SIGNOFF_SHA and SIGNOFF_APPROVAL_ID, and succeeds on a success hook', async () => {
    runtime = await startTestRuntime(undefined, undefined, {}, {});
    const rt = runtime;
    const project = rt.gitlab.pipelines.projects.get(42);
    const head = project?.branches.get('main')?.[0]?.id as string;

    // Without a name: the configured releases as buttons.
    const list = await command(rt, 'bob', 'リリース');
    expect(list.choices?.map((c) => c.command)).toEqual(['リリース web']);

    rt.gitlab.pipelines.planNext('hold');
    const { executionArn, approvalId, pipelineId } = await approvedRelease(rt, 'evt-release-1');
    const card = await approval(rt, approvalId);
    expect(card.card.fields).toEqual(
      expect.arrayContaining([
        { label: 'Project', value: 'demo/web' },
        { label: 'Ref', value: 'main' },
        { label: 'Since', value: 'first release of this name' },
      ]),
    );
    expect(card.card.title).toContain(head.slice(0, 8));
    expect(pipelineField(card)).toBe(`#${pipelineId} running`);

    const [create] = createCalls(rt);
    expect(create?.path).toBe('/api/v4/projects/demo%2Fweb/pipeline');
    const sent = create?.body as { ref: string; variables: Array<{ key: string; value: string }> };
    expect(sent.ref).toBe('main');
    expect(Object.fromEntries(sent.variables.map((v) => [v.key, v.value]))).toEqual({
      SIGNOFF_SHA: head,
      SIGNOFF_APPROVAL_ID: approvalId,
      SIGNOFF_RELEASE: 'web',
    });
    // The task token is nowhere in what GitLab received.
    const history = await rt.sfn.send(new GetExecutionHistoryCommand({ executionArn }));
    const tokens = (history.events ?? [])
      .map((e) => e.taskScheduledEventDetails?.parameters)
      .filter((p): p is string => Boolean(p))
      .map((p) => (JSON.parse(p) as { Payload?: { taskToken?: string } }).Payload?.taskToken)
      .filter((t): t is string => Boolean(t));
    expect(tokens.length).toBe(2);
    for (const token of tokens) expect(JSON.stringify(rt.gitlab.requests)).not.toContain(token);

    await rt.gitlab.pipelines.finishPipeline(pipelineId, 'success');
    expect(await finalStatus(rt, executionArn)).toBe('SUCCEEDED');
    expect(pipelineField(await approval(rt, approvalId))).toMatch(
      new RegExp(`^#${pipelineId} passed in \\d+s$`),
    );
    expect((await notices(rt, 'bob')).some((t) => t.includes(`pipeline #${pipelineId} passed`))).toBe(true);
    const actions = (await audit(rt, executionArn)).map((r) => `${r.action}:${r.outcome}`);
    expect(actions).toEqual(
      expect.arrayContaining([
        'execution.requested:started',
        'approval.requested:pending',
        'release.pipeline_created:running',
        'release.pipeline_finished:success',
        'workflow.pipeline-success:pipeline-success',
      ]),
    );

    // The next release lists what changed since this one (GitLab compare).
    rt.gitlab.pipelines.pushTo(42, 'main', 'Fix the checkout button');
    const next = executionOf(await command(rt, 'bob', 'release web', 'evt-release-2'));
    const nextCard = await pendingFor(rt, next);
    const since = nextCard.card.fields.find((f) => f.label.startsWith('Since '));
    expect(since?.label).toBe(`Since ${head.slice(0, 8)}`);
    expect(since?.value).toContain('Fix the checkout button (Carol)');
  });

  it.each<[PipelineOutcome, string, string]>([
    ['failed', 'Signoff.PipelineFailed', 'failed in'],
    ['canceled', 'Signoff.PipelineCanceled', 'canceled in'],
  ])('ends FAILED when the pipeline is %s', async (outcome, error, shown) => {
    runtime = await startTestRuntime();
    const rt = runtime;
    rt.gitlab.pipelines.planNext('hold');
    const { executionArn, approvalId, pipelineId } = await approvedRelease(rt, `evt-${outcome}`);
    await rt.gitlab.pipelines.finishPipeline(pipelineId, outcome);
    expect(await finalStatus(rt, executionArn)).toBe('FAILED');
    expect(await failureOf(rt, executionArn)).toBe(error);
    const field = pipelineField(await approval(rt, approvalId));
    expect(field).toContain(shown);
    if (outcome === 'failed') expect(field).toContain('at job "deploy"');
  });

  it('rollback release <name> lists the earlier successful runs as buttons; the chosen one re-runs its pipeline at its sha under the rollback policy', async () => {
    // Releases need one approver; rolling back web needs two (policies.rollback, scope: the release name).
    const input = structuredClone(DEFAULT_CONFIG_INPUT) as {
      policies: { rollback: { overrides: Record<string, { required: number }> } };
    };
    input.policies.rollback.overrides.web = { required: 2 };
    runtime = await startTestRuntime(parseConfig(input));
    const rt = runtime;
    expect((await command(rt, 'alice', 'rollback release web', 'evt-rb-none')).text).toBe(
      'This release has no earlier successful run to go back to.',
    );

    // Two successful releases, of two commits.
    const shas: string[] = [];
    const ids: number[] = [];
    for (const n of [1, 2]) {
      if (n === 2) rt.gitlab.pipelines.pushTo(42, 'main', 'Second change');
      shas.push(rt.gitlab.pipelines.projects.get(42)?.branches.get('main')?.[0]?.id as string);
      rt.gitlab.pipelines.planNext('hold');
      const done = await approvedRelease(rt, `evt-rb-release-${n}`);
      await rt.gitlab.pipelines.finishPipeline(done.pipelineId, 'success');
      expect(await finalStatus(rt, done.executionArn)).toBe('SUCCEEDED');
      ids.push(done.pipelineId);
    }
    const [first, second] = ids as [number, number];
    // A release that failed is no run to go back to.
    rt.gitlab.pipelines.planNext('hold');
    const failed = await approvedRelease(rt, 'evt-rb-failed');
    await rt.gitlab.pipelines.finishPipeline(failed.pipelineId, 'failed');
    expect(await finalStatus(rt, failed.executionArn)).toBe('FAILED');

    const list = await command(rt, 'alice', 'rollback release web', 'evt-rb-list');
    expect(list.title).toBe('Earlier successful runs: choose one to run again at its commit');
    // Newest first, one button per successful run, each naming its pipeline and commit.
    expect(list.choices?.map((c) => c.command)).toEqual([
      `rollback release web ${second}`,
      `rollback release web ${first}`,
    ]);
    expect(list.choices?.[1]?.label).toContain(`#${first} ${shas[0]?.slice(0, 8)}`);
    expect(list.text).not.toContain(`#${failed.pipelineId}`);
    // A run that is not a successful one of this release (the failed one) is refused, nothing started.
    const refused = await command(rt, 'alice', `rollback release web ${failed.pipelineId}`, 'evt-rb-bad');
    expect(refused.text).toContain('That is not a successful run of this release:');
    expect(refused.links ?? []).toEqual([]);

    // The button of the first run: its command, as a click sends it.
    const chosen = list.choices?.[1]?.command as string;
    const requested = await command(rt, 'alice', chosen, 'evt-rb-click');
    const executionArn = executionOf(requested);
    expect(executionArn).toContain(':release-rollback-');
    expect(requested.text).toContain('(2 needed)');
    const pending = await pendingFor(rt, executionArn);
    expect(pending.policy.required).toBe(2);
    expect(pending.card.fields).toEqual(
      expect.arrayContaining([
        { label: 'Rollback to', value: `pipeline #${first} at ${shas[0]?.slice(0, 8)}` },
      ]),
    );
    const creates = createCalls(rt).length;
    rt.gitlab.pipelines.planNext('hold');
    expect((await decide(rt, pending.approvalId, 'bob', 'approve')).status).toBe(200);
    // One of two: still pending, no pipeline.
    expect((await approval(rt, pending.approvalId)).status).toBe('pending');
    expect(createCalls(rt)).toHaveLength(creates);
    expect((await decide(rt, pending.approvalId, 'carol', 'approve')).status).toBe(200);
    const create = await eventually(async () => createCalls(rt)[creates], 'the rollback pipeline');
    const sent = create.body as { ref: string; variables: Array<{ key: string; value: string }> };
    expect(sent.ref).toBe('main');
    expect(Object.fromEntries(sent.variables.map((v) => [v.key, v.value]))).toEqual({
      SIGNOFF_SHA: shas[0],
      SIGNOFF_APPROVAL_ID: pending.approvalId,
      SIGNOFF_RELEASE: 'web',
      SIGNOFF_ROLLBACK_OF: String(first),
    });
    const rollbackId = [...rt.gitlab.pipelines.pipelines.keys()].at(-1) as number;
    await eventually(
      async () => pipelineField(await approval(rt, pending.approvalId))?.includes('running'),
      'the rollback running on the card',
    );
    await rt.gitlab.pipelines.finishPipeline(rollbackId, 'success');
    expect(await finalStatus(rt, executionArn)).toBe('SUCCEEDED');
    const actions = (await audit(rt, executionArn)).map((r) => r.action);
    expect(actions).toEqual(
      expect.arrayContaining(['release.pipeline_created', 'release.pipeline_finished']),
    );
  });

  it('a lost hook is made up for by the reconciler (GET /pipelines/:id)', async () => {
    runtime = await startTestRuntime();
    const rt = runtime;
    rt.gitlab.pipelines.planNext('hold');
    const { executionArn, pipelineId } = await approvedRelease(rt, 'evt-lost');
    await rt.gitlab.pipelines.finishPipeline(pipelineId, 'success', 'drop');
    const before = await rt.sfn.send(new DescribeExecutionCommand({ executionArn }));
    expect(before.status).toBe('RUNNING');
    const report = await rt.reconcilePipelines();
    expect(report).toMatchObject({ checked: 1, resumed: 1 });
    expect(await finalStatus(rt, executionArn)).toBe('SUCCEEDED');
    expect(
      rt.gitlab.requests.some((r) => r.method === 'GET' && r.path.endsWith(`/pipelines/${pipelineId}`)),
    ).toBe(true);
    const finished = (await audit(rt, executionArn)).find((r) => r.action === 'release.pipeline_finished');
    expect(finished?.detail).toMatchObject({ via: 'reconciler' });
    // Nothing is left waiting: the next pass checks nothing.
    expect(await rt.reconcilePipelines()).toMatchObject({ checked: 0 });
  });

  it('a hook that arrives before the pipeline id is stored is kept and applied', async () => {
    runtime = await startTestRuntime();
    const rt = runtime;
    rt.gitlab.pipelines.planNext({ outcome: 'success' });
    rt.gitlab.pipelines.deliverNext('before-answer');
    const requested = await command(rt, 'bob', 'release web', 'evt-early');
    const executionArn = executionOf(requested);
    const pending = await pendingFor(rt, executionArn);
    expect((await decide(rt, pending.approvalId, 'carol', 'approve')).status).toBe(200);
    expect(await finalStatus(rt, executionArn)).toBe('SUCCEEDED');
    // The hook was answered (2xx) before the task stored the id, and nothing else resumed it.
    expect(rt.gitlab.pipelines.deliveries.map((d) => [d.status, d.answered])).toEqual([['success', 202]]);
  });

  it('a duplicated hook has one effect', async () => {
    runtime = await startTestRuntime();
    const rt = runtime;
    rt.gitlab.pipelines.planNext('hold');
    const { executionArn, pipelineId } = await approvedRelease(rt, 'evt-twice');
    await rt.gitlab.pipelines.finishPipeline(pipelineId, 'success', 'twice');
    expect(await finalStatus(rt, executionArn)).toBe('SUCCEEDED');
    const finals = rt.gitlab.pipelines.deliveries.filter((d) => d.status === 'success');
    expect(finals.map((d) => d.answered)).toEqual([202, 202]);
    const records = await audit(rt, executionArn);
    expect(records.filter((r) => r.action === 'release.pipeline_finished')).toHaveLength(1);
    expect((await notices(rt, 'bob')).filter((t) => t.includes(`#${pipelineId} passed`))).toHaveLength(1);
    expect(createCalls(rt)).toHaveLength(1);
  });

  it('times out when the pipeline does not end in time, and cancels it', async () => {
    const input = structuredClone(DEFAULT_CONFIG_INPUT) as Record<string, unknown>;
    input.releases = { web: { project: 'demo/web', ref: 'main', timeoutSeconds: 1 } };
    runtime = await startTestRuntime(parseConfig(input));
    const rt = runtime;
    rt.gitlab.pipelines.planNext('hold');
    const { executionArn, pipelineId } = await approvedRelease(rt, 'evt-timeout');
    expect(await finalStatus(rt, executionArn)).toBe('FAILED');
    expect(await failureOf(rt, executionArn)).toBe('Signoff.PipelineTimeout');
    expect(rt.gitlab.requests.some((r) => r.path.endsWith(`/pipelines/${pipelineId}/cancel`))).toBe(true);
    expect(rt.gitlab.pipelines.pipelines.get(pipelineId)?.status).toBe('canceled');
  });

  it('a forged resume of the approval creates no pipeline: the trigger task re-checks the grant', async () => {
    runtime = await startTestRuntime();
    const rt = runtime;
    const executionArn = executionOf(await command(rt, 'bob', 'release web', 'evt-forged'));
    const pending = await pendingFor(rt, executionArn);
    const history = await rt.sfn.send(new GetExecutionHistoryCommand({ executionArn }));
    const parameters = history.events?.find((e) =>
      e.taskScheduledEventDetails?.parameters?.includes('taskToken'),
    )?.taskScheduledEventDetails?.parameters as string;
    const taskToken = (JSON.parse(parameters) as { Payload: { taskToken: string } }).Payload.taskToken;
    await rt.sfn.send(
      new SendTaskSuccessCommand({
        taskToken,
        output: JSON.stringify({ approvalId: pending.approvalId, decision: 'approve', approvers: [] }),
      }),
    );
    expect(await finalStatus(rt, executionArn)).toBe('FAILED');
    expect(await failureOf(rt, executionArn)).toBe('ApprovalNotGrantedError');
    expect(createCalls(rt)).toHaveLength(0);
    expect((await audit(rt, executionArn)).some((r) => r.action === 'approval.forged_resume')).toBe(true);
  });

  it('answers bad pipeline deliveries with 4xx and ignores statuses and pipelines that are not its own', async () => {
    runtime = await startTestRuntime();
    const rt = runtime;
    const good = {
      object_kind: 'pipeline',
      object_attributes: { id: 777, status: 'success', source: 'api' },
    };
    expect((await postPipelineHook(rt, good, { 'x-gitlab-token': 'wrong' })).status).toBe(401);
    expect((await postPipelineHook(rt, '{"object_kind":')).status).toBe(400);
    expect(
      (await postPipelineHook(rt, { object_kind: 'pipeline', object_attributes: { id: 'x' } })).status,
    ).toBe(400);
    const running = await postPipelineHook(rt, {
      ...good,
      object_attributes: { ...good.object_attributes, status: 'running' },
    });
    expect(running.status).toBe(202);
    expect(await json(running)).toMatchObject({ ignored: expect.stringContaining('not final') });
    const push = await postPipelineHook(rt, {
      ...good,
      object_attributes: { ...good.object_attributes, source: 'push' },
    });
    expect(await json(push)).toMatchObject({ ignored: expect.stringContaining('not a release') });
    // A final status for a pipeline nobody waits for is kept (it may be early) and resumes nothing.
    const early = await postPipelineHook(rt, good, { 'idempotency-key': 'k-1' });
    expect(await json(early)).toMatchObject({ pipelineId: 777, resumed: 'waiting' });
  });
});

describe('the release buttons from a chat platform', () => {
  it('LINE: the release list is postback buttons, a tap asks, a tapped Approve runs the pipeline; Lark: the rollback list is card buttons, a click asks for the rollback', async () => {
    const line = await startLineFake();
    const lark = await startLarkFake();
    const ENCRYPT_KEY = 'release-encrypt-key';
    const VERIFICATION_TOKEN = 'release-verification-token';
    const BOB_LINE = lineId('U');
    const CAROL_LINE = lineId('U');
    const BOB_LARK = 'ou_bob_release_000000000000000000000';
    try {
      const input = structuredClone(DEFAULT_CONFIG_INPUT) as {
        users: Record<string, Record<string, string>>;
      };
      Object.assign(input.users.bob ?? {}, { line: BOB_LINE, lark: BOB_LARK });
      Object.assign(input.users.carol ?? {}, { line: CAROL_LINE });
      runtime = await startTestRuntime(parseConfig(input), undefined, {
        LINE_CHANNEL_SECRET: line.channelSecret,
        LINE_CHANNEL_ACCESS_TOKEN: line.channelAccessToken,
        LINE_API_BASE_URL: line.url,
        LARK_APP_ID: lark.appId,
        LARK_APP_SECRET: lark.appSecret,
        LARK_VERIFICATION_TOKEN: VERIFICATION_TOKEN,
        LARK_ENCRYPT_KEY: ENCRYPT_KEY,
        LARK_DOMAIN: lark.url,
      });
      const rt = runtime;
      const postLine = (events: unknown[]) => {
        const body = JSON.stringify(lineWebhook(events, line.botUserId));
        return fetch(`${rt.urls.app}/webhooks/line`, {
          method: 'POST',
          headers: {
            'content-type': 'application/json',
            'x-line-signature': signLineBody(body, line.channelSecret),
          },
          body,
        });
      };
      const postLark = (event: object) => {
        const request = signedLarkRequest(event, { encryptKey: ENCRYPT_KEY });
        return fetch(`${rt.urls.app}/webhooks/lark`, {
          method: 'POST',
          headers: request.headers,
          body: request.body,
        });
      };
      const lineButton = (command: string) => {
        let found: string | undefined;
        JSON.stringify(
          line.messages.map((m) => m.message),
          (key, value) => {
            if (key === 'data' && typeof value === 'string' && value.endsWith(`c=${command}`)) found = value;
            return value;
          },
        );
        return found;
      };
      const larkButton = (prefix: string) => {
        let found: Record<string, unknown> | undefined;
        JSON.stringify(
          [...lark.messages.values()].map((m) => m.content),
          (_key, value) => {
            const command = (value as { command?: unknown } | null)?.command;
            if (typeof command === 'string' && command.startsWith(prefix)) found = value;
            return value;
          },
        );
        return found;
      };
      const releases = async () => {
        const body = await json<{ approvals: Approval[] }>(
          await fetch(`${rt.urls.app}/console/api/approvals?status=pending`),
        );
        return body.approvals.filter((a) => a.kind === 'release');
      };

      // LINE: "release" lists the configured releases as postback buttons; bob taps "web".
      expect((await postLine([lineTextEvent('release', { userId: BOB_LINE })])).status).toBe(200);
      const data = await eventually(async () => lineButton('release web'), 'the release buttons on LINE');
      expect((await postLine([linePostbackEvent(data, { userId: BOB_LINE })])).status).toBe(200);
      const asked = await eventually(async () => (await releases())[0], 'the release approval');
      expect(asked.requester).toMatchObject({ platform: 'line', user: 'bob' });
      // Carol gets the card on LINE and taps Approve: the pipeline is created and succeeds.
      rt.gitlab.pipelines.planNext('hold');
      await postLine([linePostbackEvent(decisionData(asked.approvalId, 'approve'), { userId: CAROL_LINE })]);
      const pipelineId = await eventually(async () => {
        const field = pipelineField(await approval(rt, asked.approvalId));
        return field?.includes('running') && [...rt.gitlab.pipelines.pipelines.keys()].at(-1);
      }, 'the pipeline running on the card');
      await rt.gitlab.pipelines.finishPipeline(pipelineId as number, 'success');
      expect(await finalStatus(rt, asked.executionArn)).toBe('SUCCEEDED');

      // Lark: "rollback release web" lists that run as a card button; bob clicks it.
      await postLark(
        messageEvent({
          token: VERIFICATION_TOKEN,
          text: 'rollback release web',
          openId: BOB_LARK,
          chatType: 'p2p',
        }),
      );
      const value = await eventually(
        async () => larkButton('rollback release web '),
        'the rollback buttons in Lark',
      );
      expect(value.command).toBe(`rollback release web ${pipelineId}`);
      expect(
        (await postLark(cardActionEvent({ token: VERIFICATION_TOKEN, openId: BOB_LARK, value }))).status,
      ).toBe(200);
      const rollback = await eventually(
        async () => (await releases()).find((a) => a.executionArn.includes(':release-rollback-')),
        'the rollback approval',
      );
      expect(rollback.requester).toMatchObject({ platform: 'lark', user: 'bob' });
      expect(rollback.card.fields).toEqual(
        expect.arrayContaining([
          { label: 'Rollback to', value: expect.stringContaining(`pipeline #${pipelineId} at`) },
        ]),
      );
    } finally {
      await runtime?.stop();
      runtime = undefined;
      await line.close();
      await lark.close();
    }
  });
});
