import { describe, expect, it } from 'vitest';
import { readPostbackData } from '../../../chat/line/postback.ts';
import {
  LINE_BUBBLE_MAX_BYTES,
  renderLineCard,
  renderLineNotice,
  renderLineStateUpdate,
  truncateGraphemes,
  truncateUnits,
} from '../../../chat/line/render.ts';
import type { Card, CardState } from '../../../core/chat.ts';

const APPROVAL_ID = 'k3Jq0vYpZ7mB2xR8sT4uWd';
const segmenter = new Intl.Segmenter(undefined, { granularity: 'grapheme' });
const graphemes = (s: string) => [...segmenter.segment(s)].length;

function card(overrides: Partial<Card> = {}): Card {
  return {
    approvalId: APPROVAL_ID,
    title: 'Deploy to prod: 3 functions',
    summary: 'Promote test → prod',
    fields: [
      { label: 'orders-api', value: '41 → 42' },
      { label: 'Requested by', value: 'Alice' },
    ],
    links: [{ label: 'Pipeline', url: 'https://gitlab.example.com/grp/app/-/pipelines/7' }],
    state: { kind: 'pending', approvals: 0, required: 2, approvedBy: [] },
    ...overrides,
  };
}

/** Every action object anywhere in a message. */
function actions(node: unknown): Array<Record<string, unknown>> {
  if (Array.isArray(node)) return node.flatMap(actions);
  if (node === null || typeof node !== 'object') return [];
  const obj = node as Record<string, unknown>;
  const own = obj.action && typeof obj.action === 'object' ? [obj.action as Record<string, unknown>] : [];
  return [...own, ...Object.entries(obj).flatMap(([k, v]) => (k === 'action' ? [] : actions(v)))];
}

function texts(node: unknown): string[] {
  if (Array.isArray(node)) return node.flatMap(texts);
  if (node === null || typeof node !== 'object') return [];
  const obj = node as Record<string, unknown>;
  const own = obj.type === 'text' && typeof obj.text === 'string' ? [obj.text] : [];
  return [...own, ...Object.values(obj).flatMap(texts)];
}

describe('renderLineCard', () => {
  it('a pending card has Approve / Reject postbacks carrying only the approval id and the action', () => {
    const message = renderLineCard(card());
    expect(message.type).toBe('flex');
    expect(message.altText).toBe('Approval needed: Deploy to prod: 3 functions');
    const postbacks = actions(message).filter((a) => a.type === 'postback');
    expect(postbacks.map((a) => a.data)).toEqual([`a=${APPROVAL_ID}&d=approve`, `a=${APPROVAL_ID}&d=reject`]);
    expect(postbacks.map((a) => readPostbackData(String(a.data)))).toEqual([
      { kind: 'decision', approvalId: APPROVAL_ID, decision: 'approve' },
      { kind: 'decision', approvalId: APPROVAL_ID, decision: 'reject' },
    ]);
    expect(postbacks.map((a) => a.label)).toEqual(['Approve', 'Reject']);
    const uris = actions(message).filter((a) => a.type === 'uri');
    expect(uris).toEqual([
      { type: 'uri', label: 'Pipeline', uri: 'https://gitlab.example.com/grp/app/-/pipelines/7' },
    ]);
    expect(texts(message)).toEqual(
      expect.arrayContaining([
        'Deploy to prod: 3 functions',
        'orders-api',
        '41 → 42',
        expect.stringContaining('0 of 2'),
      ]),
    );
  });

  it('decided, expired and cancelled cards have no buttons, only the state', () => {
    const states: CardState[] = [
      { kind: 'approved', by: ['Bob', 'Carol'] },
      { kind: 'rejected', by: ['Bob'], reason: 'not today' },
      { kind: 'expired' },
      { kind: 'cancelled', reason: 'superseded' },
    ];
    for (const state of states) {
      const message = renderLineCard(card({ state }));
      expect(
        actions(message).filter((a) => a.type === 'postback'),
        state.kind,
      ).toEqual([]);
      expect(message.altText).not.toMatch(/^Approval needed/);
    }
    expect(
      renderLineCard(card({ state: { kind: 'rejected', by: ['Bob'], reason: 'not today' } })).altText,
    ).toBe('Rejected by Bob: not today: Deploy to prod: 3 functions');
  });

  it('keeps every limit: data ≤ 300, labels ≤ 20 graphemes, displayText ≤ 300, altText ≤ 400, bubble ≤ 30 KB', () => {
    const long = '長'.repeat(3000);
    const message = renderLineCard(
      card({
        title: `${'🚀'.repeat(300)} title`,
        summary: long,
        fields: Array.from({ length: 200 }, (_, i) => ({ label: `field ${i} ${long}`, value: long })),
        links: Array.from({ length: 10 }, (_, i) => ({
          label: `A very long link label number ${i}`,
          url: `https://example.com/${i}`,
        })),
      }),
    );
    expect(message.altText.length).toBeLessThanOrEqual(400);
    expect(Buffer.byteLength(JSON.stringify(message.contents))).toBeLessThanOrEqual(LINE_BUBBLE_MAX_BYTES);
    for (const action of actions(message)) {
      expect(graphemes(String(action.label))).toBeLessThanOrEqual(20);
      if (action.type === 'postback') {
        expect(String(action.data).length).toBeLessThanOrEqual(300);
        expect(graphemes(String(action.displayText))).toBeLessThanOrEqual(300);
      }
    }
    expect(texts(message).every((t) => t.length > 0)).toBe(true);
    expect(JSON.stringify(message)).toContain('more fields not shown');
  });

  it('never puts anything token-like in postback data', () => {
    const message = renderLineCard(card());
    for (const action of actions(message).filter((a) => a.type === 'postback')) {
      expect(String(action.data)).toMatch(/^a=[A-Za-z0-9_-]{1,64}&d=(approve|reject)$/);
      expect(String(action.data).length).toBeLessThan(100);
    }
  });

  it('shows non-http links as text, never as buttons', () => {
    const message = renderLineCard(card({ links: [{ label: 'evil', url: 'javascript:alert(1)' }] }));
    expect(actions(message).filter((a) => a.type === 'uri')).toEqual([]);
    expect(texts(message)).toContain('evil: javascript:alert(1)');
  });

  it('never emits empty text components', () => {
    const message = renderLineCard(card({ title: ' ', fields: [{ label: '', value: '' }], summary: '' }));
    expect(texts(message).every((t) => t.trim().length > 0)).toBe(true);
  });
});

describe('renderLineNotice', () => {
  it('a plain notice is one text message', () => {
    expect(renderLineNotice({ title: 'Signoff commands', text: 'help — this list' })).toEqual([
      { type: 'text', text: 'Signoff commands\n\nhelp — this list' },
    ]);
    const long = renderLineNotice({ text: 'x'.repeat(6000) });
    expect((long[0] as { text: string }).text.length).toBeLessThanOrEqual(5000);
  });

  it('choices become postback buttons carrying c=<command>, labels cut to 20 graphemes', () => {
    const [message] = renderLineNotice({
      title: 'Choose an environment',
      text: 'Where to?',
      choices: [
        { label: 'test', command: 'deploy test' },
        { label: '正式環境（需要兩位核准者同意之後才會開始執行）', command: '環境佈署 prod' },
      ],
    });
    expect(message?.type).toBe('flex');
    const postbacks = actions(message).filter((a) => a.type === 'postback');
    expect(postbacks.map((a) => a.data)).toEqual(['c=deploy test', 'c=環境佈署 prod']);
    for (const action of postbacks) expect(graphemes(String(action.label))).toBeLessThanOrEqual(20);
    expect(postbacks[1]?.label).toMatch(/…$/);
    expect(postbacks.map((a) => readPostbackData(String(a.data)))).toEqual([
      { kind: 'command', command: 'deploy test' },
      { kind: 'command', command: '環境佈署 prod' },
    ]);
  });

  it('a choice whose command would not fit in 300 characters is shown to type instead', () => {
    const command = `rollback ${'x'.repeat(400)}`;
    const [message] = renderLineNotice({ text: 'Pick one', choices: [{ label: 'huge', command }] });
    expect(actions(message).filter((a) => a.type === 'postback')).toEqual([]);
    expect(JSON.stringify(message)).toContain('Type one of these');
  });

  it('links alone make a bubble with uri buttons', () => {
    const [message] = renderLineNotice({
      text: 'Done',
      links: [{ label: 'Open the deployment', url: 'https://x.example/d/1' }],
    });
    expect(actions(message)).toEqual([
      { type: 'uri', label: 'Open the deployment', uri: 'https://x.example/d/1' },
    ]);
  });
});

describe('renderLineStateUpdate', () => {
  it('is a new text message naming the state and the title', () => {
    expect(renderLineStateUpdate(card({ state: { kind: 'approved', by: ['Bob'] } }))).toEqual({
      type: 'text',
      text: '✅ Approved by Bob\nDeploy to prod: 3 functions',
    });
  });
});

describe('truncation', () => {
  it('never splits a surrogate pair or a grapheme', () => {
    expect(truncateUnits('🚀🚀🚀', 4)).toBe('🚀…');
    expect(truncateUnits('abc', 3)).toBe('abc');
    expect(truncateGraphemes('👍🏽👍🏽👍🏽', 2)).toBe('👍🏽…');
  });
});
