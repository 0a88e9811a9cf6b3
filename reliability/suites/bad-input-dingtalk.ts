import fc from 'fast-check';
import { DEFAULT_CONFIG_INPUT, parseConfig } from '../../core/config.ts';
import { cardCallback, postDingTalk, robotMessage, startDingTalkFake } from '../../test/fakes/dingtalk.ts';
import { startTestRuntime } from '../../test/support/runtime.ts';
import { type Row, row } from '../report.ts';
import { deepJson, send, Tally } from './fuzz.ts';

/**
 * Bad input for `POST /webhooks/dingtalk`, against its own embedded runtime and the DingTalk
 * fake: forged, stale and missing signs, a signed card click (refused over HTTP), another
 * robot, signed garbage and wrong field types, oversized and deep bodies, wrong content types.
 * Every one must be a 4xx with a JSON error, send nothing and start nothing.
 */
function mutation() {
  return fc.oneof(
    fc.record({ kind: fc.constant('sign' as const), sign: fc.base64String({ minLength: 0, maxLength: 60 }) }),
    fc.record({ kind: fc.constant('no-headers' as const) }),
    fc.record({
      kind: fc.constant('stale' as const),
      skew: fc.integer({ min: 3_601_000, max: 10 * 365 * 86_400_000 }),
      future: fc.boolean(),
    }),
    fc.record({ kind: fc.constant('card-click' as const), action: fc.constantFrom('approve', 'reject') }),
    fc.record({ kind: fc.constant('robot' as const), robotCode: fc.string({ minLength: 1, maxLength: 30 }) }),
    fc.record({ kind: fc.constant('signed-garbage' as const), value: fc.jsonValue({ maxDepth: 3 }) }),
    fc.record({
      kind: fc.constant('wrong-type' as const),
      field: fc.constantFrom('msgId', 'conversationType', 'conversationId', 'text', 'senderStaffId'),
      value: fc.oneof(fc.integer(), fc.boolean(), fc.constant(null), fc.array(fc.string(), { maxLength: 2 })),
    }),
    fc.record({ kind: fc.constant('deep' as const), depth: fc.integer({ min: 100, max: 200_000 }) }),
    fc.record({ kind: fc.constant('huge' as const), extra: fc.integer({ min: 1, max: 256 * 1024 }) }),
    fc.record({
      kind: fc.constant('content-type' as const),
      type: fc.constantFrom('text/plain', 'application/xml'),
    }),
  );
}

export async function dingtalkBadInput(cases: number): Promise<Row> {
  const fake = await startDingTalkFake();
  const config = structuredClone(DEFAULT_CONFIG_INPUT) as { users: Record<string, Record<string, string>> };
  const bob = config.users.bob;
  if (bob) bob.dingtalk = 'staff0815';
  const rt = await startTestRuntime(parseConfig(config), undefined, {
    DINGTALK_APP_KEY: fake.appKey,
    DINGTALK_APP_SECRET: fake.appSecret,
    DINGTALK_CARD_TEMPLATE_ID: fake.cardTemplateId,
    DINGTALK_API_URL: fake.url,
  });
  const url = `${rt.urls.app}/webhooks/dingtalk`;
  const tally = new Tally();
  try {
    await fc.assert(
      fc.asyncProperty(mutation(), async (m) => {
        const good = robotMessage(fake, 'help', { senderStaffId: 'staff0815' });
        const attempt = await send(() => {
          switch (m.kind) {
            case 'sign':
              return postDingTalk(url, good, fake.appSecret, { sign: m.sign });
            case 'no-headers':
              return fetch(url, {
                method: 'POST',
                headers: { 'content-type': 'application/json' },
                body: JSON.stringify(good),
              });
            case 'stale':
              return postDingTalk(url, good, fake.appSecret, {
                timestamp: Date.now() + (m.future ? m.skew : -m.skew),
              });
            case 'card-click':
              return postDingTalk(
                url,
                cardCallback(fake, 'signoff.aK3v9Qx2LmN8pR4sT6uW0y.00000000', 'staff0815', {
                  action: m.action,
                }),
                fake.appSecret,
              );
            case 'robot':
              return postDingTalk(url, { ...good, robotCode: `x${m.robotCode}` }, fake.appSecret);
            case 'signed-garbage':
              return postDingTalk(url, JSON.stringify(m.value), fake.appSecret);
            case 'wrong-type':
              return postDingTalk(url, { ...good, [m.field]: m.value }, fake.appSecret);
            case 'deep':
              return postDingTalk(url, deepJson(m.depth), fake.appSecret);
            case 'huge':
              return postDingTalk(url, { ...good, pad: 'x'.repeat(1024 * 1024 + m.extra) }, fake.appSecret);
            case 'content-type':
              return fetch(url, {
                method: 'POST',
                headers: { 'content-type': m.type },
                body: JSON.stringify(good),
              });
          }
        });
        tally.add(attempt, m);
      }),
      { numRuns: cases },
    );
    const effects = fake.messages.length + fake.cards.size;
    return row(
      'bad input: /webhooks/dingtalk',
      tally.tried,
      0,
      effects + tally.accepted,
      tally.fiveXX,
      `${tally.rejected} rejected, ${effects} messages or cards sent${tally.slipped()}`,
    );
  } finally {
    await rt.stop();
    await fake.close();
  }
}
