import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Approval } from '../../core/approvals/types.ts';
import {
  cardActionEvent,
  type LarkFake,
  type LarkFakeMessage,
  legacyCardCallback,
  messageEvent,
  signedLarkRequest,
  startLarkFake,
  urlVerification,
} from '../fakes/lark.ts';
import {
  configWithChatIds,
  decideAs,
  eventually,
  finalOutcome,
  finalStatus,
  json,
  openedMergeRequest,
  pendingFor,
  postGitLab,
  startTestRuntime,
  type TestRuntime,
} from '../support/runtime.ts';

const ENCRYPT_KEY = 'test-encrypt-key';
const VERIFICATION_TOKEN = 'test-verification-token';
const OPEN_ID = {
  alice: 'ou_alice000000000000000000000000000',
  bob: 'ou_bob00000000000000000000000000000',
  carol: 'ou_carol0000000000000000000000000000',
};

let lark: LarkFake;
let rt: TestRuntime;

beforeAll(async () => {
  lark = await startLarkFake();
  rt = await startTestRuntime(configWithChatIds('lark', OPEN_ID), undefined, {
    LARK_APP_ID: lark.appId,
    LARK_APP_SECRET: lark.appSecret,
    LARK_VERIFICATION_TOKEN: VERIFICATION_TOKEN,
    LARK_ENCRYPT_KEY: ENCRYPT_KEY,
    LARK_DOMAIN: lark.url,
  });
});
afterAll(async () => {
  await rt?.stop();
  await lark?.close();
});

function postLark(request: { body: string; headers: Record<string, string> }): Promise<Response> {
  return fetch(`${rt.urls.app}/webhooks/lark`, {
    method: 'POST',
    headers: request.headers,
    body: request.body,
  });
}

function signed(body: object, options: { timestamp?: number } = {}) {
  return signedLarkRequest(body, { encryptKey: ENCRYPT_KEY, ...options });
}

function messagesTo(openId: string): LarkFakeMessage[] {
  return [...lark.messages.values()].filter((m) => m.receiveId === openId);
}

/** The current content of a message: its last patch, or what was sent. */
function current(message: LarkFakeMessage): string {
  return JSON.stringify(message.patches.at(-1) ?? message.content);
}

async function approvalCard(
  executionArn: string,
): Promise<{ approval: Approval; bob: LarkFakeMessage; carol: LarkFakeMessage }> {
  return eventually(async () => {
    const body = await json<{ approvals: Approval[] }>(
      await fetch(`${rt.urls.app}/console/api/approvals?status=pending`),
    );
    const approval = body.approvals.find((a) => a.executionArn === executionArn);
    if (!approval) return undefined;
    const bob = messagesTo(OPEN_ID.bob).find((m) => JSON.stringify(m.content).includes(approval.approvalId));
    const carol = messagesTo(OPEN_ID.carol).find((m) =>
      JSON.stringify(m.content).includes(approval.approvalId),
    );
    return bob && carol ? { approval, bob, carol } : undefined;
  }, 'Lark cards for both approvers');
}

describe('merge requests approved from Lark', () => {
  it('sends cards to the approvers, approves from an encrypted card.action.trigger, patches the other copy and tells the author', async () => {
    const { hook } = openedMergeRequest(rt.gitlab, 21);
    const { executionArn } = await json<{ executionArn: string }>(await postGitLab(rt.urls.app, hook));
    const { approval, bob, carol } = await approvalCard(executionArn);

    const card = JSON.stringify(bob.content);
    expect(card).toContain('platform/app');
    expect(card).toContain('Change 21');
    expect(card).not.toMatch(/taskToken/i);
    await eventually(
      async () => messagesTo(OPEN_ID.alice).some((m) => JSON.stringify(m.content).includes('was sent to')),
      'the author to hear the request went out',
    );

    const click = cardActionEvent({
      token: VERIFICATION_TOKEN,
      eventId: 'evt-approve-21',
      openId: OPEN_ID.bob,
      value: { approvalId: approval.approvalId, decision: 'approve' },
      messageId: bob.messageId,
    });
    const response = await postLark(signed(click));
    expect(response.status).toBe(200);
    const answer = JSON.stringify(await response.json());
    expect(answer).toContain('Approved by Bob');

    expect(await finished(executionArn)).toBe('SUCCEEDED');
    expect(rt.gitlab.mergeRequest(7, 21)?.state).toBe('merged');
    // Bob's copy was answered in the callback; Carol's copy is patched to the same state.
    await eventually(
      async () => current(carol).includes('Approved by Bob'),
      "Carol's card to show the decision",
    );
    expect(bob.patches).toHaveLength(0);
    await eventually(
      async () => messagesTo(OPEN_ID.alice).some((m) => JSON.stringify(m.content).includes('merged')),
      'the author to be told',
    );

    // The same event delivered again changes nothing more.
    const patchesBefore = carol.patches.length;
    const again = await postLark(signed(click));
    expect(again.status).toBe(200);
    expect(JSON.stringify(await again.json())).toContain('Approved by Bob');
    const late = await postLark(
      signed(
        cardActionEvent({
          token: VERIFICATION_TOKEN,
          eventId: 'evt-late-21',
          openId: OPEN_ID.carol,
          value: { approvalId: approval.approvalId, decision: 'approve' },
          messageId: carol.messageId,
        }),
      ),
    );
    expect(JSON.stringify(await late.json())).toContain('already approved by Bob');
    expect(carol.patches.length).toBe(patchesBefore);
    const merges = rt.gitlab.requests.filter(
      (r) => r.method === 'PUT' && r.path.endsWith('/merge_requests/21/merge'),
    );
    expect(merges).toHaveLength(1);
  });

  it('rejects with the reason typed in the card, closing the merge request with that note', async () => {
    const { hook } = openedMergeRequest(rt.gitlab, 22);
    const { executionArn } = await json<{ executionArn: string }>(await postGitLab(rt.urls.app, hook));
    const { approval, carol } = await approvalCard(executionArn);
    const response = await postLark(
      signed(
        cardActionEvent({
          token: VERIFICATION_TOKEN,
          openId: OPEN_ID.carol,
          value: { approvalId: approval.approvalId, decision: 'reject' },
          reason: 'please split this change',
          messageId: carol.messageId,
        }),
      ),
    );
    expect(JSON.stringify(await response.json())).toContain('Rejected by Carol');
    expect(await finished(executionArn)).toBe('FAILED');
    expect(await finalOutcome(rt, executionArn)).toEqual({
      status: 'FAILED',
      error: 'Signoff.Rejected',
      cause: 'please split this change',
    });
    expect(rt.gitlab.mergeRequest(7, 22)?.state).toBe('closed');
    const note = rt.gitlab.requests.find(
      (r) => r.method === 'POST' && r.path.endsWith('/merge_requests/22/notes'),
    );
    expect(JSON.stringify(note?.body)).toContain('please split this change');
  });

  it('refuses a click by someone who is not an approver, with a toast, and changes nothing', async () => {
    const { hook } = openedMergeRequest(rt.gitlab, 23);
    const { executionArn } = await json<{ executionArn: string }>(await postGitLab(rt.urls.app, hook));
    const { approval } = await approvalCard(executionArn);
    const response = await postLark(
      signed(
        cardActionEvent({
          token: VERIFICATION_TOKEN,
          openId: OPEN_ID.alice,
          value: { approvalId: approval.approvalId, decision: 'approve' },
        }),
      ),
    );
    expect(response.status).toBe(200);
    expect(JSON.stringify(await response.json())).toContain('not an approver');
    const after = await json<{ approval: Approval }>(
      await fetch(`${rt.urls.app}/console/api/approvals/${approval.approvalId}`),
    );
    expect(after.approval.votes).toEqual([]);
  });

  it('records a card Lark would not take after every retry in the audit, and the approval goes on elsewhere', async () => {
    const { hook } = openedMergeRequest(rt.gitlab, 24);
    // Bob's card: the first try and its three retries all fail (Lark answers 500).
    lark.failNext(4, { status: 500 });
    const { executionArn } = await json<{ executionArn: string }>(await postGitLab(rt.urls.app, hook));
    const approval = await pendingFor(rt, executionArn);
    const audit = await eventually(async () => {
      const body = await json<{ records: Array<{ action: string; detail?: Record<string, unknown> }> }>(
        await fetch(`${rt.urls.app}/console/api/audit?execution=${encodeURIComponent(executionArn)}`),
      );
      return body.records.find((r) => r.action === 'approval.card_undelivered');
    }, 'the undelivered card in the audit');
    expect(audit.detail).toMatchObject({
      approvalId: approval.approvalId,
      platform: 'lark',
      recipient: `user:${OPEN_ID.bob}`,
    });
    expect(String(audit.detail?.reason)).not.toContain(lark.tenantToken);
    expect(messagesTo(OPEN_ID.bob).some((m) => JSON.stringify(m.content).includes(approval.approvalId))).toBe(
      false,
    );
    await eventually(
      async () =>
        messagesTo(OPEN_ID.carol).some((m) => JSON.stringify(m.content).includes(approval.approvalId)),
      "Carol's card",
    );
    expect((await decideAs(rt, approval.approvalId, 'bob', 'approve')).status).toBe(200);
    expect(await finished(executionArn)).toBe('SUCCEEDED');
  });
});

describe('POST /webhooks/lark verification', () => {
  it('answers the encrypted url_verification challenge, and refuses a plain one (that Lark app has no Encrypt Key)', async () => {
    const challenge = urlVerification({ token: VERIFICATION_TOKEN, challenge: 'abc123' });
    const encrypted = await postLark(signed(challenge));
    expect(await encrypted.json()).toEqual({ challenge: 'abc123' });
    const plain = await postLark({
      body: JSON.stringify(challenge),
      headers: { 'content-type': 'application/json' },
    });
    expect(plain.status).toBe(401);
    expect(await plain.json()).toMatchObject({ error: { message: expect.stringMatching(/no Encrypt Key/) } });
  });

  it.each([
    [
      'a bad signature',
      () => ({
        ...signed(
          messageEvent({ token: VERIFICATION_TOKEN, text: 'help', openId: OPEN_ID.bob, chatType: 'p2p' }),
        ),
        headers: { ...signed({}).headers, 'x-lark-signature': '0'.repeat(64) },
      }),
    ],
    [
      'a stale timestamp',
      () =>
        signed(
          messageEvent({ token: VERIFICATION_TOKEN, text: 'help', openId: OPEN_ID.bob, chatType: 'p2p' }),
          { timestamp: Math.floor(Date.now() / 1000) - 3600 },
        ),
    ],
    [
      'a wrong verification token',
      () => signed(messageEvent({ token: 'wrong', text: 'help', openId: OPEN_ID.bob, chatType: 'p2p' })),
    ],
    ['a malformed body', () => ({ body: '{"encrypt":', headers: signed({}).headers })],
  ])('refuses %s with a 4xx JSON error and sends nothing', async (_, build) => {
    const sent = lark.messages.size;
    const response = await postLark(build());
    expect(response.status).toBeGreaterThanOrEqual(400);
    expect(response.status).toBeLessThan(500);
    expect(await response.json()).toMatchObject({ error: { message: expect.any(String) } });
    expect(lark.messages.size).toBe(sent);
  });

  it('refuses an oversized body', async () => {
    const response = await postLark({
      body: JSON.stringify({ encrypt: 'x'.repeat(2 * 1024 * 1024) }),
      headers: signed({}).headers,
    });
    expect(response.status).toBe(413);
  });
});

describe('chat commands in Lark', () => {
  // English last: Carol's cards follow the language of her last command (later tests read English).
  it.each([
    ['帮助', 'Signoff 指令'],
    ['幫助', 'Signoff 指令'],
    ['ヘルプ', 'Signoff コマンド'],
    ['help', 'Signoff commands'],
    ['what is this', 'I did not understand'],
  ])('answers %j in a direct chat', async (text, expected) => {
    const event = messageEvent({ token: VERIFICATION_TOKEN, text, openId: OPEN_ID.carol, chatType: 'p2p' });
    const before = messagesTo(OPEN_ID.carol).length;
    expect((await postLark(signed(event))).status).toBe(200);
    const replies = messagesTo(OPEN_ID.carol).slice(before);
    expect(replies).toHaveLength(1);
    expect(JSON.stringify(replies[0]?.content)).toContain(expected);
  });

  it('answers in a group only when the bot is mentioned', async () => {
    const chatId = 'oc_group00000000000000000000000000';
    const count = () => [...lark.messages.values()].filter((m) => m.receiveId === chatId).length;
    await postLark(
      signed(
        messageEvent({
          token: VERIFICATION_TOKEN,
          text: 'help',
          openId: OPEN_ID.bob,
          chatType: 'group',
          chatId,
        }),
      ),
    );
    expect(count()).toBe(0);
    await postLark(
      signed(
        messageEvent({
          token: VERIFICATION_TOKEN,
          text: '待審批',
          openId: OPEN_ID.bob,
          chatType: 'group',
          chatId,
          mentions: [{ openId: lark.botOpenId, name: 'Signoff' }],
        }),
      ),
    );
    expect(count()).toBe(1);
  });

  it('handles a redelivered message event once', async () => {
    const event = messageEvent({
      token: VERIFICATION_TOKEN,
      eventId: 'evt-dup-1',
      text: 'help',
      openId: OPEN_ID.bob,
      chatType: 'p2p',
    });
    const before = messagesTo(OPEN_ID.bob).length;
    await postLark(signed(event));
    await postLark(signed(event));
    expect(messagesTo(OPEN_ID.bob).length - before).toBe(1);
  });
});

describe('legacy Lark card callbacks', () => {
  it('decides from a legacy callback signed with sha1 and answers with the bare card', async () => {
    const { hook } = openedMergeRequest(rt.gitlab, 24);
    const { executionArn } = await json<{ executionArn: string }>(await postGitLab(rt.urls.app, hook));
    const { approval, carol } = await approvalCard(executionArn);
    const request = signedLarkRequest(
      legacyCardCallback({
        openId: OPEN_ID.carol,
        value: { approvalId: approval.approvalId, decision: 'approve' },
        messageId: carol.messageId,
      }),
      { verificationToken: VERIFICATION_TOKEN },
    );
    const response = await postLark(request);
    expect(response.status).toBe(200);
    const answer = (await response.json()) as Record<string, unknown>;
    // The bare card: no `card` wrapper and no toast, as the legacy protocol expects.
    expect(answer.card).toBeUndefined();
    expect(JSON.stringify(answer)).toContain('Approved by Carol');
    expect(await finished(executionArn)).toBe('SUCCEEDED');
  });
});

describe('starting with Lark configured', () => {
  it('fails with an error naming LARK_ENCRYPT_KEY when LARK_APP_ID is set without it', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'signoff-lark-'));
    try {
      const started = startTestRuntime(undefined, dir, {
        LARK_APP_ID: lark.appId,
        LARK_APP_SECRET: lark.appSecret,
        LARK_VERIFICATION_TOKEN: VERIFICATION_TOKEN,
        LARK_DOMAIN: lark.url,
      });
      await expect(started).rejects.toThrow(/LARK_ENCRYPT_KEY is required when LARK_APP_ID is set/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

function finished(executionArn: string): Promise<string> {
  return finalStatus(rt, executionArn);
}
