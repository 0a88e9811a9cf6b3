/**
 * The LINE adapter inside the generic chat route (webhooks/routes/chat.ts), with the real SDK
 * against the fake, the real event de-duplication on the embedded DynamoDB, and stubbed
 * approvals: a click decides once, a redelivery has no effect, a failure after the claim
 * releases it so the redelivery is processed, the clicker is answered with the reply token,
 * an unknown user learns their LINE id.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createLineAdapter } from '../../../chat/line/index.ts';
import type { DecideResult } from '../../../core/approvals/decide.ts';
import { DEFAULT_CONFIG_INPUT, parseConfig } from '../../../core/config.ts';
import { createEventDeduper } from '../../../core/dedupe.ts';
import type { AppDeps } from '../../../webhooks/deps.ts';
import { chatWebhook } from '../../../webhooks/routes/chat.ts';
import {
  type LineFake,
  lineId,
  linePostbackEvent,
  lineTextEvent,
  lineWebhook,
  replyToken,
  signLineBody,
  startLineFake,
} from '../../fakes/line.ts';
import { startTestDynamo, type TestDynamo } from '../../support/dynamo.ts';

let fake: LineFake;
const BOB = lineId('U');
const decisions: Array<{ approvalId: string; decision: string; user?: string; name: string }> = [];
let decideResult: DecideResult;
/** Errors the stubbed decide throws before answering (an injected DynamoDB failure). */
let failures: Error[] = [];
let dynamo: TestDynamo;

beforeAll(async () => {
  fake = await startLineFake();
  dynamo = await startTestDynamo();
});
afterAll(async () => {
  await fake.close();
  await dynamo.close();
});
beforeEach(() => {
  fake.requests.length = 0;
  fake.messages.length = 0;
  decisions.length = 0;
  failures = [];
  decideResult = { outcome: 'refused', reason: 'not-found', message: 'Already approved by Carol' };
});

function app() {
  const config = parseConfig({
    ...DEFAULT_CONFIG_INPUT,
    users: { ...DEFAULT_CONFIG_INPUT.users, bob: { name: 'Bob', line: BOB } },
  });
  const logs: unknown[] = [];
  const deps = {
    config,
    now: () => new Date(),
    log: (...args: unknown[]) => logs.push(args),
    dedupe: createEventDeduper(dynamo.client, dynamo.tableName),
    store: { get: async () => undefined },
    signoff: {
      languageOf: async () => 'en',
      approvals: {
        async decide(request: {
          approvalId: string;
          decision: string;
          actor: { user?: string; name: string };
        }): Promise<DecideResult> {
          const failure = failures.shift();
          if (failure) throw failure;
          decisions.push({
            approvalId: request.approvalId,
            decision: request.decision,
            name: request.actor.name,
            ...(request.actor.user ? { user: request.actor.user } : {}),
          });
          return decideResult;
        },
      },
    },
  } as unknown as AppDeps;
  const adapter = createLineAdapter({
    channelSecret: fake.channelSecret,
    channelAccessToken: fake.channelAccessToken,
    apiBaseUrl: fake.url,
  });
  return chatWebhook(deps, adapter);
}

function signed(events: unknown[]): RequestInit {
  const body = JSON.stringify(lineWebhook(events, fake.botUserId));
  return {
    method: 'POST',
    body,
    headers: {
      'content-type': 'application/json',
      'x-line-signature': signLineBody(body, fake.channelSecret),
    },
  };
}

async function post(route: ReturnType<typeof app>, events: unknown[]) {
  const response = await route.request('/', signed(events));
  return { status: response.status, body: await response.json() };
}

describe('POST /webhooks/line through the generic route', () => {
  it('answers the connectivity check with 200 {}', async () => {
    expect(await post(app(), [])).toEqual({ status: 200, body: {} });
    expect(fake.requests).toEqual([]);
  });

  it('a click decides once; the redelivered event has no effect; the clicker is answered by reply', async () => {
    const route = app();
    const token = replyToken();
    const click = linePostbackEvent('a=k3Jq0vYpZ7mB2xR8sT4uWd&d=approve', { userId: BOB, replyToken: token });
    expect(await post(route, [click])).toEqual({ status: 200, body: {} });
    expect(decisions).toEqual([
      { approvalId: 'k3Jq0vYpZ7mB2xR8sT4uWd', decision: 'approve', user: 'bob', name: 'Bob' },
    ]);
    expect(fake.messages).toEqual([
      expect.objectContaining({
        via: 'reply',
        replyToken: token,
        message: { type: 'text', text: 'Already approved by Carol' },
      }),
    ]);

    const redelivered = { ...click, deliveryContext: { isRedelivery: true } };
    expect(await post(route, [redelivered])).toEqual({ status: 200, body: {} });
    expect(decisions).toHaveLength(1);
    expect(fake.messages).toHaveLength(1);
  });

  it('a failure after the claim releases it: the redelivery is processed, once', async () => {
    const route = app();
    failures = [
      Object.assign(new Error('Throughput exceeds the current capacity'), {
        name: 'ProvisionedThroughputExceededException',
      }),
    ];
    const click = linePostbackEvent('a=k3Jq0vYpZ7mB2xR8sT4uWd&d=approve', { userId: BOB });
    const first = await route.request('/', signed([click]));
    expect(first.status).toBe(500);
    expect(decisions).toEqual([]);

    const redelivered = { ...click, deliveryContext: { isRedelivery: true } };
    expect(await post(route, [redelivered])).toEqual({ status: 200, body: {} });
    expect(decisions).toHaveLength(1);
    expect(await post(route, [redelivered])).toEqual({ status: 200, body: {} });
    expect(decisions).toHaveLength(1);
  });

  it('an unknown user learns their LINE id', async () => {
    const stranger = lineId('U');
    await post(app(), [lineTextEvent('pending', { userId: stranger })]);
    expect(fake.messages).toHaveLength(1);
    expect(fake.messages[0]?.message.text).toContain(`line ${stranger}`);
  });

  it('unknown postback data: a clear answer and no decision', async () => {
    await post(app(), [linePostbackEvent('a=k3Jq&d=maybe', { userId: BOB })]);
    expect(decisions).toEqual([]);
    expect(fake.messages[0]?.message.text).toMatch(/not one I recognise/);
  });

  it('a group message without a mention gets no answer at all', async () => {
    await post(app(), [lineTextEvent('pending', { userId: BOB, groupId: lineId('C') })]);
    expect(fake.messages).toEqual([]);
  });
});
