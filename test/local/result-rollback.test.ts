/**
 * The result card with one-click rollback (issue #20 item 8): a deploy or release that succeeded
 * tells its requester so with a "Roll back" button (on every chat they have); tapping it, however
 * often and on whichever chat, starts one rollback, asked under policies.rollback. Over real HTTP
 * on the embedded runtime with the Lark and LINE fakes, signed as the platforms sign.
 */
import { DescribeExecutionCommand, ListExecutionsCommand } from '@aws-sdk/client-sfn';
import { afterEach, describe, expect, it } from 'vitest';
import type { Approval } from '../../core/approvals/types.ts';
import type { Notice } from '../../core/chat.ts';
import { DEFAULT_CONFIG_INPUT, parseConfig } from '../../core/config.ts';
import { cardActionEvent, type LarkFake, signedLarkRequest, startLarkFake } from '../fakes/lark.ts';
import {
  type LineFake,
  lineId,
  linePostbackEvent,
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
} from '../support/runtime.ts';

const ENCRYPT_KEY = 'result-encrypt-key';
const VERIFICATION_TOKEN = 'result-verification-token';
const MACHINE = 'arn:aws:states:us-east-1:123456789012:stateMachine:signoff-';

interface Chats {
  rt: TestRuntime;
  line: LineFake;
  lark: LarkFake;
  ids: { line: string; lark: string };
}

let chats: Chats | undefined;
afterEach(async () => {
  await chats?.rt.stop();
  await chats?.line.close();
  await chats?.lark.close();
  chats = undefined;
});

/** A runtime where `requester` has a Lark and a LINE identity; `rollback` replaces policies.rollback. */
async function start(requester: string, rollback: Record<string, unknown>): Promise<Chats> {
  const line = await startLineFake();
  const lark = await startLarkFake();
  const ids = { line: lineId('U'), lark: `ou_${requester}_result_0000000000000000000000`.slice(0, 35) };
  const input = structuredClone(DEFAULT_CONFIG_INPUT) as {
    users: Record<string, Record<string, string>>;
    policies: Record<string, unknown>;
  };
  Object.assign(input.users[requester] ?? {}, ids);
  input.policies.rollback = rollback;
  const rt = await startTestRuntime(parseConfig(input), undefined, {
    LINE_CHANNEL_SECRET: line.channelSecret,
    LINE_CHANNEL_ACCESS_TOKEN: line.channelAccessToken,
    LINE_API_BASE_URL: line.url,
    LARK_APP_ID: lark.appId,
    LARK_APP_SECRET: lark.appSecret,
    LARK_VERIFICATION_TOKEN: VERIFICATION_TOKEN,
    LARK_ENCRYPT_KEY: ENCRYPT_KEY,
    LARK_DOMAIN: lark.url,
  });
  chats = { rt, line, lark, ids };
  return chats;
}

function postLine({ rt, line }: Chats, events: unknown[]): Promise<Response> {
  const body = JSON.stringify(lineWebhook(events, line.botUserId));
  return fetch(`${rt.urls.app}/webhooks/line`, {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      'x-line-signature': signLineBody(body, line.channelSecret),
    },
    body,
  });
}

function postLark({ rt }: Chats, event: object): Promise<Response> {
  const request = signedLarkRequest(event, { encryptKey: ENCRYPT_KEY });
  return fetch(`${rt.urls.app}/webhooks/lark`, {
    method: 'POST',
    headers: request.headers,
    body: request.body,
  });
}

/** The button values of the Lark cards sent to the requester whose command starts with `prefix`. */
function larkButtons({ lark, ids }: Chats, prefix: string): Array<{ command: string; key?: string }> {
  const found: Array<{ command: string; key?: string }> = [];
  const cards = [...lark.messages.values()].filter((m) => m.receiveId === ids.lark).map((m) => m.content);
  JSON.stringify(cards, (_key, value) => {
    const command = (value as { command?: unknown } | null)?.command;
    if (typeof command === 'string' && command.startsWith(prefix)) found.push(value);
    return value;
  });
  return found;
}

/** The postback data of the LINE buttons pushed to the requester whose command starts with `prefix`. */
function lineButtons({ line, ids }: Chats, prefix: string): string[] {
  const found: string[] = [];
  JSON.stringify(
    line.messages.filter((m) => m.to === ids.line).map((m) => m.message),
    (key, value) => {
      if (key === 'data' && typeof value === 'string' && value.includes(`c=${prefix}`)) found.push(value);
      return value;
    },
  );
  return found;
}

async function executions({ rt }: Chats, kind: string): Promise<string[]> {
  const out = await rt.sfn.send(new ListExecutionsCommand({ stateMachineArn: `${MACHINE}${kind}` }));
  return (out.executions ?? []).map((e) => e.executionArn ?? '');
}

function executionOf(notice: Notice): string {
  const url = notice.links?.find((l) => l.label === 'Execution')?.url ?? '';
  return decodeURIComponent(url.split('/console/executions/')[1] ?? '');
}

async function pendingOfKind({ rt }: Chats, kind: string): Promise<Approval[]> {
  const body = await json<{ approvals: Approval[] }>(
    await fetch(`${rt.urls.app}/console/api/approvals?status=pending`),
  );
  return body.approvals.filter((a) => a.kind === kind);
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('a deploy that succeeded offers Roll back', () => {
  it('on Lark and LINE; taps on both, twice and redelivered, start one rollback of the recorded deployment, asked under policies.rollback', async () => {
    // Deploys to test need one approval; rolling test back needs two (its own, heavier policy).
    const c = await start('alice', {
      approvers: ['carol', 'bob'],
      required: 1,
      overrides: { test: { required: 2 } },
    });
    const { rt } = c;
    const requested = await command(rt, 'alice', 'deploy test', 'evt-result-deploy');
    const deployArn = executionOf(requested);
    const deployId = deployArn.split(':').pop() as string;
    const asked = await pendingFor(rt, deployArn);
    expect(asked.policy.required).toBe(1);
    expect((await decide(rt, asked.approvalId, 'carol', 'approve')).status).toBe(200);
    expect(await finalStatus(rt, deployArn)).toBe('SUCCEEDED');
    expect(rt.lambda.aliasVersion('demo-orders', 'test')).toBe('4');

    // The result, on both of the requester's chats, carries the same keyed Roll back button.
    const lark = await eventually(async () => larkButtons(c, 'rollback')[0], 'the result card in Lark');
    expect(lark).toEqual({
      command: `rollback ${deployId}`,
      key: expect.stringMatching(/^[A-Za-z0-9_-]{12}$/),
    });
    const data = await eventually(async () => lineButtons(c, 'rollback')[0], 'the result card on LINE');
    expect(data).toBe(`k=${lark.key}&c=rollback ${deployId}`);
    expect(JSON.stringify(c.line.messages.map((m) => m.message))).toContain('"label":"Roll back"');

    // Two clicks in Lark (one delivered twice), a tap on LINE and its redelivery: one rollback.
    const before = await executions(c, 'rollback');
    expect(before).toEqual([]);
    const click = cardActionEvent({ token: VERIFICATION_TOKEN, openId: c.ids.lark, value: lark });
    const tap = linePostbackEvent(data, { userId: c.ids.line });
    const answers = await Promise.all([
      postLark(c, click),
      postLark(c, click),
      sleep(100).then(() =>
        postLark(c, cardActionEvent({ token: VERIFICATION_TOKEN, openId: c.ids.lark, value: lark })),
      ),
      sleep(200).then(() => postLine(c, [tap])),
      sleep(300).then(() => postLine(c, [{ ...tap, deliveryContext: { isRedelivery: true } }])),
    ]);
    expect(answers.map((r) => r.status)).toEqual([200, 200, 200, 200, 200]);
    const started = await executions(c, 'rollback');
    expect(started).toHaveLength(1);
    const rollbackArn = started[0] as string;
    const described = await rt.sfn.send(new DescribeExecutionCommand({ executionArn: rollbackArn }));
    expect(JSON.parse(described.input ?? '{}')).toMatchObject({
      kind: 'rollback',
      requester: { user: 'alice' },
      rollback: { deployId, environment: 'test' },
    });

    // Asked under policies.rollback (two for test), for the recorded deployment's moves.
    const rollback = await pendingFor(rt, rollbackArn);
    expect(rollback.kind).toBe('rollback');
    expect(rollback.policy).toMatchObject({ approvers: ['carol', 'bob'], required: 2 });
    expect(rollback.card.fields).toEqual(
      expect.arrayContaining([
        { label: 'Deployment', value: deployId },
        { label: 'demo-orders', value: 'test: 4 → 3' },
      ]),
    );
    expect((await decide(rt, rollback.approvalId, 'carol', 'approve')).status).toBe(200);
    expect(rt.lambda.aliasVersion('demo-orders', 'test')).toBe('4');
    expect((await decide(rt, rollback.approvalId, 'bob', 'approve')).status).toBe(200);
    expect(await finalStatus(rt, rollbackArn)).toBe('SUCCEEDED');
    expect(rt.lambda.aliasVersion('demo-orders', 'test')).toBe('3');
    // The rollback's own result offers no Roll back (going forward again is a deploy).
    await eventually(
      async () => JSON.stringify([...c.lark.messages.values()].map((m) => m.content)).includes('Rollback of'),
      'the rollback result',
    );
    expect(larkButtons(c, 'rollback')).toHaveLength(1);
    expect(await executions(c, 'rollback')).toHaveLength(1);
  });
});

describe('a release that succeeded offers Roll back', () => {
  it('to the run before it; the first release and a rollback offer none; a double click asks once, under policies.rollback', async () => {
    const c = await start('bob', {
      approvers: ['carol', 'alice'],
      required: 1,
      overrides: { web: { required: 2 } },
    });
    const { rt } = c;
    const released: number[] = [];
    for (const n of [1, 2]) {
      if (n === 2) rt.gitlab.pipelines.pushTo(42, 'main', 'Second change');
      rt.gitlab.pipelines.planNext('hold');
      const executionArn = executionOf(await command(rt, 'bob', 'release web', `evt-result-release-${n}`));
      const asked = await pendingFor(rt, executionArn);
      expect((await decide(rt, asked.approvalId, 'carol', 'approve')).status).toBe(200);
      const pipelineId = await eventually(async () => {
        const body = await json<{ approval: Approval }>(
          await fetch(`${rt.urls.app}/console/api/approvals/${asked.approvalId}`),
        );
        const field = body.approval.card.fields.find((f) => f.label === 'Pipeline')?.value;
        return field?.includes('running') && [...rt.gitlab.pipelines.pipelines.keys()].at(-1);
      }, 'the pipeline running');
      await rt.gitlab.pipelines.finishPipeline(pipelineId as number, 'success');
      expect(await finalStatus(rt, executionArn)).toBe('SUCCEEDED');
      await eventually(
        async () =>
          JSON.stringify([...c.lark.messages.values()].map((m) => m.content)).includes(
            `#${pipelineId} passed`,
          ),
        'the release result in Lark',
      );
      released.push(pipelineId as number);
      // The first release has nothing to go back to.
      if (n === 1) expect(larkButtons(c, 'rollback release')).toEqual([]);
    }
    const [first] = released as [number, number];
    const buttons = larkButtons(c, 'rollback release');
    expect(buttons).toEqual([
      { command: `rollback release web ${first}`, key: expect.stringMatching(/^[A-Za-z0-9_-]{12}$/) },
    ]);
    expect(lineButtons(c, 'rollback release')).toEqual([
      `k=${buttons[0]?.key}&c=rollback release web ${first}`,
    ]);

    const before = await executions(c, 'release');
    const value = buttons[0] as { command: string; key: string };
    const answers = await Promise.all([
      postLark(c, cardActionEvent({ token: VERIFICATION_TOKEN, openId: c.ids.lark, value })),
      sleep(100).then(() =>
        postLark(c, cardActionEvent({ token: VERIFICATION_TOKEN, openId: c.ids.lark, value })),
      ),
    ]);
    expect(answers.map((r) => r.status)).toEqual([200, 200]);
    const started = (await executions(c, 'release')).filter((arn) => !before.includes(arn));
    expect(started).toHaveLength(1);
    expect(started[0]).toContain(':release-rollback-');
    const rollback = await pendingFor(rt, started[0] as string);
    expect(rollback.policy).toMatchObject({ approvers: ['carol', 'alice'], required: 2 });
    expect(rollback.card.fields).toEqual(
      expect.arrayContaining([
        { label: 'Rollback to', value: expect.stringContaining(`pipeline #${first} at`) },
      ]),
    );

    // Approved and passed: a rollback's result has no Roll back of its own.
    rt.gitlab.pipelines.planNext('hold');
    await decide(rt, rollback.approvalId, 'carol', 'approve');
    await decide(rt, rollback.approvalId, 'alice', 'approve');
    const rerun = await eventually(async () => {
      const id = [...rt.gitlab.pipelines.pipelines.keys()].at(-1);
      return (
        id !== undefined && !released.includes(id) && (await pendingOfKind(c, 'release')).length === 0 && id
      );
    }, 'the rollback pipeline');
    await eventually(async () => {
      const body = await json<{ approval: Approval }>(
        await fetch(`${rt.urls.app}/console/api/approvals/${rollback.approvalId}`),
      );
      return body.approval.card.fields.find((f) => f.label === 'Pipeline')?.value.includes('running');
    }, 'the rollback running');
    await rt.gitlab.pipelines.finishPipeline(rerun as number, 'success');
    expect(await finalStatus(rt, started[0] as string)).toBe('SUCCEEDED');
    await eventually(
      async () =>
        JSON.stringify([...c.lark.messages.values()].map((m) => m.content)).includes(`#${rerun} passed`),
      'the rollback result in Lark',
    );
    expect(larkButtons(c, 'rollback release')).toHaveLength(1);
  });
});
