import { describe, expect, it } from 'vitest';
import { createChatChannel, withRetries } from '../../chat/channel.ts';
import type { Approval, MessageRef } from '../../core/approvals/types.ts';
import type { Card, ChatAdapter, Notice, Recipient } from '../../core/chat.ts';
import { DEFAULT_CONFIG_INPUT, parseConfig, policyFor } from '../../core/config.ts';

/** An adapter that records what it was asked to deliver (the channel is what is under test). */
function recordingAdapter(emails: Record<string, string> = {}) {
  const sent: Array<{ to: Recipient; card: Card }> = [];
  const notices: Array<{ to: Recipient; notice: Notice }> = [];
  const updates: Array<{ ref: MessageRef; card: Card }> = [];
  let lookups = 0;
  const adapter: ChatAdapter = {
    platform: 'lark',
    async receive() {
      return [];
    },
    answeredBy: () => undefined,
    answer: async () => ({ body: {}, failed: [] }),
    async send(to, card) {
      sent.push({ to, card });
      return { platform: 'lark', id: `om_${sent.length}`, to: to.id };
    },
    async update(ref, card) {
      updates.push({ ref, card });
    },
    async notify(to, notice) {
      notices.push({ to, notice });
    },
    async lookupByEmail(email) {
      lookups++;
      return emails[email];
    },
  };
  return { adapter, sent, notices, updates, lookups: () => lookups };
}

function configWith(users: Record<string, Record<string, string>>, chats?: string[]) {
  const input = structuredClone(DEFAULT_CONFIG_INPUT) as {
    users: Record<string, Record<string, string>>;
    policies: Record<string, Record<string, unknown>>;
  };
  input.users = { ...input.users, ...users };
  if (chats) input.policies['merge-request'] = { ...input.policies['merge-request'], chats: { lark: chats } };
  return parseConfig(input);
}

function approvalFor(config: ReturnType<typeof configWith>): Approval {
  return {
    approvalId: 'a1',
    executionArn: 'arn:aws:states:us-east-1:123456789012:execution:signoff-merge-request:x',
    kind: 'merge-request',
    requester: { platform: 'gitlab', id: 'alice', name: 'Alice', user: 'alice' },
    policy: policyFor(config, 'merge-request'),
    card: { title: 'Merge !1', fields: [], links: [] },
    status: 'pending',
    votes: [],
    createdAt: '2026-11-23T00:00:00.000Z',
    expiresAt: '2026-11-30T00:00:00.000Z',
    cards: [],
    version: 0,
  };
}

const log = () => {};

describe('createChatChannel', () => {
  it('sends a card to each approver with an id on the platform', async () => {
    const config = configWith({
      bob: { name: 'Bob', lark: 'ou_bob' },
      carol: { name: 'Carol', lark: 'ou_carol' },
    });
    const { adapter, sent } = recordingAdapter();
    const { sent: refs } = await createChatChannel(adapter, config, log).send(approvalFor(config));
    expect(sent.map((s) => s.to)).toEqual([
      { kind: 'user', id: 'ou_bob' },
      { kind: 'user', id: 'ou_carol' },
    ]);
    expect(refs).toHaveLength(2);
    expect(sent[0]?.card.state).toEqual({ kind: 'pending', approvals: 0, required: 1, approvedBy: [] });
  });

  it('sends to the policy group chat instead of each approver', async () => {
    const config = configWith({ bob: { name: 'Bob', lark: 'ou_bob' } }, ['oc_team']);
    const { adapter, sent } = recordingAdapter();
    await createChatChannel(adapter, config, log).send(approvalFor(config));
    expect(sent.map((s) => s.to)).toEqual([{ kind: 'chat', id: 'oc_team' }]);
  });

  it('finds an approver by email through the directory when no id is configured, once', async () => {
    const config = configWith({
      bob: { name: 'Bob', email: 'bob@example.com' },
      carol: { name: 'Carol', email: 'carol@example.com' },
    });
    const { adapter, sent, lookups } = recordingAdapter({ 'bob@example.com': 'ou_found_bob' });
    const channel = createChatChannel(adapter, config, log);
    await channel.send(approvalFor(config));
    await channel.send(approvalFor(config));
    expect(sent.map((s) => s.to.id)).toEqual(['ou_found_bob', 'ou_found_bob']);
    expect(lookups()).toBe(2);
  });

  it('notifies a user it can reach and says so, and reports one it cannot', async () => {
    const config = configWith({ alice: { name: 'Alice', lark: 'ou_alice' } });
    const { adapter, notices } = recordingAdapter();
    const channel = createChatChannel(adapter, config, log);
    expect(await channel.notify('alice', { text: 'hello' })).toBe(true);
    expect(await channel.notify('carol', { text: 'hello' })).toBe(false);
    expect(notices).toEqual([{ to: { kind: 'user', id: 'ou_alice' }, notice: { text: 'hello' } }]);
  });

  it('keeps sending to the others when one card cannot be delivered', async () => {
    const config = configWith({
      bob: { name: 'Bob', lark: 'ou_bob' },
      carol: { name: 'Carol', lark: 'ou_carol' },
    });
    const { adapter } = recordingAdapter();
    const failing: ChatAdapter = {
      ...adapter,
      async send(to, card) {
        if (to.id === 'ou_bob') throw new Error('platform down');
        return adapter.send(to, card);
      },
    };
    const { sent, undelivered } = await createChatChannel(failing, config, log).send(approvalFor(config));
    expect(sent.map((r) => r.to)).toEqual(['ou_carol']);
    // Reported to the caller (request-approval writes it to the audit), with the platform's reason.
    expect(undelivered).toEqual([{ recipient: 'user:ou_bob', reason: 'platform down' }]);
  });

  it('retries a card that failed with a retryable error, and sends only to recipients without one', async () => {
    const config = configWith({
      bob: { name: 'Bob', lark: 'ou_bob' },
      carol: { name: 'Carol', lark: 'ou_carol' },
    });
    const { adapter, sent } = recordingAdapter();
    let failures = 1;
    const flaky: ChatAdapter = {
      ...adapter,
      async send(to, card) {
        if (to.id === 'ou_carol' && failures-- > 0)
          throw Object.assign(new Error('429'), { retryable: true });
        return adapter.send(to, card);
      },
    };
    const channel = createChatChannel(flaky, config, log);
    const approval = approvalFor(config);
    const { sent: refs, undelivered } = await channel.send(approval);
    expect(refs.map((r) => r.recipient)).toEqual(['user:ou_bob', 'user:ou_carol']);
    expect(undelivered).toEqual([]);
    // A retried request (after a crash) finds both cards recorded and sends nothing more.
    expect(await channel.send({ ...approval, cards: refs })).toEqual({ sent: [], undelivered: [] });
    expect(sent).toHaveLength(2);
  });
});

describe('withRetries', () => {
  it('does not retry an error that is not retryable', async () => {
    let calls = 0;
    await expect(
      withRetries(
        async () => {
          calls++;
          throw new Error('bad request');
        },
        { retries: 2, minTimeout: 1 },
      ),
    ).rejects.toThrow('bad request');
    expect(calls).toBe(1);
  });

  it('gives up after the last delay with the last error', async () => {
    let calls = 0;
    await expect(
      withRetries(
        async () => {
          calls++;
          throw Object.assign(new Error(`down ${calls}`), { retryable: true });
        },
        { retries: 2, minTimeout: 1 },
      ),
    ).rejects.toThrow('down 3');
    expect(calls).toBe(3);
  });
});
