import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import {
  cleanText,
  commandValue,
  parseSlackRequest,
  readCommandValue,
  stripBotMentions,
} from '../../../chat/slack/parse.ts';
import { InvalidInputError } from '../../../core/errors.ts';

const FORM = 'application/x-www-form-urlencoded';
const JSON_TYPE = 'application/json';

function fixture(name: string): string {
  return readFileSync(new URL(`../../fixtures/slack/${name}`, import.meta.url), 'utf8');
}
function payload(value: unknown): string {
  return new URLSearchParams({ payload: JSON.stringify(value) }).toString();
}
const blockActions = () =>
  JSON.parse(fixture('block_actions.json')) as { actions: [{ action_id: string; value: unknown }] };

describe('parseSlackRequest', () => {
  it('turns an Approve click into a decision by the verified user.id, with its response_url', () => {
    const { item, askReason } = parseSlackRequest(FORM, payload(blockActions()));
    expect(askReason).toBeUndefined();
    expect(item).toEqual({
      kind: 'decision',
      approvalId: 'aK3xY_-0123456789abcdef',
      decision: 'approve',
      actor: { platform: 'slack', id: 'U0BOB12345', name: 'bob' },
      where: { kind: 'chat', id: 'D0BOBDM123' },
      eventId: 'action.13345224609.738474920.8088930838d88f008e0',
      responseUrl: 'https://hooks.slack.com/actions/T0TEAM1234/1234567890/abcdefABCDEF',
      message: { platform: 'slack', id: '1700000000.000100', to: 'D0BOBDM123' },
    });
  });

  it('takes identity only from user.id: a button value naming someone else is not an approval id', () => {
    const forged = blockActions();
    forged.actions[0].value = 'aK3xY|U0CAROL123';
    expect(parseSlackRequest(FORM, payload(forged)).item.kind).toBe('ignored');
    const other = blockActions();
    other.actions[0].value = JSON.stringify({ approvalId: 'aK3', user: 'U0CAROL123' });
    expect(parseSlackRequest(FORM, payload(other)).item.kind).toBe('ignored');
  });

  it('turns a Reject click into a reason request (a modal), not a decision', () => {
    const click = blockActions();
    click.actions[0].action_id = 'signoff_reject';
    const { item, askReason } = parseSlackRequest(FORM, payload(click));
    expect(item.kind).toBe('ignored');
    expect(askReason).toEqual({
      triggerId: '13345224609.738474920.8088930838d88f008e0',
      approvalId: 'aK3xY_-0123456789abcdef',
      actor: { platform: 'slack', id: 'U0BOB12345', name: 'bob' },
      message: { channel: 'D0BOBDM123', ts: '1700000000.000100' },
      responseUrl: 'https://hooks.slack.com/actions/T0TEAM1234/1234567890/abcdefABCDEF',
      title: 'Merge !7: Fix login',
    });
  });

  it('turns the reason modal’s submission into a reject with the trimmed reason', () => {
    const { item } = parseSlackRequest(FORM, payload(JSON.parse(fixture('view_submission.json'))));
    expect(item).toMatchObject({
      kind: 'decision',
      approvalId: 'aK3xY_-0123456789abcdef',
      decision: 'reject',
      comment: 'Breaks the login page',
      actor: { platform: 'slack', id: 'U0CAROL123' },
      modal: true,
      eventId: 'view.V0VIEW1234',
      message: { platform: 'slack', id: '1700000000.000200', to: 'D0CAROLDM1' },
    });
  });

  it('answers a blank reason in the modal, and refuses a modal whose metadata is not ours', () => {
    const blank = JSON.parse(fixture('view_submission.json'));
    blank.view.state.values.reason.reason_input.value = '   ';
    expect(parseSlackRequest(FORM, payload(blank)).item).toMatchObject({
      kind: 'reply',
      body: { response_action: 'errors', errors: { reason: 'Please say why you reject this request.' } },
    });
    // A modal written in the clicker's language answers in it; an unknown language is not ours.
    const metadata = JSON.parse(blank.view.private_metadata);
    blank.view.private_metadata = JSON.stringify({ ...metadata, language: 'zh-Hant' });
    expect(parseSlackRequest(FORM, payload(blank)).item).toMatchObject({
      body: { errors: { reason: '請寫下拒絕這個請求的理由。' } },
    });
    blank.view.private_metadata = JSON.stringify({ ...metadata, language: 'xx' });
    expect(() => parseSlackRequest(FORM, payload(blank))).toThrow(InvalidInputError);
    const forged = JSON.parse(fixture('view_submission.json'));
    forged.view.private_metadata = '{"approvalId":"../../x"}';
    expect(() => parseSlackRequest(FORM, payload(forged))).toThrow(InvalidInputError);
  });

  it('parses a slash command (any language), answered in the response', () => {
    const { item } = parseSlackRequest(FORM, fixture('slash_command.txt'));
    expect(item).toMatchObject({
      kind: 'command',
      text: 'デプロイ prod',
      actor: { platform: 'slack', id: 'U0BOB12345' },
      where: { kind: 'chat', id: 'C0DEPLOYS1' },
      slash: true,
      responseUrl: 'https://hooks.slack.com/commands/T0TEAM1234/1234/abcd',
    });
  });

  it('parses an app_mention without the bot mention, Slack markup undone', () => {
    const { item } = parseSlackRequest(JSON_TYPE, fixture('app_mention.json'));
    expect(item).toEqual({
      kind: 'command',
      actor: { platform: 'slack', id: 'U0BOB12345' },
      text: 'status <id> docs',
      where: { kind: 'chat', id: 'C0DEPLOYS1' },
      eventId: 'Ev0MENTION1',
    });
  });

  it('parses a direct message keeping its lines; ignores bot messages, edits and channel chatter', () => {
    const im = JSON.parse(fixture('message_im.json'));
    expect(parseSlackRequest(JSON_TYPE, JSON.stringify(im)).item).toMatchObject({
      kind: 'command',
      text: 'support case\nsubject: Lambda throttling',
      where: { kind: 'chat', id: 'D0BOBDM123' },
      eventId: 'Ev0DIRECT01',
    });
    for (const change of [
      { bot_id: 'B0BOT12345' },
      { subtype: 'message_changed' },
      { channel_type: 'channel' },
    ]) {
      const event = structuredClone(im);
      Object.assign(event.event, change);
      expect(parseSlackRequest(JSON_TYPE, JSON.stringify(event)).item.kind).toBe('ignored');
    }
  });

  it('echoes a url_verification challenge', () => {
    expect(parseSlackRequest(JSON_TYPE, fixture('url_verification.json')).item).toEqual({
      kind: 'reply',
      status: 200,
      body: { challenge: '3eZbrw1aBm2rZgRNFdxV2595E9CY3gmdALWMmHkvFXO7tYXAYM8P' },
    });
  });

  it('throws InvalidInputError (400) on what is not a Slack request, ignores what is not ours', () => {
    for (const [type, body] of [
      [JSON_TYPE, 'not json'],
      [JSON_TYPE, '[]'],
      [JSON_TYPE, '{"type":"event_callback"}'],
      [FORM, 'payload=%7Bnot'],
      [FORM, 'hello=world'],
      [FORM, payload({ type: 'block_actions', user: { id: 'U1' } })],
      ['text/plain', 'x'],
    ] as const)
      expect(() => parseSlackRequest(type, body), `${type} ${body}`).toThrow(InvalidInputError);
    const unknown = blockActions();
    unknown.actions[0].action_id = 'someone_elses_button';
    expect(parseSlackRequest(FORM, payload(unknown)).item.kind).toBe('ignored');
    expect(parseSlackRequest(FORM, payload({ type: 'shortcut' })).item.kind).toBe('ignored');
    expect(parseSlackRequest(JSON_TYPE, '{"type":"app_rate_limited"}').item.kind).toBe('ignored');
  });

  it('turns a notice’s choice button into a command with its idempotency key', () => {
    const choice = blockActions();
    choice.actions[0].action_id = 'signoff_command:1';
    choice.actions[0].value = commandValue('deploy test', 'k3yK3yK3yK3y');
    expect(parseSlackRequest(FORM, payload(choice)).item).toMatchObject({
      kind: 'command',
      text: 'deploy test',
      intent: 'k3yK3yK3yK3y',
      where: { kind: 'chat', id: 'D0BOBDM123' },
    });
  });
});

describe('helpers', () => {
  it('strips only the bot’s mentions', () => {
    expect(stripBotMentions('<@UBOT> hi <@UOTHER>', ['UBOT']).trim()).toBe('hi <@UOTHER>');
    expect(stripBotMentions('<@UBOT> hi', []).trim()).toBe('hi');
  });
  it('undoes Slack markup', () => {
    expect(cleanText('a &amp; b &lt;c&gt; <mailto:x@y.z|x@y.z>   d')).toBe('a & b <c> x@y.z d');
  });
  it('round-trips command values and refuses others', () => {
    expect(readCommandValue(commandValue('佈署 test') as string)).toEqual({ command: '佈署 test' });
    expect(readCommandValue('{"c":"x","extra":1}')).toBeUndefined();
    expect(readCommandValue('c=x')).toBeUndefined();
    expect(commandValue('x'.repeat(2100))).toBeUndefined();
  });
});
