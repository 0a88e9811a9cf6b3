import { describe, expect, it } from 'vitest';
import {
  cardBytes,
  LARK_CARD_MAX_BYTES,
  renderLarkCallbackAnswer,
  renderLarkCard,
  renderLarkNotice,
  renderLegacyCallbackAnswer,
} from '../../../chat/lark/render.ts';
import type { Card, CardState } from '../../../core/chat.ts';

const CARD: Card = {
  approvalId: 'k3VqQ8cG2x1mZp0aB7wD9e',
  title: 'Merge !7: Fix login',
  summary: 'platform/payments-api',
  fields: [
    { label: 'Author', value: 'alice' },
    { label: 'Branch', value: 'fix-login → main' },
  ],
  links: [
    { label: 'Merge request', url: 'https://gitlab.example.com/platform/payments-api/-/merge_requests/7' },
    { label: 'Execution', url: 'http://127.0.0.1:8080/console/executions/abc' },
  ],
  state: { kind: 'pending', approvals: 1, required: 2, approvedBy: ['Bob'] },
};

const withState = (state: CardState): Card => ({ ...CARD, state });

/** Every object in the card JSON, depth first. */
function nodes(value: unknown): Array<Record<string, unknown>> {
  if (Array.isArray(value)) return value.flatMap(nodes);
  if (value && typeof value === 'object') {
    const object = value as Record<string, unknown>;
    return [object, ...Object.values(object).flatMap(nodes)];
  }
  return [];
}

const buttons = (card: object) => nodes(card).filter((n) => n.tag === 'button');
const text = (card: object) => JSON.stringify(card);

describe('renderLarkCard', () => {
  it('is a shared card JSON 2.0 with a title and a blue header while pending', () => {
    const card = renderLarkCard(CARD);
    expect(card.schema).toBe('2.0');
    expect(card.config.update_multi).toBe(true);
    expect(card.header).toEqual({
      title: { tag: 'plain_text', content: 'Merge !7: Fix login' },
      template: 'blue',
    });
    expect(text(card)).toContain('**Author**: alice');
    expect(text(card)).toContain(
      '[Merge request](https://gitlab.example.com/platform/payments-api/-/merge_requests/7)',
    );
    expect(text(card)).toContain('Waiting for approval: 1 of 2');
  });

  it('has a form with an optional reason and Approve / Reject buttons that carry only the approval id and decision', () => {
    const card = renderLarkCard(CARD);
    const form = nodes(card).find((n) => n.tag === 'form');
    expect(form).toBeDefined();
    const input = nodes(form).find((n) => n.tag === 'input');
    expect(input).toMatchObject({ name: 'reason' });
    expect(input).not.toHaveProperty('required', true);
    const found = buttons(card);
    expect(found.map((b) => b.name)).toEqual(['approve', 'reject']);
    for (const button of found) {
      expect(button.form_action_type).toBe('submit');
      expect(button.behaviors).toEqual([
        { type: 'callback', value: { approvalId: CARD.approvalId, decision: button.name } },
      ]);
    }
  });

  it.each([
    [{ kind: 'approved', by: ['Bob', 'Carol'] }, 'green', 'Approved by Bob, Carol'],
    [{ kind: 'rejected', by: ['Bob'], reason: 'needs tests' }, 'red', 'Rejected by Bob: needs tests'],
    [{ kind: 'expired' }, 'grey', 'Expired'],
    [{ kind: 'cancelled', reason: 'superseded' }, 'grey', 'Cancelled: superseded'],
  ] as Array<[CardState, string, string]>)('shows %o with no buttons', (state, colour, line) => {
    const card = renderLarkCard(withState(state));
    expect(card.header?.template).toBe(colour);
    expect(text(card)).toContain(line);
    expect(buttons(card)).toEqual([]);
    expect(nodes(card).some((n) => n.tag === 'form' || n.tag === 'input')).toBe(false);
  });

  it('carries nothing token-like: no task token, no secrets, only the approval id', () => {
    const card = renderLarkCard(CARD);
    const values = nodes(card)
      .filter((n) => n.type === 'callback')
      .map((n) => n.value);
    expect(values).toEqual([
      { approvalId: CARD.approvalId, decision: 'approve' },
      { approvalId: CARD.approvalId, decision: 'reject' },
    ]);
    expect(text(card)).not.toMatch(/token|secret|AAAA[A-Za-z0-9+/]{40,}/i);
  });

  it('escapes markdown in untrusted text, so a title cannot mention everyone or add links', () => {
    const card = renderLarkCard({
      ...CARD,
      fields: [{ label: 'Title', value: '<at id=all></at> **bold** [click](https://evil.example)' }],
      state: { kind: 'rejected', by: ['Mallory'], reason: '<at id=all></at>' },
    });
    expect(text(card)).not.toContain('<at');
    expect(text(card)).not.toContain('[click]');
    expect(text(card)).toContain('&lt;at id=all&gt;&lt;/at&gt;');
  });

  it('drops links that are not http(s)', () => {
    const card = renderLarkCard({ ...CARD, links: [{ label: 'x', url: 'javascript:alert(1)' }] });
    expect(text(card)).not.toContain('javascript');
  });

  it('stays under 30 KB however long the fields are', () => {
    const long = 'Lorem ipsum 长文本 '.repeat(5000);
    const card = renderLarkCard({
      ...CARD,
      title: long,
      summary: long,
      fields: Array.from({ length: 100 }, (_, i) => ({ label: `Field ${i}`, value: long })),
    });
    expect(cardBytes(card)).toBeLessThanOrEqual(LARK_CARD_MAX_BYTES);
    expect(Buffer.byteLength(JSON.stringify(card))).toBeLessThanOrEqual(LARK_CARD_MAX_BYTES);
    expect(text(card)).toContain('…');
    expect(buttons(card)).toHaveLength(2);
  });

  it('leaves a normal card untouched', () => {
    expect(text(renderLarkCard(CARD))).toContain('fix-login → main');
  });
});

describe('renderLarkNotice', () => {
  it('renders choices as buttons that send a command back, and links', () => {
    const notice = renderLarkNotice({
      title: 'Choose an environment',
      text: 'Where to deploy?',
      choices: [
        { label: 'Staging', command: 'deploy staging' },
        { label: 'Production', command: 'deploy production' },
      ],
      links: [{ label: 'Runbook', url: 'https://wiki.example.com/runbook' }],
    });
    expect(notice.header?.title.content).toBe('Choose an environment');
    expect(buttons(notice).map((b) => b.behaviors)).toEqual([
      [{ type: 'callback', value: { command: 'deploy staging' } }],
      [{ type: 'callback', value: { command: 'deploy production' } }],
    ]);
    expect(text(notice)).toContain('[Runbook](https://wiki.example.com/runbook)');
  });

  it('stays under 30 KB', () => {
    const notice = renderLarkNotice({ text: 'x'.repeat(100_000) });
    expect(cardBytes(notice)).toBeLessThanOrEqual(LARK_CARD_MAX_BYTES);
  });
});

describe('callback answers', () => {
  it('wraps the card for a 2.0 callback and adds a toast', () => {
    const answer = renderLarkCallbackAnswer(withState({ kind: 'approved', by: ['Bob'] }), {
      kind: 'success',
      text: 'Approved',
    });
    expect(answer.toast).toEqual({ type: 'success', content: 'Approved' });
    expect(answer.card?.type).toBe('raw');
    expect(answer.card?.data.schema).toBe('2.0');
  });

  it('can be just a toast, for errors such as "you are not an approver"', () => {
    expect(renderLarkCallbackAnswer(undefined, { kind: 'error', text: 'You are not an approver' })).toEqual({
      toast: { type: 'error', content: 'You are not an approver' },
    });
    expect(renderLarkCallbackAnswer(undefined)).toEqual({});
  });

  it('answers a legacy callback with the bare card', () => {
    expect(renderLegacyCallbackAnswer(CARD)).toEqual(renderLarkCard(CARD));
  });
});
