/**
 * A reject reason on LINE (issue #20 item 7): LINE's buttons carry no typed text, so Reject asks
 * why (quick replies with common reasons) and the person's next text within the window is the
 * reason, unless it is a command. Over real HTTP on the embedded runtime, against the LINE fake
 * with webhooks signed as LINE signs them: redelivery, a command in between, a restart, the end
 * of the window, and someone who may not reject.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decisionData, reasonData } from '../../chat/line/postback.ts';
import type { Approval } from '../../core/approvals/types.ts';
import { DEFAULT_CONFIG_INPUT, parseConfig } from '../../core/config.ts';
import {
  type LineFake,
  type LineSentMessage,
  lineId,
  linePostbackEvent,
  lineTextEvent,
  lineWebhook,
  replyToken,
  signLineBody,
  startLineFake,
} from '../fakes/line.ts';
import {
  eventually,
  finalOutcome,
  json,
  openedMergeRequest,
  postGitLab,
  startTestRuntime,
  type TestRuntime,
} from '../support/runtime.ts';

const LINE_ID = { alice: lineId('U'), bob: lineId('U'), carol: lineId('U') };

let line: LineFake;
let rt: TestRuntime;
const dataDir = mkdtempSync(join(tmpdir(), 'signoff-line-reason-'));

/** The runtime on `dataDir` (kept across restarts), with the reason window given. */
async function start(reasonWindow?: string): Promise<TestRuntime> {
  const config = structuredClone(DEFAULT_CONFIG_INPUT) as {
    users: Record<string, Record<string, string>>;
    chat?: { reasonWindow: string };
  };
  for (const [user, id] of Object.entries(LINE_ID)) Object.assign(config.users[user] ?? {}, { line: id });
  if (reasonWindow) config.chat = { reasonWindow };
  return startTestRuntime(parseConfig(config), dataDir, {
    LINE_CHANNEL_SECRET: line.channelSecret,
    LINE_CHANNEL_ACCESS_TOKEN: line.channelAccessToken,
    LINE_API_BASE_URL: line.url,
  });
}

beforeAll(async () => {
  line = await startLineFake();
  rt = await start();
});
afterAll(async () => {
  await rt?.stop();
  await line?.close();
  rmSync(dataDir, { recursive: true, force: true });
});

function postLine(events: unknown[]): Promise<Response> {
  const body = JSON.stringify(lineWebhook(events, line.botUserId));
  return fetch(`${rt.urls.app}/webhooks/line`, {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      'x-line-signature': signLineBody(body, line.channelSecret),
    },
    body,
  });
}

/** A text or postback event from `user` with its own reply token, and what was replied with that token. */
function from(user: keyof typeof LINE_ID) {
  return {
    text(text: string, options: { webhookEventId?: string } = {}) {
      return lineTextEvent(text, { userId: LINE_ID[user], replyToken: replyToken(), ...options });
    },
    tap(data: string) {
      return linePostbackEvent(data, { userId: LINE_ID[user], replyToken: replyToken() });
    },
  };
}

function repliesTo(event: Record<string, unknown>): LineSentMessage[] {
  return line.messages.filter((m) => m.via === 'reply' && m.replyToken === event.replyToken);
}

async function answerTo(event: Record<string, unknown>): Promise<Record<string, unknown>> {
  const sent = await eventually(async () => repliesTo(event)[0], 'the answer');
  return sent.message;
}

async function approvalOf(id: string): Promise<Approval> {
  return (await json<{ approval: Approval }>(await fetch(`${rt.urls.app}/console/api/approvals/${id}`)))
    .approval;
}

/** An opened merge request's pending approval (bob and carol approve merge requests; alice wrote it). */
async function pendingMergeRequest(iid: number): Promise<Approval> {
  const { hook } = openedMergeRequest(rt.gitlab, iid);
  const { executionArn } = await json<{ executionArn: string }>(await postGitLab(rt.urls.app, hook));
  return eventually(async () => {
    const body = await json<{ approvals: Approval[] }>(
      await fetch(`${rt.urls.app}/console/api/approvals?status=pending`),
    );
    const found = body.approvals.find((a) => a.executionArn === executionArn);
    return found && found.cards.length >= 2 && found;
  }, 'the approval cards');
}

function closingNote(iid: number): string {
  const note = rt.gitlab.requests.find(
    (r) => r.method === 'POST' && r.path.endsWith(`/merge_requests/${iid}/notes`),
  );
  return JSON.stringify(note?.body ?? '');
}

describe('Reject on LINE asks for the reason', () => {
  it('answers Reject with the question and quick replies, decides nothing; a quick reply rejects with its reason, once however often it is tapped', async () => {
    const approval = await pendingMergeRequest(41);
    const reject = from('bob').tap(decisionData(approval.approvalId, 'reject'));
    expect((await postLine([reject])).status).toBe(200);
    const question = await answerTo(reject);
    expect(question.text).toContain(`Why reject "${approval.card.title}"?`);
    const items = (question.quickReply as { items: Array<{ action: Record<string, string> }> }).items;
    expect(items.map((i) => [i.action.label, i.action.data])).toEqual([
      ['Not now', reasonData(approval.approvalId, 'not-now', 'en')],
      ['Needs changes', reasonData(approval.approvalId, 'needs-changes', 'en')],
      ['Wrong target', reasonData(approval.approvalId, 'wrong-target', 'en')],
    ]);
    // Asked, not decided.
    expect((await approvalOf(approval.approvalId)).status).toBe('pending');
    expect((await approvalOf(approval.approvalId)).votes).toEqual([]);

    // "Needs changes", tapped twice, the first tap also delivered twice: one reject.
    const tap = from('bob').tap(items[1]?.action.data ?? '');
    const again = from('bob').tap(items[1]?.action.data ?? '');
    const answers = await Promise.all([
      postLine([tap]),
      postLine([{ ...tap, deliveryContext: { isRedelivery: true } }]),
      postLine([again]),
    ]);
    expect(answers.map((r) => r.status)).toEqual([200, 200, 200]);
    expect(await finalOutcome(rt, approval.executionArn)).toEqual({
      status: 'FAILED',
      error: 'Signoff.Rejected',
      cause: 'Needs changes',
    });
    const after = await approvalOf(approval.approvalId);
    expect(after).toMatchObject({ status: 'rejected', reason: 'Needs changes' });
    expect(after.votes).toHaveLength(1);
    expect(closingNote(41)).toContain('Needs changes');
    const texts = [...repliesTo(tap), ...repliesTo(again)].map((m) => String(m.message.text));
    expect(texts.sort()).toEqual(['Rejected by Bob: Needs changes', 'already rejected by Bob']);
  });

  it('takes the next text as the reason; a command in between runs as a command and the reason still waits; a redelivered reason rejects once', async () => {
    const approval = await pendingMergeRequest(42);
    const reject = from('bob').tap(decisionData(approval.approvalId, 'reject'));
    await postLine([reject]);
    await answerTo(reject);

    // A command runs as one, and leaves the reject waiting.
    const command = from('bob').text('approvals');
    await postLine([command]);
    expect(JSON.stringify(await answerTo(command))).toContain(approval.approvalId);
    expect((await approvalOf(approval.approvalId)).status).toBe('pending');

    // The reason, delivered twice (LINE redelivers with the same event id).
    const reason = from('bob').text('The migration has no down step');
    const answers = await Promise.all([
      postLine([reason]),
      postLine([{ ...reason, deliveryContext: { isRedelivery: true } }]),
    ]);
    expect(answers.map((r) => r.status)).toEqual([200, 200]);
    expect(await finalOutcome(rt, approval.executionArn)).toEqual({
      status: 'FAILED',
      error: 'Signoff.Rejected',
      cause: 'The migration has no down step',
    });
    expect(String((await answerTo(reason)).text)).toBe('Rejected by Bob: The migration has no down step');
    expect(repliesTo(reason)).toHaveLength(1);
    const after = await approvalOf(approval.approvalId);
    expect(after.votes).toEqual([
      expect.objectContaining({ user: 'bob', decision: 'reject', comment: 'The migration has no down step' }),
    ]);
    expect(closingNote(42)).toContain('The migration has no down step');

    // The reason was given: the next text is read as it is (not a command: the help).
    const chatter = from('bob').text('thanks');
    await postLine([chatter]);
    expect(String((await answerTo(chatter)).text)).toContain('I did not understand that');
  });

  it('answers someone who may not reject at once, asks nothing, and reads their next text as usual', async () => {
    const approval = await pendingMergeRequest(43);
    // Alice wrote the change and is no approver of merge requests.
    const reject = from('alice').tap(decisionData(approval.approvalId, 'reject'));
    await postLine([reject]);
    const answer = await answerTo(reject);
    expect(answer.text).toMatch(/^you are not an approver for .*merge requests$/);
    expect(answer.quickReply).toBeUndefined();
    const text = from('alice').text('I meant to reject it');
    await postLine([text]);
    expect(String((await answerTo(text)).text)).toContain('I did not understand that');
    expect(await approvalOf(approval.approvalId)).toMatchObject({ status: 'pending', votes: [] });
  });

  it('keeps the waiting reason across a restart, and after the window reads text as usual', async () => {
    const kept = await pendingMergeRequest(44);
    const reject = from('carol').tap(decisionData(kept.approvalId, 'reject'));
    await postLine([reject]);
    await answerTo(reject);
    await rt.stop();
    rt = await start();
    // The GitLab stand-in starts empty with each runtime: the merge request is there again.
    openedMergeRequest(rt.gitlab, 44);
    const reason = from('carol').text('Wrong base branch');
    await postLine([reason]);
    expect(await finalOutcome(rt, kept.executionArn)).toEqual({
      status: 'FAILED',
      error: 'Signoff.Rejected',
      cause: 'Wrong base branch',
    });

    // A one-second window: the text after it is not a reason.
    await rt.stop();
    rt = await start('1s');
    const late = await pendingMergeRequest(45);
    const rejectLate = from('carol').tap(decisionData(late.approvalId, 'reject'));
    await postLine([rejectLate]);
    expect(String((await answerTo(rejectLate)).text)).toContain('within 1 min');
    await new Promise((resolve) => setTimeout(resolve, 1500));
    const text = from('carol').text('Wrong base branch');
    await postLine([text]);
    expect(String((await answerTo(text)).text)).toContain('I did not understand that');
    expect(await approvalOf(late.approvalId)).toMatchObject({ status: 'pending', votes: [] });
  });
});
