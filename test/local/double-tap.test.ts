/**
 * One effect per intent (issue "The gate holds", item 3): a chat button that starts a workflow,
 * delivered twice by the platform or tapped twice, starts one execution; the second tap is
 * answered "already requested". Typing the command again is a new request. Over real HTTP, on
 * the embedded runtime, with the LINE and Lark fakes.
 */
import { ListExecutionsCommand } from '@aws-sdk/client-sfn';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_CONFIG_INPUT, parseConfig } from '../../core/config.ts';
import {
  cardActionEvent,
  type LarkFake,
  messageEvent,
  signedLarkRequest,
  startLarkFake,
} from '../fakes/lark.ts';
import {
  type LineFake,
  lineId,
  linePostbackEvent,
  lineTextEvent,
  lineWebhook,
  signLineBody,
  startLineFake,
} from '../fakes/line.ts';
import { eventually, startTestRuntime, type TestRuntime } from '../support/runtime.ts';

const ENCRYPT_KEY = 'test-encrypt-key';
const VERIFICATION_TOKEN = 'test-verification-token';
const BOB_LINE = lineId('U');
const BOB_LARK = 'ou_bob00000000000000000000000000000';
const DEPLOY_ARN = 'arn:aws:states:us-east-1:123456789012:stateMachine:signoff-deploy';

let line: LineFake;
let lark: LarkFake;
let rt: TestRuntime;

beforeAll(async () => {
  line = await startLineFake();
  lark = await startLarkFake();
  const config = structuredClone(DEFAULT_CONFIG_INPUT) as { users: Record<string, Record<string, string>> };
  const bob = config.users.bob;
  if (!bob) throw new Error('the default config has bob');
  bob.line = BOB_LINE;
  bob.lark = BOB_LARK;
  rt = await startTestRuntime(parseConfig(config), undefined, {
    LINE_CHANNEL_SECRET: line.channelSecret,
    LINE_CHANNEL_ACCESS_TOKEN: line.channelAccessToken,
    LINE_API_BASE_URL: line.url,
    LARK_APP_ID: lark.appId,
    LARK_APP_SECRET: lark.appSecret,
    LARK_VERIFICATION_TOKEN: VERIFICATION_TOKEN,
    LARK_ENCRYPT_KEY: ENCRYPT_KEY,
    LARK_DOMAIN: lark.url,
  });
});
afterAll(async () => {
  await rt?.stop();
  await line?.close();
  await lark?.close();
});

async function deployExecutions(): Promise<string[]> {
  const out = await rt.sfn.send(new ListExecutionsCommand({ stateMachineArn: DEPLOY_ARN }));
  return (out.executions ?? []).map((e) => e.executionArn ?? '');
}

function postLine(events: unknown[]): Promise<Response> {
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

function postLark(event: object): Promise<Response> {
  const request = signedLarkRequest(event, { encryptKey: ENCRYPT_KEY });
  return fetch(`${rt.urls.app}/webhooks/lark`, {
    method: 'POST',
    headers: request.headers,
    body: request.body,
  });
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Every postback `data` of the LINE buttons sent so far whose data ends with `command`. */
function lineButtons(command: string): string[] {
  const found: string[] = [];
  JSON.stringify(
    line.messages.map((m) => m.message),
    (key, value) => {
      if (key === 'data' && typeof value === 'string' && value.endsWith(`c=${command}`)) found.push(value);
      return value;
    },
  );
  return found;
}

/** Every Lark button value sent so far whose command is `command`. */
function larkButtons(command: string): Array<Record<string, unknown>> {
  const found: Array<Record<string, unknown>> = [];
  const cards = [...lark.messages.values()].map((m) => m.content);
  JSON.stringify(cards, (_key, value) => {
    if (value && typeof value === 'object' && (value as { command?: unknown }).command === command)
      found.push(value as Record<string, unknown>);
    return value;
  });
  return found;
}

describe('a button that starts a workflow has one effect', () => {
  it('LINE: the same tap delivered twice and a second tap 100 ms later start one deploy; typing again starts another', async () => {
    const before = await deployExecutions();
    await postLine([lineTextEvent('deploy', { userId: BOB_LINE })]);
    const data = lineButtons('deploy prod').at(-1);
    expect(data).toMatch(/^k=[A-Za-z0-9_-]{12}&c=deploy prod$/);

    const tap = linePostbackEvent(data ?? '', { userId: BOB_LINE });
    const redelivered = { ...tap, deliveryContext: { isRedelivery: true } };
    const secondTap = linePostbackEvent(data ?? '', { userId: BOB_LINE });
    const sent = line.messages.length;
    const answers = await Promise.all([
      postLine([tap]),
      postLine([redelivered]),
      sleep(100).then(() => postLine([secondTap])),
    ]);
    expect(answers.map((r) => r.status)).toEqual([200, 200, 200]);
    const started = (await deployExecutions()).filter((arn) => !before.includes(arn));
    expect(started).toHaveLength(1);
    // Two answers: the first tap's and "already requested" for the second tap (the redelivery is silent).
    const replies = await eventually(async () => {
      // The answers to the taps are replies; the requester's "sent for approval" notice is a push.
      const texts = line.messages
        .slice(sent)
        .filter((m) => m.via === 'reply')
        .map((m) => JSON.stringify(m.message));
      return texts.length >= 2 && texts;
    }, 'both taps answered');
    expect(replies).toHaveLength(2);
    expect(replies.filter((r) => r.includes('Already requested with this button'))).toHaveLength(1);

    await postLine([lineTextEvent('deploy prod', { userId: BOB_LINE })]);
    expect((await deployExecutions()).filter((arn) => !before.includes(arn))).toHaveLength(2);
  });

  it('Lark: the same click delivered twice and a second click 100 ms later start one deploy', async () => {
    const before = await deployExecutions();
    await postLark(
      messageEvent({ token: VERIFICATION_TOKEN, text: 'deploy', openId: BOB_LARK, chatType: 'p2p' }),
    );
    const value = await eventually(
      async () => larkButtons('deploy test').at(-1),
      'the environment list in Lark',
    );
    expect(value.key).toMatch(/^[A-Za-z0-9_-]{12}$/);

    const click = cardActionEvent({ token: VERIFICATION_TOKEN, openId: BOB_LARK, value });
    const secondClick = cardActionEvent({ token: VERIFICATION_TOKEN, openId: BOB_LARK, value });
    const answers = await Promise.all([
      postLark(click),
      postLark(click),
      sleep(100).then(() => postLark(secondClick)),
    ]);
    expect(answers.map((r) => r.status)).toEqual([200, 200, 200]);
    expect((await deployExecutions()).filter((arn) => !before.includes(arn))).toHaveLength(1);
  });
});
