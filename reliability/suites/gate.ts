/**
 * The gate, tried as an attacker and a clumsy user would (issue "The gate holds"): forged
 * resumes, buttons tapped twice, and a crash between a decision and its resume. Every figure
 * is counted from what happened (executions, merges, audit records, cards), never assumed.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import {
  GetExecutionHistoryCommand,
  ListExecutionsCommand,
  SendTaskSuccessCommand,
} from '@aws-sdk/client-sfn';
import { decide } from '../../core/approvals/decide.ts';
import { createApprovalStore } from '../../core/approvals/store.ts';
import { postDingTalk, robotMessage } from '../../test/fakes/dingtalk.ts';
import { cardActionEvent, messageEvent } from '../../test/fakes/lark.ts';
import { linePostbackEvent, lineTextEvent, lineWebhook, signLineBody } from '../../test/fakes/line.ts';
import { blockActions, eventCallback, interactionBody, slackHeaders } from '../../test/fakes/slack.ts';
import { type Row, row } from '../report.ts';
import { waitFor } from '../runtime.ts';
import { DINGTALK_IDS, LARK, LINE_IDS, OPEN_IDS, SLACK_IDS, startWorld, type World } from '../world.ts';

const DEPLOY = 'arn:aws:states:us-east-1:123456789012:stateMachine:signoff-deploy';

function mergeCalls(world: World, iid: number): number {
  return world.gitlab.requests.filter(
    (r) => r.method === 'PUT' && r.path.endsWith(`/projects/9/merge_requests/${iid}/merge`),
  ).length;
}

async function failureOf(world: World, executionArn: string): Promise<string | undefined> {
  const history = await world.sfn.send(new GetExecutionHistoryCommand({ executionArn, reverseOrder: true }));
  return history.events?.find((e) => e.type === 'ExecutionFailed')?.executionFailedEventDetails?.error;
}

/** The waiting task's token, read from GetExecutionHistory as anyone with that permission can. */
async function tokenOf(world: World, executionArn: string): Promise<string> {
  return waitFor(async () => {
    const history = await world.sfn.send(new GetExecutionHistoryCommand({ executionArn }));
    for (const event of history.events ?? []) {
      const parameters = event.taskScheduledEventDetails?.parameters;
      if (!parameters) continue;
      const token = (JSON.parse(parameters) as { Payload?: { taskToken?: string } }).Payload?.taskToken;
      if (token) return token;
    }
    return undefined;
  }, 'the task token');
}

/**
 * `SendTaskSuccess {"decision":"approve"}` with a real token straight to the Step Functions
 * endpoint: the effect counted is a refusal (execution FAILED with ApprovalNotGrantedError,
 * `approval.forged_resume` audited, no merge); a merge is a duplicated effect.
 */
export async function forgedResume(world: World, count: number, firstIid: number): Promise<Row> {
  let refused = 0;
  let merged = 0;
  for (let i = 0; i < count; i++) {
    const iid = firstIid + i;
    const { executionArn } = await world.pendingMergeRequest(iid);
    const taskToken = await tokenOf(world, executionArn);
    await world.sfn.send(
      new SendTaskSuccessCommand({ taskToken, output: JSON.stringify({ decision: 'approve' }) }),
    );
    await world.ended(executionArn);
    const audited = (await world.audit(executionArn)).some((r) => r.action === 'approval.forged_resume');
    if ((await failureOf(world, executionArn)) === 'ApprovalNotGrantedError' && audited) refused++;
    merged += mergeCalls(world, iid);
  }
  const result = row('gate: forged SendTaskSuccess', count, count, refused, 0, `${merged} merge(s) made`);
  return { ...result, duplicated: result.duplicated + merged };
}

async function deployExecutions(world: World): Promise<number> {
  let total = 0;
  let nextToken: string | undefined;
  do {
    const out = await world.sfn.send(new ListExecutionsCommand({ stateMachineArn: DEPLOY, nextToken }));
    total += out.executions?.length ?? 0;
    nextToken = out.nextToken;
  } while (nextToken);
  return total;
}

function postLine(world: World, events: unknown[]): Promise<Response> {
  const body = JSON.stringify(lineWebhook(events, world.line.botUserId));
  return fetch(`${world.runtime.app}/webhooks/line`, {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      'x-line-signature': signLineBody(body, world.line.channelSecret),
    },
    body,
  });
}

/** The newest button `value`/`data` offering `command` that was sent on each platform. */
function lastLineButton(world: World, command: string): string | undefined {
  let found: string | undefined;
  JSON.stringify(
    world.line.messages.map((m) => m.message),
    (key, value) => {
      if (key === 'data' && typeof value === 'string' && value.endsWith(`&c=${command}`)) found = value;
      return value;
    },
  );
  return found;
}

function lastLarkButton(world: World, command: string): Record<string, unknown> | undefined {
  let found: Record<string, unknown> | undefined;
  JSON.stringify(
    [...world.lark.messages.values()].map((m) => m.content),
    (_key, value) => {
      if (
        value &&
        typeof value === 'object' &&
        (value as { command?: unknown }).command === command &&
        'key' in value
      )
        found = value as Record<string, unknown>;
      return value;
    },
  );
  return found;
}

/**
 * A deploy button tapped twice 100 ms apart, and one of the taps delivered twice, on LINE and
 * on Lark: one execution per button.
 */
export async function doubleTap(world: World, count: number): Promise<Row> {
  const before = await deployExecutions(world);
  let tried = 0;
  let fiveXX = 0;
  const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
  for (let i = 0; i < count; i++) {
    await postLine(world, [lineTextEvent('deploy', { userId: LINE_IDS.bob as string })]);
    const data = await waitFor(async () => lastLineButton(world, 'deploy test'), 'the LINE environment list');
    const tap = linePostbackEvent(data, { userId: LINE_IDS.bob as string });
    const again = linePostbackEvent(data, { userId: LINE_IDS.bob as string });
    const line = await Promise.all([
      postLine(world, [tap]),
      postLine(world, [{ ...tap, deliveryContext: { isRedelivery: true } }]),
      sleep(100).then(() => postLine(world, [again])),
    ]);

    const seen = lastLarkButton(world, 'deploy test');
    await world.postLark(
      messageEvent({
        token: LARK.verificationToken,
        text: 'deploy',
        openId: OPEN_IDS.bob as string,
        chatType: 'p2p',
      }),
    );
    const value = await waitFor(async () => {
      const latest = lastLarkButton(world, 'deploy test');
      return latest !== seen && latest;
    }, 'the Lark environment list');
    const click = cardActionEvent({ token: LARK.verificationToken, openId: OPEN_IDS.bob as string, value });
    const second = cardActionEvent({ token: LARK.verificationToken, openId: OPEN_IDS.bob as string, value });
    const lark = await Promise.all([
      world.postLark(click),
      world.postLark(click),
      sleep(100).then(() => world.postLark(second)),
    ]);
    const responses = [...line, ...lark];
    tried += responses.length;
    fiveXX += responses.filter((r) => r.status >= 500).length;
  }
  const started = (await deployExecutions(world)) - before;
  return row(
    'gate: deploy button tapped twice + redelivered (LINE, Lark)',
    tried,
    count * 2,
    started,
    fiveXX,
    'effect = executions',
  );
}

/**
 * The same on Slack and DingTalk, on a runtime of their own (the main world talks to Lark and
 * LINE): bob asks to deploy in his Slack DM and to the DingTalk robot; on Slack the "test"
 * button is clicked twice at once and again 100 ms later; on DingTalk the "test" tap-to-send
 * link sends its message, that message is delivered again (same msgId), and a second tap sends
 * it anew (another msgId). One deploy per offer.
 */
export async function doubleTapSlackDingTalk(count: number): Promise<Row> {
  const world = await startWorld({ platforms: ['slack', 'dingtalk'] });
  try {
    const before = await deployExecutions(world);
    const { slack, dingtalk } = world;
    const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
    const postSlack = (body: string, type: 'application/json' | 'application/x-www-form-urlencoded') =>
      fetch(`${world.runtime.app}/webhooks/slack`, {
        method: 'POST',
        headers: slackHeaders(body, type, slack.signingSecret),
        body,
      });
    const robot = `${world.runtime.app}/webhooks/dingtalk`;
    const bobSays = (text: string) =>
      robotMessage(dingtalk, text, { senderStaffId: DINGTALK_IDS.bob as string, senderNick: 'Bob' });
    let tried = 0;
    let fiveXX = 0;
    for (let i = 0; i < count; i++) {
      const dm = slack.dmOf(SLACK_IDS.bob as string);
      const seen = slack.messages.length;
      const ask = eventCallback(
        { type: 'message', channel_type: 'im', channel: dm, user: SLACK_IDS.bob, text: 'deploy' },
        slack.botUserId,
      );
      const asked = await postSlack(JSON.stringify(ask), 'application/json');
      const offer = await waitFor(async () => {
        for (const message of slack.messages.slice(seen)) {
          const found = JSON.stringify(message.blocks).match(
            /"action_id":"(signoff_command:\d+)","value":"((?:[^"\\]|\\.)*deploy test(?:[^"\\]|\\.)*)"/,
          );
          if (message.channel === dm && found?.[1] && found[2])
            return { message, actionId: found[1], value: JSON.parse(`"${found[2]}"`) as string };
        }
        return undefined;
      }, 'the Slack environment buttons');
      const tap = () =>
        postSlack(
          interactionBody(
            blockActions({
              user: SLACK_IDS.bob as string,
              actionId: offer.actionId,
              value: offer.value,
              channel: offer.message.channel,
              ts: offer.message.ts,
              triggerId: slack.triggerId(),
              responseUrl: slack.responseUrl(),
              blocks: offer.message.blocks,
            }),
          ),
          'application/x-www-form-urlencoded',
        );
      const slackTaps = await Promise.all([tap(), tap(), sleep(100).then(tap)]);

      const seenRobot = dingtalk.messages.length;
      const askedRobot = await postDingTalk(robot, bobSays('deploy'), dingtalk.appSecret);
      const sent = await waitFor(async () => {
        const found = /sendMessage\?content=(deploy%20test(?:%20%23[\w-]+)?)\)/.exec(
          JSON.stringify(dingtalk.messages.slice(seenRobot)),
        )?.[1];
        return found && decodeURIComponent(found);
      }, 'the DingTalk environment links');
      const first = bobSays(sent);
      // Each delivery signs its own timestamp: one sign seen with two msgIds is refused as a replay.
      const dingtalkTaps = [
        await postDingTalk(robot, first, dingtalk.appSecret),
        await sleep(5).then(() => postDingTalk(robot, first, dingtalk.appSecret)),
        await sleep(5).then(() => postDingTalk(robot, bobSays(sent), dingtalk.appSecret)),
      ];
      const responses = [asked, ...slackTaps, askedRobot, ...dingtalkTaps];
      tried += slackTaps.length + dingtalkTaps.length;
      fiveXX += responses.filter((r) => r.status >= 500).length;
    }
    const started = (await deployExecutions(world)) - before;
    return row(
      'gate: deploy choice tapped twice + redelivered (Slack, DingTalk)',
      tried,
      count * 2,
      started,
      fiveXX,
      'effect = executions',
    );
  } finally {
    await world.close();
  }
}

/**
 * kill -9 between a decision's write and its resume (the vote and its outbox entry written as
 * the runtime writes them, then the process dies): after the restart, without clicking again,
 * the execution merges once, bob's and carol's Lark cards show the decision and the audit has
 * the vote and the decision once each.
 */
export async function crashBetweenDecisionAndResume(world: World, iid: number): Promise<Row> {
  const { executionArn, approval } = await world.pendingMergeRequest(iid);
  const withCards = await waitFor(async () => {
    const current = await world.pendingApproval(executionArn);
    return current.cards.filter((c) => c.platform === 'lark').length >= 2 && current;
  }, 'the Lark cards');
  const dynamo = new DynamoDBClient({
    region: 'us-east-1',
    endpoint: world.runtime.dynamo,
    credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
  });
  try {
    await decide(createApprovalStore(dynamo, 'signoff'), {
      approvalId: approval.approvalId,
      actor: { platform: 'lark', id: OPEN_IDS.bob as string, name: 'Bob', user: 'bob' },
      decision: 'approve',
      now: new Date(),
    });
  } finally {
    dynamo.destroy();
  }
  await world.runtime.kill();
  await world.runtime.restart();
  const status = await world.ended(executionArn, 90_000);
  const merged = world.gitlab.mergeRequest(9, iid)?.state === 'merged' ? 1 : 0;
  const updated = withCards.cards
    .filter((c) => c.platform === 'lark')
    .filter((ref) =>
      JSON.stringify(world.lark.messages.get(ref.id)?.patches.at(-1) ?? '').includes('Approved'),
    ).length;
  const records = await world.audit(executionArn);
  const votes = records.filter((r) => r.action === 'approval.vote').length;
  const decisions = records.filter((r) => r.action === 'approval.decided').length;
  const result = row(
    'crash: kill -9 between decision and resume',
    1,
    5,
    merged + Math.min(updated, 2) + Math.min(votes, 1) + Math.min(decisions, 1),
    0,
    `execution ${status}; ${mergeCalls(world, iid)} merge call(s); ${updated} of 2 cards updated; ${votes} vote and ${decisions} decision record(s)`,
  );
  return {
    ...result,
    duplicated: Math.max(0, mergeCalls(world, iid) - 1) + Math.max(0, votes - 1) + Math.max(0, decisions - 1),
  };
}

/** Every task token the engine ever issued, read from its journal (the values, not the word). */
function issuedTokens(world: World): string[] {
  const path = join(world.runtime.dataDir, 'engine', 'journal.ndjson');
  const tokens = new Set<string>();
  for (const line of readFileSync(path, 'utf8').split('\n')) {
    // Token values sit in `taskToken` fields (and in the recorded Payload of task events).
    for (const m of line.matchAll(/"taskToken":"([^"]{16,})"/g)) tokens.add(m[1] as string);
  }
  return [...tokens];
}

/**
 * No task token leaves the server: every token the engine issued during the run, searched for
 * in what Signoff sent out (every Lark, LINE, Slack, DingTalk and GitLab call the fakes
 * recorded), in every line the runtime logged (at `npm start`'s level, across its restarts),
 * and in what its own API and console answer, lists and single pages. The Step Functions API's
 * history shows tokens, as AWS's does; it is not Signoff's answer and is not searched.
 */
export async function tokenLeaks(world: World, label = ''): Promise<Row> {
  const tokens = issuedTokens(world);
  const app = world.runtime.app;
  const get = async (path: string) => (await fetch(`${app}${path}`, { headers: world.auth() })).text();
  const lists = await Promise.all(
    [
      '/console/api/approvals?status=pending&limit=1000',
      '/console/api/approvals?status=approved&limit=1000',
      '/console/api/approvals?status=cancelled&limit=1000',
      '/console/api/executions?kind=merge-request',
      '/console/api/audit/export?format=json',
      '/console/api/notifications?user=alice',
      '/console',
      '/console/executions',
      '/console/audit',
    ].map(get),
  );
  // One approval of each state, and its execution: the single pages, as a person opens them.
  const singles: string[] = [];
  for (const list of lists.slice(0, 3)) {
    const approval = (JSON.parse(list) as { approvals: Array<{ approvalId: string; executionArn: string }> })
      .approvals[0];
    if (!approval) continue;
    const arn = encodeURIComponent(approval.executionArn);
    singles.push(
      `/console/approvals/${approval.approvalId}`,
      `/console/api/approvals/${approval.approvalId}`,
      `/console/executions/${arn}`,
      `/console/api/executions/${arn}`,
    );
  }
  const pages = [...lists, ...(await Promise.all(singles.map(get)))];
  const logged = readFileSync(world.runtime.outputFile, 'utf8');
  const calls = [
    ...world.lark.requests,
    ...world.line.requests,
    ...world.slack.requests,
    ...world.dingtalk.requests,
    ...world.gitlab.requests,
  ];
  const sent = [
    JSON.stringify(calls),
    JSON.stringify([...world.lark.messages.values()]),
    logged,
    ...pages,
  ].join('\n');
  const leaked = tokens.filter((token) => sent.includes(token));
  const result = row(
    `gate: task tokens in chat calls and Signoff answers${label}`,
    tokens.length,
    0,
    leaked.length,
    0,
    `${tokens.length} issued tokens searched in ${calls.length} outgoing calls, ${logged.split('\n').length - 1} log lines and ${pages.length} answers (${singles.length} single pages)`,
  );
  // Searching nothing proves nothing.
  if (tokens.length === 0) return { ...result, lost: 1, note: 'no token found in the journal to search for' };
  if (singles.length === 0 || logged.length === 0)
    return { ...result, lost: 1, note: `${result.note}: nothing to search in single pages or logs` };
  return result;
}
