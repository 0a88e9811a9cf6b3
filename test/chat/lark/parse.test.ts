import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseLarkEvent, stripMentions } from '../../../chat/lark/parse.ts';
import { InvalidInputError } from '../../../core/errors.ts';
import { cardActionEvent, messageEvent } from '../../fakes/lark.ts';

const BOT = 'ou_bot7c3a0e5b9d2f4e6a8c1b3d5f7e9a0c';

function fixture(name: string): Record<string, unknown> {
  return JSON.parse(readFileSync(join(import.meta.dirname, '../../fixtures/lark', `${name}.json`), 'utf8'));
}

describe('parseLarkEvent', () => {
  it('answers url_verification with the challenge', () => {
    expect(parseLarkEvent(fixture('url_verification'))).toEqual([
      { kind: 'reply', status: 200, body: { challenge: 'ajls384kdjx98XX' } },
    ]);
  });

  it('reads a card.action.trigger click: who, what, the reason typed, the message and the event id', () => {
    expect(parseLarkEvent(fixture('card_action_trigger'))).toEqual([
      {
        kind: 'decision',
        approvalId: 'k3VqQ8cG2x1mZp0aB7wD9e',
        decision: 'reject',
        comment: 'Please add a migration test',
        actor: { platform: 'lark', id: 'ou_3c6c5a1b8e0f4e1c9d2b7a6f5e4d3c2b' },
        message: { platform: 'lark', id: 'om_574d639e4a44e4dd646eaf628e2b2a0a' },
        eventId: 'f7984f25108f8137722bb63cee927e66',
        where: { kind: 'chat', id: 'oc_e4d2605ca917e695f54f11aaf56271f4' },
      },
    ]);
  });

  it('reads a legacy card callback', () => {
    expect(parseLarkEvent(fixture('card_action_trigger_legacy'))).toEqual([
      {
        kind: 'decision',
        approvalId: 'k3VqQ8cG2x1mZp0aB7wD9e',
        decision: 'approve',
        actor: { platform: 'lark', id: 'ou_3c6c5a1b8e0f4e1c9d2b7a6f5e4d3c2b' },
        message: { platform: 'lark', id: 'om_574d639e4a44e4dd646eaf628e2b2a0a' },
        where: { kind: 'user', id: 'ou_3c6c5a1b8e0f4e1c9d2b7a6f5e4d3c2b' },
        legacy: true,
      },
    ]);
  });

  it('reads a direct message as a command answered to the sender', () => {
    expect(parseLarkEvent(fixture('im_message_receive_v1_p2p'))).toEqual([
      {
        kind: 'command',
        actor: { platform: 'lark', id: 'ou_84aad35d084aa403a838cf73ee18467' },
        text: 'approvals',
        where: { kind: 'user', id: 'ou_84aad35d084aa403a838cf73ee18467' },
        eventId: '5e3702a84e847582be8db7fb73283c02',
      },
    ]);
  });

  it('reads a group message that mentions the bot, with every mention stripped', () => {
    expect(parseLarkEvent(fixture('im_message_receive_v1_group'), BOT)).toEqual([
      {
        kind: 'command',
        actor: { platform: 'lark', id: 'ou_84aad35d084aa403a838cf73ee18467' },
        text: 'status k3VqQ8cG2x1mZp0aB7wD9e',
        where: { kind: 'chat', id: 'oc_e4d2605ca917e695f54f11aaf56271f4' },
        eventId: '0c8bcb3d9a1e4f2a8b6c5d4e3f2a1b0c',
      },
    ]);
  });

  it('ignores a group message that does not mention the bot', () => {
    const event = messageEvent({
      token: 't',
      text: 'approvals',
      openId: 'ou_alice',
      chatType: 'group',
      mentions: [{ openId: 'ou_bob', name: 'Bob' }],
    });
    expect(parseLarkEvent(event, BOT)).toEqual([
      { kind: 'ignored', reason: expect.stringMatching(/does not mention/) },
    ]);
  });

  it('ignores group messages while the bot open_id is unknown', () => {
    expect(parseLarkEvent(fixture('im_message_receive_v1_group'))).toEqual([
      { kind: 'ignored', reason: expect.stringMatching(/open_id is unknown/) },
    ]);
  });

  it('ignores events it does not handle, with a reason', () => {
    expect(parseLarkEvent(fixture('im_chat_member_bot_added_v1'))).toEqual([
      { kind: 'ignored', reason: 'lark event im.chat.member.bot.added_v1 is not handled' },
    ]);
    expect(parseLarkEvent({ type: 'event_callback', event: { type: 'message' } })[0]).toMatchObject({
      kind: 'ignored',
    });
    expect(parseLarkEvent({ hello: 'world' })[0]).toMatchObject({ kind: 'ignored' });
  });

  it('ignores non-text messages and messages from bots', () => {
    const image = fixture('im_message_receive_v1_p2p') as { event: { message: Record<string, unknown> } };
    image.event.message.message_type = 'image';
    image.event.message.content = '{"image_key":"img_v2_xxx"}';
    expect(parseLarkEvent(image)[0]).toMatchObject({ kind: 'ignored' });
    const fromApp = fixture('im_message_receive_v1_p2p') as { event: { sender: Record<string, unknown> } };
    fromApp.event.sender.sender_type = 'app';
    expect(parseLarkEvent(fromApp)[0]).toMatchObject({ kind: 'ignored' });
  });

  it('turns a notice choice click into a command', () => {
    const event = cardActionEvent({
      token: 't',
      openId: 'ou_alice',
      value: { command: 'deploy staging' },
      chatId: 'oc_1',
    });
    expect(parseLarkEvent(event)).toEqual([
      {
        kind: 'command',
        actor: { platform: 'lark', id: 'ou_alice' },
        text: 'deploy staging',
        where: { kind: 'chat', id: 'oc_1' },
        eventId: event.header.event_id,
      },
    ]);
  });

  it('accepts a button value sent as a JSON string', () => {
    const event = cardActionEvent({ token: 't', openId: 'ou_alice', value: {} });
    Object.assign(event.event.action, { value: '{"approvalId":"a1","decision":"approve"}' });
    expect(parseLarkEvent(event)[0]).toMatchObject({
      kind: 'decision',
      approvalId: 'a1',
      decision: 'approve',
    });
  });

  it('leaves out an empty reason', () => {
    const event = cardActionEvent({
      token: 't',
      openId: 'ou_a',
      value: { approvalId: 'a1', decision: 'reject' },
      reason: '  ',
    });
    expect(parseLarkEvent(event)[0]).not.toHaveProperty('comment');
  });

  it('names the bad field of a malformed known event', () => {
    const noOperator = fixture('card_action_trigger') as { event: Record<string, unknown> };
    delete noOperator.event.operator;
    expect(() => parseLarkEvent(noOperator)).toThrow(/event\.operator/);

    const badValue = cardActionEvent({
      token: 't',
      openId: 'ou_a',
      value: { approvalId: 'a1', decision: 'maybe' },
    });
    expect(() => parseLarkEvent(badValue)).toThrow(InvalidInputError);
    expect(() => parseLarkEvent(badValue)).toThrow(/event\.action\.value/);

    const badContent = fixture('im_message_receive_v1_p2p') as {
      event: { message: Record<string, unknown> };
    };
    badContent.event.message.content = 'not json';
    expect(() => parseLarkEvent(badContent)).toThrow(/event\.message\.content/);

    const noHeader = { schema: '2.0', event: {} };
    expect(() => parseLarkEvent(noHeader)).toThrow(/header/);
    expect(() => parseLarkEvent('text')).toThrow(InvalidInputError);
  });
});

describe('stripMentions', () => {
  it('removes every mention key and squeezes the spaces, keeping the lines', () => {
    expect(stripMentions('@_user_1  approve\n@_user_10 now @_all', ['@_user_1', '@_user_10'])).toBe(
      'approve\nnow',
    );
  });
});
