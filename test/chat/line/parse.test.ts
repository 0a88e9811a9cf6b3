import { describe, expect, it } from 'vitest';
import { parseLineEvents, parseLineWebhook, stripMentions } from '../../../chat/line/parse.ts';
import { commandData, decisionData, readPostbackData, reasonData } from '../../../chat/line/postback.ts';
import { InvalidInputError } from '../../../core/errors.ts';
import { lineEvent, lineId, linePostbackEvent, lineTextEvent, lineWebhook } from '../../fakes/line.ts';
import { example } from './helpers.ts';

const BOT = 'Ub0000000000000000000000000000b07';

describe('parseLineWebhook: fixtures', () => {
  it('connectivity check (no events) → nothing to do', () => {
    expect(parseLineWebhook(example('connectivityCheck'))).toEqual([]);
  });

  it('a text message in a 1:1 chat is a command answered to the user', () => {
    expect(parseLineWebhook(example('textFromUser'))).toEqual([
      {
        kind: 'command',
        actor: { platform: 'line', id: 'U4af4980629000000000000000000a11c' },
        text: 'pending',
        where: { kind: 'user', id: 'U4af4980629000000000000000000a11c' },
        eventId: '01FZ74A0TDDPYRVKNK77XKC3ZR',
        replyToken: '0f3779fba3b349968c5d07db31eab56f',
      },
    ]);
  });

  it('a group message mentioning the bot: only the bot mention is cut out, the group is where to answer', () => {
    const [item] = parseLineWebhook(example('groupTextMentioningBot'));
    expect(item).toMatchObject({
      kind: 'command',
      text: '@All deploy test @example',
      where: { kind: 'chat', id: 'Ca56f94637c000000000000000000a11c' },
      actor: { platform: 'line', id: 'U4af4980629000000000000000000a11c' },
      eventId: '01FZ74A0TDDPYRVKNK77XKC3ZS',
    });
  });

  it('a group message that does not mention the bot is ignored', () => {
    expect(parseLineWebhook(example('groupTextWithoutMention'))).toEqual([
      { kind: 'ignored', reason: 'line group message does not mention the bot' },
    ]);
  });

  it('a room message mentioning the bot answers in the room', () => {
    const [item] = parseLineWebhook(example('roomTextMentioningBot'));
    expect(item).toMatchObject({
      kind: 'command',
      text: 'help',
      where: { kind: 'chat', id: 'Ra8dbf4673c000000000000000000a11c' },
    });
  });

  it('an Approve postback is a decision with the clicker, the chat and the event id', () => {
    expect(parseLineWebhook(example('postbackApprove'))).toEqual([
      {
        kind: 'decision',
        approvalId: 'k3Jq0vYpZ7mB2xR8sT4uWd',
        decision: 'approve',
        actor: { platform: 'line', id: 'U91eeaf62d9000000000000000000a11c' },
        where: { kind: 'user', id: 'U91eeaf62d9000000000000000000a11c' },
        eventId: '01FZ74ASS536FW97EX38NKCZQK',
        replyToken: 'b60d432864f44d079f6d8efe86cf404b',
      },
    ]);
  });

  it('a redelivered postback has the same event id (the route de-duplicates on it)', () => {
    const [first] = parseLineEvents(example('postbackApprove'));
    const [again] = parseLineEvents(example('redeliveredPostback'));
    expect(again?.redelivery).toBe(true);
    expect(first?.redelivery).toBe(false);
    expect(again?.inbound).toEqual(first?.inbound);
  });

  it('a choice postback in a group is a command (CJK text verbatim)', () => {
    expect(parseLineWebhook(example('postbackChoiceInGroup'))).toEqual([
      expect.objectContaining({
        kind: 'command',
        text: '環境佈署 test',
        where: { kind: 'chat', id: 'Ca56f94637c000000000000000000a11c' },
      }),
    ]);
  });

  it('postback data that is not ours is ignored and answered, never acted on', () => {
    const [event] = parseLineEvents(example('postbackForeignData'));
    expect(event?.inbound).toMatchObject({ kind: 'ignored', reason: expect.stringContaining('not ours') });
    expect(event?.answer).toEqual({
      replyToken: 'b60d432864f44d079f6d8efe86cf404c',
      key: 'lineUnknownButton',
      to: { platform: 'line', id: expect.any(String) },
    });
  });

  it('standby events are skipped', () => {
    expect(parseLineWebhook(example('standbyText'))).toEqual([
      { kind: 'ignored', reason: expect.stringContaining('standby') },
    ]);
  });

  it('non-text messages and unhandled events are ignored', () => {
    expect(parseLineWebhook(example('stickerFromUser'))).toEqual([
      { kind: 'ignored', reason: 'line sticker message is not a command' },
    ]);
    expect(parseLineWebhook(example('unsend'))).toEqual([
      { kind: 'ignored', reason: 'line unsend event is not handled' },
    ]);
  });

  it('follow and join are answered with the id the configuration needs', () => {
    const [follow, join] = parseLineEvents(example('followAndJoin'));
    expect(follow?.inbound.kind).toBe('ignored');
    // Written for the follower (their language); a group gets the configuration's language.
    expect(follow?.answer).toMatchObject({
      key: 'lineFollowed',
      vars: { id: 'U3d3edab4f3000000000000000000a11c' },
      to: { platform: 'line', id: 'U3d3edab4f3000000000000000000a11c' },
    });
    expect(join?.inbound.kind).toBe('ignored');
    expect(join?.answer).toEqual({
      replyToken: '0f3779fba3b349968c5d07db31eab56f',
      key: 'lineJoinedGroup',
      vars: { id: 'C4af4980629000000000000000000a11c' },
    });
  });
});

describe('parseLineWebhook: built events', () => {
  it('one request may carry several events from different users, in order', () => {
    const alice = lineId('U');
    const bob = lineId('U');
    const items = parseLineWebhook(
      lineWebhook(
        [
          lineTextEvent('help', { userId: alice }),
          linePostbackEvent(decisionData('abc', 'reject'), { userId: bob }),
        ],
        BOT,
      ),
    );
    expect(items.map((i) => i.kind)).toEqual(['command', 'decision']);
    expect(items[1]).toMatchObject({ actor: { id: bob }, decision: 'reject', approvalId: 'abc' });
  });

  it('recognises the bot by destination when isSelf is missing (older clients)', () => {
    const groupId = lineId('C');
    const event = lineTextEvent('pending', { groupId, mentionBot: { botUserId: BOT } });
    const mentionees = (event.message as { mention: { mentionees: Array<Record<string, unknown>> } }).mention
      .mentionees;
    delete mentionees[0]?.isSelf;
    expect(parseLineWebhook(lineWebhook([event], BOT))[0]).toMatchObject({
      kind: 'command',
      text: 'pending',
    });
    // Another bot's id is not ours.
    expect(parseLineWebhook(lineWebhook([event], lineId('U')))[0]).toMatchObject({ kind: 'ignored' });
  });

  it('a mention of the bot in the middle of the text is cut out; surrogate pairs before it count as two', () => {
    const groupId = lineId('C');
    const text = '🚀 @Signoff deploy prod';
    const event = lineTextEvent(text, { groupId });
    (event.message as Record<string, unknown>).mention = {
      mentionees: [{ index: 3, length: 8, type: 'user', userId: BOT, isSelf: true }],
    };
    expect(parseLineWebhook(lineWebhook([event], BOT))[0]).toMatchObject({ text: '🚀 deploy prod' });
  });

  it('a group member without a userId (no consent) is ignored and told why', () => {
    const event = lineTextEvent('approve', {
      groupId: lineId('C'),
      withoutUserId: true,
      mentionBot: { botUserId: BOT },
    });
    const [parsed] = parseLineEvents(lineWebhook([event], BOT));
    expect(parsed?.inbound).toMatchObject({ kind: 'ignored', reason: expect.stringContaining('userId') });
    expect(parsed?.answer).toMatchObject({ key: 'lineNoUserId' });
  });

  it('a malformed event is ignored with a reason; the others in the request still count', () => {
    const items = parseLineWebhook(
      lineWebhook([{ type: 'message', webhookEventId: 'X' }, { nonsense: true }, lineTextEvent('help')], BOT),
    );
    expect(items.map((i) => i.kind)).toEqual(['ignored', 'ignored', 'command']);
    expect(items[0]).toMatchObject({ reason: expect.stringContaining('malformed') });
  });

  it('a body whose every event is malformed is a 400 naming the first problem', () => {
    const postback = linePostbackEvent('a=abc&d=approve') as Record<string, unknown>;
    for (const events of [
      [{ type: 'message', webhookEventId: 'X' }],
      [{ ...postback, postback: { data: 42 } }],
      [{ ...postback, webhookEventId: [] }, { nonsense: true }],
    ]) {
      expect(() => parseLineWebhook(lineWebhook(events, BOT))).toThrow(/malformed/);
    }
    // An empty list is LINE's connectivity check, not a malformed body.
    expect(parseLineWebhook(lineWebhook([], BOT))).toEqual([]);
  });

  it('a body that is not a webhook is a 400', () => {
    for (const body of [{}, { events: [] }, { destination: BOT }, { destination: BOT, events: {} }, null]) {
      expect(() => parseLineWebhook(body)).toThrow(InvalidInputError);
    }
  });

  it('a group message that mentions only someone else is ignored', () => {
    const event = lineTextEvent('hi', { groupId: lineId('C'), mentions: [{ index: 0, length: 2 }] });
    expect(parseLineWebhook(lineWebhook([event], BOT))[0]?.kind).toBe('ignored');
  });
});

describe('postback data', () => {
  it('round-trips decisions and commands', () => {
    expect(readPostbackData(decisionData('k3Jq0vYpZ7mB2xR8sT4uWd', 'approve'))).toEqual({
      kind: 'decision',
      approvalId: 'k3Jq0vYpZ7mB2xR8sT4uWd',
      decision: 'approve',
    });
    expect(readPostbackData(commandData('退版清單') ?? '')).toEqual({ kind: 'command', command: '退版清單' });
    expect(readPostbackData(commandData('a=b&c=d') ?? '')).toEqual({ kind: 'command', command: 'a=b&c=d' });
  });

  it('round-trips a reason quick reply; a reject without one asks for it', () => {
    const id = 'k3Jq0vYpZ7mB2xR8sT4uWd';
    expect(reasonData(id, 'needs-changes', 'zh-Hant')).toBe(`a=${id}&d=reject&r=needs-changes&l=zh-Hant`);
    expect(readPostbackData(reasonData(id, 'needs-changes', 'zh-Hant'))).toEqual({
      kind: 'reason',
      approvalId: id,
      reason: 'needs-changes',
      language: 'zh-Hant',
    });
    const events = [
      linePostbackEvent(decisionData(id, 'reject'), { userId: lineId('U') }),
      linePostbackEvent(reasonData(id, 'wrong-target', 'ja'), { userId: lineId('U') }),
    ];
    const [asks, reason] = parseLineWebhook(lineWebhook(events, BOT));
    expect(asks).toMatchObject({ kind: 'decision', decision: 'reject', askReason: true });
    expect(reason).toMatchObject({ kind: 'decision', decision: 'reject', comment: '対象が違う' });
    expect(reason).not.toHaveProperty('askReason');
  });

  it('refuses malformed and foreign data', () => {
    for (const data of [
      '',
      'a=abc&d=approve&r=not-now&l=en',
      'a=abc&d=reject&r=because&l=en',
      'a=abc&d=reject&r=not-now&l=fr',
      'a=abc&d=reject&r=not-now',
      'a=abc&d=reject&l=en&r=not-now',
      'c=',
      'c=   ',
      'a=abc',
      'a=abc&d=maybe',
      'a=abc&d=approve&x=1',
      'a=ab%20c&d=approve',
      'a=&d=approve',
      'd=approve&a=abc&a=def',
      'action=buy&itemid=111',
      `a=${'x'.repeat(65)}&d=approve`,
      `c=${'x'.repeat(299)}`,
    ]) {
      expect(readPostbackData(data), data).toBeUndefined();
    }
  });

  it('will not encode a command over 300 characters or an approval id that is not base64url', () => {
    expect(commandData('x'.repeat(298))).toHaveLength(300);
    expect(commandData('x'.repeat(299))).toBeUndefined();
    expect(() => decisionData('has space', 'approve')).toThrow();
  });
});

describe('stripMentions', () => {
  it('cuts spans right to left and leaves spans that do not point at @', () => {
    expect(
      stripMentions('@A x @B y', [
        { index: 0, length: 2 },
        { index: 5, length: 2 },
      ]),
    ).toBe('x y');
    expect(stripMentions('hello world', [{ index: 0, length: 5 }])).toBe('hello world');
    expect(stripMentions('@A', [{ index: 0, length: 9 }])).toBe('@A');
  });
});

describe('lineEvent builder', () => {
  it('builds other event types with the common fields', () => {
    const event = lineEvent('leave', { groupId: lineId('C') });
    expect(event).toMatchObject({ type: 'leave', mode: 'active', deliveryContext: { isRedelivery: false } });
    expect(event.webhookEventId).toMatch(/^[0-9A-HJKMNP-TV-Z]{26}$/);
  });
});
