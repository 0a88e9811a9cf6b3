import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import {
  commandWithIntent,
  parseDingTalkCardCallback,
  parseDingTalkMessage,
} from '../../../chat/dingtalk/parse.ts';
import { ForbiddenError, InvalidInputError } from '../../../core/errors.ts';

const fixture = (name: string) =>
  JSON.parse(readFileSync(new URL(`../../fixtures/dingtalk/${name}`, import.meta.url), 'utf8')) as Record<
    string,
    unknown
  >;
const GROUP = fixture('dingtalk_robot_text_group.json');
const CARD = fixture('dingtalk_card_callback.json');
const NOW = new Date(1767222600000);
const OPTIONS = { robotCode: 'dingrobot0000000000', now: NOW };

describe('parseDingTalkMessage', () => {
  it('makes a mentioned group message a command in the group, lines kept, the sender by staff id', () => {
    const { inbound, session } = parseDingTalkMessage(GROUP, OPTIONS);
    expect(inbound).toEqual({
      kind: 'command',
      actor: { platform: 'dingtalk', id: 'staff0815', name: 'Bob' },
      text: 'support case\nsubject: Lambda throttling\nseverity: high',
      where: { kind: 'chat', id: 'cidp7XGbWmvFeQpD1XzSMOBiw==' },
      eventId: 'msgq/UjDUSu0EjaDFxoLA1oRA==',
      replyToken: GROUP.sessionWebhook,
    });
    expect(session?.expiresAt).toBe(1767228000000);
  });

  it('ignores a group message that does not mention the robot', () => {
    expect(parseDingTalkMessage({ ...GROUP, isInAtList: false }, OPTIONS).inbound.kind).toBe('ignored');
  });

  it('answers a single chat in that chat', () => {
    const { inbound } = parseDingTalkMessage(
      { ...GROUP, conversationType: '1', isInAtList: undefined },
      OPTIONS,
    );
    expect(inbound).toMatchObject({ kind: 'command', where: { kind: 'user', id: 'staff0815' } });
  });

  it("reads a tap-to-send link's offer key off the end of its text, and only a key's shape", () => {
    const single = { ...GROUP, conversationType: '1', isInAtList: undefined };
    const sent = (content: string) =>
      parseDingTalkMessage({ ...single, text: { content } }, OPTIONS).inbound as {
        text: string;
        intent?: string;
      };
    expect(sent(`deploy test ${'#'}Kq2_x9-Lm0aZ`)).toMatchObject({
      text: 'deploy test',
      intent: 'Kq2_x9-Lm0aZ',
    });
    expect(sent(commandWithIntent('リリース web', 'Kq2_x9-Lm0aZ'))).toMatchObject({
      text: 'リリース web',
      intent: 'Kq2_x9-Lm0aZ',
    });
    // Typed text: no key. Too short, or not at the end: part of the command.
    expect(sent('deploy test')).toEqual(expect.not.objectContaining({ intent: expect.anything() }));
    expect(sent('release web #12')).toEqual(expect.objectContaining({ text: 'release web #12' }));
    expect(sent('release web #12').intent).toBeUndefined();
    expect(sent('deploy #Kq2_x9-Lm0aZ now').intent).toBeUndefined();
    // A key that is not one is not sent.
    expect(commandWithIntent('deploy test', 'has space')).toBe('deploy test');
  });

  it('refuses another robot, and another organisation when DINGTALK_CORP_ID is set', () => {
    expect(() => parseDingTalkMessage(GROUP, { ...OPTIONS, robotCode: 'dingother' })).toThrow(ForbiddenError);
    expect(() => parseDingTalkMessage(GROUP, { ...OPTIONS, corpId: 'dingothercorp' })).toThrow(
      ForbiddenError,
    );
    expect(parseDingTalkMessage(GROUP, { ...OPTIONS, corpId: 'dingcorp0000000000000000' }).inbound.kind).toBe(
      'command',
    );
  });

  it('changes nothing for a sender without a staff id, or a picture', () => {
    const { senderStaffId: _, ...external } = GROUP;
    expect(parseDingTalkMessage(external, OPTIONS).inbound.kind).toBe('ignored');
    expect(parseDingTalkMessage({ ...GROUP, msgtype: 'picture' }, OPTIONS).inbound.kind).toBe('ignored');
  });

  it('drops an expired session webhook (the answer then goes through the OpenAPI)', () => {
    const later = new Date(1767228000001);
    const parsed = parseDingTalkMessage(GROUP, { ...OPTIONS, now: later });
    expect(parsed.session).toBeUndefined();
    expect(parsed.inbound).not.toHaveProperty('replyToken');
  });

  it('answers a body that is not a robot message with a 400', () => {
    expect(() => parseDingTalkMessage({ hello: 1 }, OPTIONS)).toThrow(InvalidInputError);
    expect(() => parseDingTalkMessage({ ...GROUP, conversationType: 3 }, OPTIONS)).toThrow(InvalidInputError);
  });
});

describe('parseDingTalkCardCallback', () => {
  it('reads the decision and the reason from cardPrivateData, the approval from our outTrackId, the clicker from userId', () => {
    expect(parseDingTalkCardCallback(CARD, { now: NOW, eventId: 'card-1' })).toEqual({
      kind: 'decision',
      approvalId: 'aK3v9Qx2LmN8pR4sT6uW0y',
      actor: { platform: 'dingtalk', id: 'staff0815' },
      decision: 'reject',
      comment: 'Not during the freeze',
      message: { platform: 'dingtalk', id: CARD.outTrackId },
      eventId: 'card-1',
    });
  });

  it('ignores a card that is not ours and an action that is not a decision', () => {
    expect(parseDingTalkCardCallback({ ...CARD, outTrackId: 'someone-else' }, { now: NOW }).kind).toBe(
      'ignored',
    );
    const other = JSON.stringify({ cardPrivateData: { actionIds: ['x'], params: { action: 'like' } } });
    expect(parseDingTalkCardCallback({ ...CARD, content: other }, { now: NOW }).kind).toBe('ignored');
    expect(parseDingTalkCardCallback({ ...CARD, content: 'not json' }, { now: NOW }).kind).toBe('ignored');
  });

  it('refuses another organisation when DINGTALK_CORP_ID is set', () => {
    expect(() => parseDingTalkCardCallback(CARD, { now: NOW, corpId: 'dingother' })).toThrow(ForbiddenError);
  });
});
