/**
 * Delegation while away, end to end over HTTP (docs/delegation.md): the embedded runtime with
 * Slack (test/fakes/slack.ts) and the GitLab stand-in. Alice approves merge requests; she
 * delegates to Carol (who approves nothing herself), Carol gets the cards and decides in Alice's
 * place within the same policy, four-eyes included; the delegation survives a restart, ends with
 * `delegate off` or at its `until`, and every change is audited.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Approval } from '../../core/approvals/types.ts';
import type { AuditRecord } from '../../core/audit.ts';
import { type Config, DEFAULT_CONFIG_INPUT, parseConfig } from '../../core/config.ts';
import type { Delegation } from '../../core/delegations.ts';
import { buildMergeRequestHook } from '../../local/demo/gitlab.ts';
import {
  blockActions,
  interactionBody,
  type SlackFake,
  type SlackPostedMessage,
  slackHeaders,
  slackId,
  startSlackFake,
} from '../fakes/slack.ts';
import {
  consoleCommand,
  decideAs,
  eventually,
  finalStatus,
  json,
  pendingFor,
  postGitLab,
  startTestRuntime,
  type TestRuntime,
} from '../support/runtime.ts';

const PEOPLE = ['alice', 'bob', 'carol', 'dave', 'erin'] as const;
type Person = (typeof PEOPLE)[number];
const SLACK_ID = Object.fromEntries(PEOPLE.map((p) => [p, slackId('U')])) as Record<Person, string>;
/** Merge requests of this project need two approvals (alice, bob, erin). */
const STRICT = 'platform/strict';

function delegationConfig(): Config {
  const input = structuredClone(DEFAULT_CONFIG_INPUT) as Record<string, unknown>;
  input.users = Object.fromEntries(
    PEOPLE.map((p) => [p, { name: p[0]?.toUpperCase() + p.slice(1), gitlab: p, slack: SLACK_ID[p] }]),
  );
  input.policies = {
    'merge-request': {
      approvers: ['alice', 'bob'],
      required: 1,
      overrides: { [STRICT]: { approvers: ['alice', 'bob', 'erin'], required: 2 } },
    },
  };
  return parseConfig(input);
}

let slack: SlackFake;
let rt: TestRuntime;
let dataDir: string;
let iid = 100;

async function start(): Promise<TestRuntime> {
  return startTestRuntime(delegationConfig(), dataDir, {
    SLACK_SIGNING_SECRET: slack.signingSecret,
    SLACK_BOT_TOKEN: slack.botToken,
    SLACK_API_URL: slack.apiUrl,
  });
}

beforeAll(async () => {
  slack = await startSlackFake();
  dataDir = mkdtempSync(join(tmpdir(), 'signoff-delegation-'));
  rt = await start();
}, 60_000);
afterAll(async () => {
  await rt?.stop();
  await slack?.close();
  rmSync(dataDir, { recursive: true, force: true });
});

/** A day `days` from now, as people type it (`2026-12-24`). */
function dayFromNow(days: number): string {
  return new Date(Date.now() + days * 86_400_000).toISOString().slice(0, 10);
}

function putDelegation(body: Record<string, unknown>): Promise<Response> {
  return fetch(`${rt.urls.app}/console/api/delegation`, {
    method: 'PUT',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
}

async function delegationOf(
  actor: Person,
): Promise<{ delegation: Delegation | null; forOthers: Delegation[] }> {
  return json(await fetch(`${rt.urls.app}/console/api/delegation?actor=${actor}`));
}

async function errorOf(response: Response): Promise<[number, string, string]> {
  const body = await json<{ error: { code: string; message: string } }>(response);
  return [response.status, body.error.code, body.error.message];
}

async function delegationRecords(): Promise<AuditRecord[]> {
  const body = await json<{ records: AuditRecord[] }>(
    await fetch(`${rt.urls.app}/console/api/audit?kind=delegation`),
  );
  return body.records.reverse();
}

/** Open a merge request by `author` (in `project`) and wait for its approval and `cards` Slack cards. */
async function openedBy(author: Person, cards: number, project = 'platform/app'): Promise<Approval> {
  iid++;
  const mr = rt.gitlab.seedMergeRequest({
    projectId: project === STRICT ? 8 : 7,
    projectPath: project,
    iid,
    title: `Change ${iid}`,
    author: { id: 20 + PEOPLE.indexOf(author), username: author, name: author },
  });
  const hook = buildMergeRequestHook(mr, {
    action: 'open',
    actor: { username: author },
    baseUrl: rt.gitlab.url,
  });
  const { executionArn } = await json<{ executionArn: string }>(await postGitLab(rt.urls.app, hook));
  const approval = await pendingFor(rt, executionArn);
  await eventually(async () => cardsOf(approval.approvalId).length === cards, `${cards} Slack cards`);
  return approval;
}

function cardsOf(approvalId: string): SlackPostedMessage[] {
  return slack.messages.filter((m) => JSON.stringify(m.blocks).includes(approvalId));
}

/** Who got a card for the approval, by person. */
function cardHolders(approvalId: string): Person[] {
  return PEOPLE.filter((p) => cardsOf(approvalId).some((m) => m.channel === slack.dmOf(SLACK_ID[p])));
}

function shown(m: SlackPostedMessage): string {
  return JSON.stringify(m.updates.at(-1) ?? { text: m.text, blocks: m.blocks });
}

async function current(approvalId: string): Promise<Approval> {
  return (
    await json<{ approval: Approval }>(await fetch(`${rt.urls.app}/console/api/approvals/${approvalId}`))
  ).approval;
}

function clickApprove(who: Person, card: SlackPostedMessage, approvalId: string): Promise<Response> {
  const body = interactionBody(
    blockActions({
      user: SLACK_ID[who],
      actionId: 'signoff_approve',
      value: approvalId,
      channel: card.channel,
      ts: card.ts,
      triggerId: slack.triggerId(),
      responseUrl: slack.responseUrl(),
      blocks: card.blocks,
    }),
  );
  return fetch(`${rt.urls.app}/webhooks/slack`, {
    method: 'POST',
    headers: slackHeaders(body, 'application/x-www-form-urlencoded', slack.signingSecret),
    body,
  });
}

describe('delegation (console API, chat commands, cards, decisions)', () => {
  it('refuses bad delegations with clear errors and changes nothing', async () => {
    const until = dayFromNow(10);
    expect(await errorOf(await putDelegation({ actor: 'dave', to: 'carol', until }))).toEqual([
      403,
      'NotAnApprover',
      'only an approver can delegate: no policy here names you as an approver',
    ]);
    expect(await errorOf(await putDelegation({ actor: 'alice', to: 'zed', until }))).toEqual([
      400,
      'UnknownDelegate',
      '"zed" is not a configured user',
    ]);
    expect((await errorOf(await putDelegation({ actor: 'alice', to: 'Alice', until })))[1]).toBe(
      'SelfDelegation',
    );
    expect(
      (await errorOf(await putDelegation({ actor: 'alice', to: 'carol', until: dayFromNow(-2) })))[1],
    ).toBe('UntilNotFuture');
    const [status, code, message] = await errorOf(
      await putDelegation({ actor: 'alice', to: 'carol', until: dayFromNow(120) }),
    );
    expect([status, code]).toEqual([400, 'UntilTooFar']);
    expect(message).toMatch(/^a delegation lasts at most 90 days: until \d{4}-\d{2}-\d{2}T/);
    expect((await errorOf(await putDelegation({ actor: 'alice', to: 'carol', until: 'tomorrow' })))[1]).toBe(
      'BadUntil',
    );
    expect(
      (await errorOf(await putDelegation({ actor: 'alice', to: 'carol', until: '2026-02-30' })))[1],
    ).toBe('BadUntil');
    expect((await putDelegation({ actor: 'alice', to: 'carol' })).status).toBe(400);
    expect((await putDelegation({ actor: 'alice', to: 'carol', until, user: 'bob' })).status).toBe(400);

    // In chat, the same refusals in the language they were written in.
    expect((await consoleCommand(rt, 'dave', `delegate to carol until ${until}`)).text).toBe(
      'Only an approver can delegate: no policy here names you as an approver.',
    );
    expect((await consoleCommand(rt, 'alice', `委托 zed 至 ${until}`)).text).toBe(
      '「zed」不是已配置的用户。',
    );
    expect((await consoleCommand(rt, 'alice', '代理 carol 2020-01-01まで')).text).toBe(
      '代理の終了日時は未来にしてください。',
    );
    expect((await consoleCommand(rt, 'alice', 'delegate to carol')).text).toContain(
      'Write: delegate to <user> until <date>',
    );

    expect(await delegationOf('alice')).toEqual({ delegation: null, forOthers: [] });
    expect(await delegationRecords()).toEqual([]);
  });

  it('sends new cards to the delegate, who decides in the approver’s place; four-eyes still applies', async () => {
    const until = dayFromNow(10);
    expect((await consoleCommand(rt, 'alice', `delegate to carol until ${until}`)).text).toMatch(
      /^Until \d{4}-\d{2}-\d{2} 00:00 UTC, approval cards for you go to Carol, who may decide in your place/,
    );
    // Carol is told in her Slack DM.
    await eventually(
      async () =>
        slack.messages.some(
          (m) =>
            m.channel === slack.dmOf(SLACK_ID.carol) &&
            /Alice is away until \d{4}-\d{2}-\d{2} 00:00 UTC/.test(m.text ?? ''),
        ) || undefined,
      'the notice to Carol',
    );
    const shownToCarol = await delegationOf('carol');
    expect(shownToCarol.delegation).toBeNull();
    expect(shownToCarol.forOthers.map((d) => [d.user, d.to])).toEqual([['alice', 'carol']]);
    expect((await consoleCommand(rt, 'carol', 'delegate')).text).toMatch(
      /^You have no delegation\.\nYou decide for Alice until /,
    );
    expect((await consoleCommand(rt, 'alice', '委託')).text).toMatch(/^你已委託 Carol 代為審批，直到 /);

    // Dave's merge request: Alice's card goes to Carol; Bob keeps his.
    const approval = await openedBy('dave', 2);
    expect(cardHolders(approval.approvalId)).toEqual(['bob', 'carol']);
    expect(approval.delegated).toEqual([{ user: 'alice', name: 'Alice', to: 'carol' }]);
    // Carol sees it among what waits for her.
    expect((await consoleCommand(rt, 'carol', 'approvals')).text).toContain(approval.approvalId);

    const carolsCard = cardsOf(approval.approvalId).find(
      (m) => m.channel === slack.dmOf(SLACK_ID.carol),
    ) as SlackPostedMessage;
    expect((await clickApprove('carol', carolsCard, approval.approvalId)).status).toBe(200);
    expect(await finalStatus(rt, approval.executionArn)).toBe('SUCCEEDED');
    expect(rt.gitlab.mergeRequest(7, iid)?.state).toBe('merged');
    const approved = await current(approval.approvalId);
    expect(approved.votes.map((v) => [v.user, v.onBehalfOf?.user])).toEqual([['carol', 'alice']]);
    await eventually(
      async () =>
        cardsOf(approval.approvalId).every((m) => shown(m).includes('Approved by Carol (for Alice)')),
      'every card shows Carol deciding for Alice',
    );
    const votes = await json<{ records: AuditRecord[] }>(
      await fetch(
        `${rt.urls.app}/console/api/audit?execution=${encodeURIComponent(approval.executionArn)}&action=approval.vote`,
      ),
    );
    expect(votes.records.map((r) => [r.actor.user, r.detail?.onBehalfOf])).toEqual([['carol', 'alice']]);

    // Carol's own merge request: Alice's card goes to Alice (her delegate asked), and Carol
    // cannot approve it in Alice's place.
    const own = await openedBy('carol', 2);
    expect(cardHolders(own.approvalId)).toEqual(['alice', 'bob']);
    expect(own.delegated).toBeUndefined();
    expect(await errorOf(await decideAs(rt, own.approvalId, 'carol', 'approve'))).toEqual([
      403,
      'SelfApproval',
      'you cannot approve your own request (four-eyes rule)',
    ]);
    expect((await current(own.approvalId)).votes).toEqual([]);
    expect((await decideAs(rt, own.approvalId, 'bob', 'approve')).status).toBe(200);
    expect(await finalStatus(rt, own.executionArn)).toBe('SUCCEEDED');
  });

  it('counts one vote per seat and per person: delegator and delegate never both count for Alice', async () => {
    // Two of Alice, Bob and Erin; Alice's seat is Carol's while she is away.
    const approval = await openedBy('dave', 3, STRICT);
    expect(cardHolders(approval.approvalId)).toEqual(['bob', 'carol', 'erin']);

    const first = await decideAs(rt, approval.approvalId, 'carol', 'approve');
    expect(first.status).toBe(200);
    expect((await json<{ outcome: string }>(first)).outcome).toBe('counted');
    expect(await errorOf(await decideAs(rt, approval.approvalId, 'carol', 'approve'))).toEqual([
      409,
      'AlreadyVoted',
      'you have already voted on this request (for Alice)',
    ]);
    // Alice, back early, cannot fill her seat a second time.
    expect(await errorOf(await decideAs(rt, approval.approvalId, 'alice', 'approve'))).toEqual([
      409,
      'AlreadyVoted',
      'Carol already voted in your place',
    ]);
    expect((await current(approval.approvalId)).status).toBe('pending');
    const second = await decideAs(rt, approval.approvalId, 'erin', 'approve');
    expect((await json<{ outcome: string }>(second)).outcome).toBe('completed');
    expect(await finalStatus(rt, approval.executionArn)).toBe('SUCCEEDED');

    // The other way round: Alice votes herself, then her delegate is refused.
    const next = await openedBy('dave', 3, STRICT);
    expect((await decideAs(rt, next.approvalId, 'alice', 'approve')).status).toBe(200);
    expect(await errorOf(await decideAs(rt, next.approvalId, 'carol', 'approve'))).toEqual([
      409,
      'AlreadyVoted',
      'Alice has already voted on this request',
    ]);
    expect((await current(next.approvalId)).votes.map((v) => v.user)).toEqual(['alice']);
    expect((await decideAs(rt, next.approvalId, 'bob', 'reject', 'not now')).status).toBe(200);
  });

  it('survives a restart, ends with "delegate off", and the audit has each change', async () => {
    await rt.stop();
    rt = await start();
    expect((await delegationOf('alice')).delegation).toMatchObject({ user: 'alice', to: 'carol' });
    const during = await openedBy('dave', 2);
    expect(cardHolders(during.approvalId)).toEqual(['bob', 'carol']);

    expect((await consoleCommand(rt, 'alice', '代理解除')).text).toBe(
      'Carol への代理を終了しました。承認カードは再びあなたに届きます。',
    );
    expect((await consoleCommand(rt, 'alice', 'delegate off')).text).toBe('You have no delegation.');
    expect(await delegationOf('alice')).toEqual({ delegation: null, forOthers: [] });

    const after = await openedBy('dave', 2);
    expect(cardHolders(after.approvalId)).toEqual(['alice', 'bob']);
    // The card already with Carol is not re-sent, and Carol no longer decides for Alice.
    expect(cardHolders(during.approvalId)).toEqual(['bob', 'carol']);
    expect((await errorOf(await decideAs(rt, during.approvalId, 'carol', 'approve')))[1]).toBe(
      'NotAnApprover',
    );
    expect((await decideAs(rt, during.approvalId, 'alice', 'approve')).status).toBe(200);

    expect((await delegationRecords()).map((r) => [r.action, r.actor.user, r.outcome, r.detail?.to])).toEqual(
      [
        ['delegation.set', 'alice', 'set', 'carol'],
        ['delegation.cleared', 'alice', 'cleared', 'carol'],
      ],
    );
  });

  it('expires at its until: the next card goes to the approver again', async () => {
    // A delegation a few seconds long, through the API (a time with its zone).
    const until = new Date(Date.now() + 3000).toISOString();
    const set = await putDelegation({ actor: 'bob', to: 'dave', until });
    expect(set.status).toBe(200);
    expect((await json<{ delegation: Delegation }>(set)).delegation).toMatchObject({
      user: 'bob',
      to: 'dave',
      until,
    });
    const during = await openedBy('carol', 2);
    expect(cardHolders(during.approvalId)).toEqual(['alice', 'dave']);

    await eventually(async () => (await delegationOf('bob')).delegation === null, 'the delegation to expire');
    const after = await openedBy('carol', 2);
    expect(cardHolders(after.approvalId)).toEqual(['alice', 'bob']);
    expect((await errorOf(await decideAs(rt, during.approvalId, 'dave', 'approve')))[1]).toBe(
      'NotAnApprover',
    );
    // Expiry is read, not written: nothing was ended, so no `delegation.cleared` for Bob.
    expect((await delegationRecords()).filter((r) => r.detail?.user === 'bob').map((r) => r.action)).toEqual([
      'delegation.set',
    ]);
  });
});
