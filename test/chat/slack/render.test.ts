import { describe, expect, it } from 'vitest';
import {
  renderReasonModal,
  renderSlackCard,
  renderSlackNotice,
  slackStateLine,
} from '../../../chat/slack/render.ts';
import type { Card, CardState } from '../../../core/chat.ts';
import { LANGUAGES, translate } from '../../../core/messages/index.ts';

const card: Card = {
  approvalId: 'aK3xY_-0123456789abcdef',
  title: 'Merge !7: Fix login',
  summary: 'Fixes <!channel> & the login page',
  fields: [{ label: 'Branch', value: 'fix-login → main' }],
  links: [
    { label: 'Merge request', url: 'https://gitlab.example.com/p/-/merge_requests/7' },
    { label: 'Bad', url: 'javascript:alert(1)' },
  ],
  state: { kind: 'pending', approvals: 1, required: 2, approvedBy: ['Bob'] },
};

describe('renderSlackCard', () => {
  it('shows the progress and Approve/Reject buttons whose value is only the approval id', () => {
    const message = renderSlackCard(card);
    const json = JSON.stringify(message);
    expect(json).toContain('1 of 2 approved: Bob');
    const actions = message.blocks.find((b) => b.type === 'actions') as unknown as {
      elements: Array<Record<string, unknown>>;
    };
    expect(actions.elements.map((e) => [e.action_id, e.value, e.style])).toEqual([
      ['signoff_approve', card.approvalId, 'primary'],
      ['signoff_reject', card.approvalId, 'danger'],
    ]);
    expect(message.text).toBe('Merge !7: Fix login: 1 of 2 approved: Bob');
  });

  it('escapes untrusted text so it cannot mention @channel or add links, and drops non-http links', () => {
    const json = JSON.stringify(renderSlackCard(card));
    expect(json).not.toContain('<!channel>');
    expect(json).toContain('&lt;!channel&gt; &amp; the login page');
    expect(json).toContain('<https://gitlab.example.com/p/-/merge_requests/7|Merge request>');
    expect(json).not.toContain('javascript:');
  });

  it('removes the buttons once decided, expired or cancelled', () => {
    for (const state of [
      { kind: 'approved', by: ['Bob', 'Carol'] },
      { kind: 'rejected', by: ['Carol'], reason: 'no' },
      { kind: 'expired' },
      { kind: 'cancelled' },
    ] satisfies CardState[]) {
      const message = renderSlackCard({ ...card, state });
      expect(message.blocks.some((b) => b.type === 'actions')).toBe(false);
      expect(JSON.stringify(message)).toContain(slackStateLine(state));
    }
  });

  it('keeps within Block Kit limits: header 150, 10 fields per section, field text 2000', () => {
    const big = renderSlackCard({
      ...card,
      title: 'T'.repeat(400),
      fields: Array.from({ length: 30 }, (_, i) => ({ label: `f${i}`, value: '<&>'.repeat(2000) })),
    });
    const header = big.blocks[0] as { text: { text: string } };
    expect([...header.text.text].length).toBeLessThanOrEqual(150);
    for (const block of big.blocks) {
      const fields = (block as { fields?: Array<{ text: string }> }).fields ?? [];
      expect(fields.length).toBeLessThanOrEqual(10);
      for (const f of fields) {
        expect(f.text.length).toBeLessThanOrEqual(2000);
        expect(f.text).not.toMatch(/&[a-z]{0,3}…$/); // never cut inside an entity
      }
    }
    expect(big.blocks.length).toBeLessThanOrEqual(50);
  });
});

describe('renderSlackNotice', () => {
  it('renders choices as command buttons with unique action ids', () => {
    const message = renderSlackNotice({
      title: 'Deploy where?',
      text: 'Pick one',
      choices: [
        { label: 'test', command: 'deploy test', key: 'k3yK3yK3yK3y' },
        { label: 'prod', command: 'deploy prod', key: 'k3yK3yK3yK3y' },
      ],
    });
    const actions = message.blocks.find((b) => b.type === 'actions') as unknown as {
      elements: Array<Record<string, unknown>>;
    };
    expect(actions.elements.map((e) => e.action_id)).toEqual(['signoff_command:0', 'signoff_command:1']);
    expect(JSON.parse(String(actions.elements[1]?.value))).toEqual({ c: 'deploy prod', k: 'k3yK3yK3yK3y' });
  });
});

describe('renderReasonModal', () => {
  it('asks for a required reason and carries only the approval id and the clicked card', () => {
    const modal = renderReasonModal(
      { approvalId: card.approvalId, title: card.title },
      { channel: 'D1', ts: '1.2' },
    );
    expect(JSON.parse(String(modal.private_metadata))).toEqual({
      approvalId: card.approvalId,
      channel: 'D1',
      ts: '1.2',
      language: 'en',
    });
    expect(modal.title.text.length).toBeLessThanOrEqual(24);
    expect(JSON.stringify(modal.blocks)).toContain('"block_id":"reason"');
  });

  it('asks in the clicker’s language, within Slack’s 24 characters, and carries the language', () => {
    const modal = renderReasonModal({ approvalId: card.approvalId }, {}, 'ja');
    expect(modal.title.text).toBe('リクエストを却下');
    expect(modal.submit?.text).toBe('却下');
    expect(modal.close?.text).toBe('キャンセル');
    expect(JSON.stringify(modal.blocks)).toContain('却下する理由は？');
    expect(JSON.parse(String(modal.private_metadata))).toMatchObject({ language: 'ja' });
    // Slack refuses a longer title: no language's words are cut to fit.
    for (const language of LANGUAGES) {
      const shown = renderReasonModal({ approvalId: card.approvalId }, {}, language);
      expect([shown.title.text, shown.submit?.text, shown.close?.text]).toEqual(
        (['reasonModalTitle', 'reject', 'reasonModalCancel'] as const).map((key) => translate(language, key)),
      );
    }
  });
});
