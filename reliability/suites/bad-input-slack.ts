import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { DEFAULT_CONFIG_INPUT, parseConfig } from '../../core/config.ts';
import { startSignoff } from '../../local/start.ts';
import {
  blockActions,
  eventCallback,
  interactionBody,
  type SlackFake,
  slackHeaders,
  slackId,
  startSlackFake,
} from '../../test/fakes/slack.ts';
import { type Row, row } from '../report.ts';
import { deepJson, invalidUtf8, send, Tally, wrongField } from './fuzz.ts';

/**
 * Bad input for POST /webhooks/slack, on a runtime of its own with the Slack fake: unsigned,
 * mis-signed, stale, oversized, malformed or mistyped requests get a 4xx JSON error and make no
 * Web API call; a well-signed click on an unknown approval is answered (ephemeral, through its
 * response_url) and changes nothing; `ssl_check` is answered 200 and acts on nothing.
 */

const FORM = 'application/x-www-form-urlencoded';
const JSON_TYPE = 'application/json';

function slackMutation() {
  return fc.oneof(
    fc.record({
      kind: fc.constant('signature' as const),
      signature: fc.string({ unit: fc.constantFrom(...'0123456789abcdefv='), maxLength: 70 }),
    }),
    fc.record({ kind: fc.constant('no-headers' as const) }),
    fc.record({
      kind: fc.constant('wrong-secret' as const),
      secret: fc.string({ minLength: 1, maxLength: 40 }),
    }),
    fc.record({
      kind: fc.constant('stale' as const),
      skew: fc.integer({ min: 301, max: 10 * 365 * 86400 }),
      future: fc.boolean(),
    }),
    fc.record({
      kind: fc.constant('content-type' as const),
      type: fc.constantFrom('text/plain', 'multipart/form-data'),
    }),
    fc.record({ kind: fc.constant('huge' as const), extra: fc.integer({ min: 1, max: 256 * 1024 }) }),
    fc.record({ kind: fc.constant('invalid-utf8' as const), at: fc.nat() }),
    fc.record({ kind: fc.constant('deep' as const), depth: fc.integer({ min: 100, max: 200_000 }) }),
    fc.record({ kind: fc.constant('signed-form' as const), body: fc.string({ maxLength: 300 }) }),
    fc.record({ kind: fc.constant('signed-json' as const), value: fc.jsonValue({ maxDepth: 3 }) }),
    wrongField({ user: 'object', actions: 'array', trigger_id: 'string', container: 'object' }).map((w) => ({
      kind: 'wrong-type' as const,
      ...w,
    })),
    fc.record({
      kind: fc.constant('wrong-approval' as const),
      id: fc.stringMatching(/^[A-Za-z0-9_-]{1,40}$/),
    }),
    fc.record({ kind: fc.constant('ssl-check' as const), extra: fc.string({ maxLength: 80 }) }),
  );
}

type Mutation = typeof slackMutation extends () => fc.Arbitrary<infer M> ? M : never;

function apply(url: string, slack: SlackFake, m: Mutation): Promise<Response> {
  const now = Math.floor(Date.now() / 1000);
  const click = (approvalId: string) =>
    blockActions({
      user: slackId('U'),
      actionId: 'signoff_approve',
      value: approvalId,
      channel: slackId('C'),
      ts: '1700000000.000100',
      triggerId: slack.triggerId(),
      responseUrl: slack.responseUrl(),
    });
  const good = interactionBody(click('aUnknownApproval000000'));
  const post = (body: string | Uint8Array<ArrayBuffer>, headers: Record<string, string>) =>
    fetch(url, { method: 'POST', headers, body });
  switch (m.kind) {
    case 'signature':
      return post(good, {
        ...slackHeaders(good, FORM, slack.signingSecret),
        'x-slack-signature': m.signature,
      });
    case 'wrong-secret':
      // A well-formed v0 signature, made with another secret: a forgery.
      return post(
        good,
        slackHeaders(good, FORM, m.secret === slack.signingSecret ? `${m.secret}x` : m.secret),
      );
    case 'no-headers':
      return post(good, { 'content-type': FORM });
    case 'stale':
      return post(
        good,
        slackHeaders(good, FORM, slack.signingSecret, m.future ? now + m.skew : now - m.skew),
      );
    case 'content-type':
      return post(good, { ...slackHeaders(good, FORM, slack.signingSecret), 'content-type': m.type });
    case 'huge': {
      const body = `${good}&pad=${'x'.repeat(1024 * 1024 + m.extra)}`;
      return post(body, slackHeaders(body, FORM, slack.signingSecret));
    }
    case 'invalid-utf8': {
      const bytes = invalidUtf8(good, m.at);
      return post(new Uint8Array(bytes), slackHeaders(good, FORM, slack.signingSecret));
    }
    case 'deep': {
      const body = deepJson(m.depth);
      return post(body, slackHeaders(body, JSON_TYPE, slack.signingSecret));
    }
    case 'signed-form':
      return post(m.body, slackHeaders(m.body, FORM, slack.signingSecret));
    case 'signed-json': {
      const body = JSON.stringify(m.value);
      return post(body, slackHeaders(body, JSON_TYPE, slack.signingSecret));
    }
    case 'wrong-type': {
      const payload: Record<string, unknown> = click('aUnknownApproval000000');
      payload[m.field] = m.value;
      const body = interactionBody(payload);
      return post(body, slackHeaders(body, FORM, slack.signingSecret));
    }
    case 'wrong-approval': {
      const body = interactionBody(click(m.id));
      return post(body, slackHeaders(body, FORM, slack.signingSecret));
    }
    case 'ssl-check': {
      const body = `ssl_check=1&token=${encodeURIComponent(m.extra)}&payload=${encodeURIComponent(JSON.stringify(click('aUnknownApproval000000')))}`;
      return post(body, { 'content-type': FORM });
    }
  }
}

/** Property-based bad input on POST /webhooks/slack (its own runtime and Slack fake). */
export async function slackBadInput(cases: number): Promise<Row> {
  const slack = await startSlackFake();
  const dataDir = mkdtempSync(join(tmpdir(), 'signoff-slack-fuzz-'));
  const runtime = await startSignoff({
    dataDir,
    host: '127.0.0.1',
    ports: { app: 0, sfn: 0, dynamo: 0, gitlabDemo: 0, lambdaDemo: 0 },
    env: {
      GITLAB_WEBHOOK_TOKEN: 'fuzz',
      SLACK_SIGNING_SECRET: slack.signingSecret,
      SLACK_BOT_TOKEN: slack.botToken,
      SLACK_API_URL: slack.apiUrl,
    },
    config: parseConfig(DEFAULT_CONFIG_INPUT),
    redeliverEveryMs: 0,
  });
  const url = `${runtime.urls.app}/webhooks/slack`;
  const tally = new Tally();
  try {
    await fc.assert(
      fc.asyncProperty(slackMutation(), async (m) => {
        const attempt = await send(() => apply(url, slack, m));
        if (m.kind === 'wrong-approval' && attempt.status === 200) return tally.acknowledge('answered');
        if (m.kind === 'ssl-check' && attempt.status === 200) return tally.acknowledge('ssl');
        // Well-signed but not ours (an unknown interaction or event type): acknowledged, ignored.
        if ((m.kind === 'signed-json' || m.kind === 'signed-form') && attempt.status === 200)
          return tally.acknowledge('ignored');
        tally.add(attempt, m);
      }),
      { numRuns: cases },
    );
    // A help DM, well signed, shows the route answers at all (one message): the refusals were refusals.
    const dm = JSON.stringify(
      eventCallback(
        { type: 'message', channel_type: 'im', channel: 'D0FUZZ0001', user: slackId('U'), text: 'help' },
        slack.botUserId,
      ),
    );
    await fetch(url, { method: 'POST', headers: slackHeaders(dm, JSON_TYPE, slack.signingSecret), body: dm });
    const calls = slack.requests.filter((r) => r.method !== 'conversations.open');
    const effects = calls.length - 1 + slack.views.length;
    const answered = slack.responses.length - tally.count('answered');
    return row(
      'bad input: /webhooks/slack',
      tally.tried,
      0,
      Math.max(0, effects) + Math.abs(answered) + tally.accepted,
      tally.fiveXX,
      `${tally.rejected} rejected, ${tally.count('answered')} clicks on unknown approvals answered to the clicker alone, ${tally.count('ssl')} ssl_checks and ${tally.count('ignored')} well-signed requests not for us acknowledged without effect${tally.slipped()}`,
    );
  } finally {
    await runtime.close();
    await slack.close();
    rmSync(dataDir, { recursive: true, force: true });
  }
}
