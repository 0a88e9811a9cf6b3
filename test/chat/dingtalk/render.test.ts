import { describe, expect, it } from 'vitest';
import {
  renderDingTalkActionCard,
  renderDingTalkCallbackAnswer,
  renderDingTalkCardParams,
  renderDingTalkNotice,
} from '../../../chat/dingtalk/render.ts';
import type { Card } from '../../../core/chat.ts';

const CARD: Card = {
  approvalId: 'aK3v9Qx2LmN8pR4sT6uW0y',
  title: 'Merge !7: [click me](https://evil.example) <b>x</b>',
  fields: [{ label: 'Author', value: 'Alice\nsecond line' }],
  links: [
    { label: 'Merge request', url: 'https://gitlab.example/p/-/merge_requests/7' },
    { label: 'bad', url: 'javascript:alert(1)' },
  ],
  state: { kind: 'pending', approvals: 0, required: 1, approvedBy: [] },
};

describe('renderDingTalkCardParams', () => {
  it('gives the template string variables, buttons on while pending, and neutralises markdown links in titles', () => {
    const params = renderDingTalkCardParams(CARD);
    expect(Object.values(params).every((v) => typeof v === 'string')).toBe(true);
    expect(params).toMatchObject({ approvalId: CARD.approvalId, status: 'pending', pending: 'true' });
    expect(params.title).not.toContain('](');
    expect(params.title).not.toContain('<b>');
    expect(params.fields).toBe('**Author**: Alice second line');
    expect(params.links).toBe('[Merge request](https://gitlab.example/p/-/merge_requests/7)');
  });

  it('removes the buttons once decided and says who decided', () => {
    const params = renderDingTalkCardParams({
      ...CARD,
      state: { kind: 'rejected', by: ['Bob'], reason: 'freeze' },
    });
    expect(params).toMatchObject({ status: 'rejected', pending: 'false' });
    expect(params.statusText).toContain('Rejected by Bob: freeze');
  });
});

describe('renderDingTalkActionCard', () => {
  it('without a template, opens the console decision page from two link buttons', () => {
    const message = renderDingTalkActionCard(CARD, 'https://signoff.example/');
    expect(message.msgKey).toBe('sampleActionCard2');
    expect(message.msgParam.actionURL1).toBe(
      'https://signoff.example/console/?approval=aK3v9Qx2LmN8pR4sT6uW0y',
    );
  });

  it('without a console URL, says where to decide', () => {
    expect(renderDingTalkActionCard(CARD).msgParam.text).toContain('Signoff console');
  });
});

describe('renderDingTalkNotice', () => {
  it('is markdown; choices are tap-to-send links with the command shown', () => {
    const message = renderDingTalkNotice({
      text: 'Pick one',
      choices: [{ label: 'test', command: 'deploy test' }],
    });
    expect(message.session).toMatchObject({ msgtype: 'markdown' });
    expect(message.msgParam.text).toContain('dtmd://dingtalkclient/sendMessage?content=deploy%20test');
    expect(message.msgParam.text).toContain('`deploy test`');
  });

  it("ends each link's message with the offer's key, and shows the command without it", () => {
    const message = renderDingTalkNotice({
      text: 'Pick one',
      choices: [{ label: 'test', command: 'deploy test', key: 'Kq2_x9-Lm0aZ' }],
    });
    expect(message.msgParam.text).toContain(
      `dtmd://dingtalkclient/sendMessage?content=${encodeURIComponent('deploy test #Kq2_x9-Lm0aZ')})`,
    );
    expect(message.msgParam.text).toContain('— `deploy test`');
  });
});

describe('renderDingTalkCallbackAnswer', () => {
  it('answers the clicker only, through private card data', () => {
    expect(renderDingTalkCallbackAnswer({ kind: 'error', text: 'You are not an approver' })).toEqual({
      cardUpdateOptions: { updatePrivateDataByKey: true },
      userPrivateData: { cardParamMap: { notice: 'You are not an approver' } },
    });
  });
});
