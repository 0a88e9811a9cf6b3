import { createHash, createHmac } from 'node:crypto';
import fc from 'fast-check';
import { cardActionEvent, larkEncrypt, messageEvent } from '../../test/fakes/lark.ts';
import { type Row, row } from '../report.ts';
import { LARK, LINE_IDS, OPEN_IDS, type World } from '../world.ts';
import { deepJson, invalidUtf8, larkEncryptBytes, send, Tally, wrongField } from './fuzz.ts';

/** Bad input for the chat routes: Lark and LINE requests made invalid in many ways. */

function larkMutation() {
  return fc.oneof(
    fc.record({
      kind: fc.constant('signature' as const),
      signature: fc.string({ unit: fc.constantFrom(...'0123456789abcdef'), maxLength: 64 }),
    }),
    fc.record({ kind: fc.constant('no-headers' as const) }),
    fc.record({
      kind: fc.constant('stale' as const),
      skew: fc.integer({ min: 301, max: 10 * 365 * 86400 }),
      future: fc.boolean(),
    }),
    fc.record({
      kind: fc.constant('token' as const),
      token: fc.string({ maxLength: 40 }).filter((t) => t !== LARK.verificationToken),
    }),
    fc.record({ kind: fc.constant('ciphertext' as const), text: fc.string({ maxLength: 200 }) }),
    fc.record({ kind: fc.constant('plaintext' as const), value: fc.jsonValue({ maxDepth: 3 }) }),
    fc.record({
      kind: fc.constant('content-type' as const),
      type: fc.constantFrom('text/plain', 'application/x-www-form-urlencoded'),
    }),
    fc.record({ kind: fc.constant('huge' as const), extra: fc.integer({ min: 1, max: 256 * 1024 }) }),
    fc.record({
      kind: fc.constant('wrong-approval' as const),
      id: fc.string({ minLength: 1, maxLength: 40 }),
    }),
    fc.record({ kind: fc.constant('deep' as const), depth: fc.integer({ min: 100, max: 200_000 }) }),
    fc.record({ kind: fc.constant('invalid-utf8' as const), at: fc.nat() }),
    wrongField({
      header: 'object',
      event: 'object',
      operator: 'object',
      action: 'object',
      event_type: 'string',
      event_id: 'string',
      open_id: 'string',
    }).map((w) => ({ kind: 'wrong-type' as const, ...w })),
    fc.record({
      kind: fc.constant('unknown-event' as const),
      type: fc.oneof(
        fc.constantFrom(
          'im.chat.member.bot.added_v1',
          'im.message.reaction.created_v1',
          'contact.user.created_v3',
        ),
        fc.string({ minLength: 1, maxLength: 40 }),
      ),
    }),
  );
}

type LarkMutation = ReturnType<typeof larkMutation> extends fc.Arbitrary<infer T> ? T : never;

function signedRaw(raw: string, timestamp: number, nonce = 'n0nce'): Record<string, string> {
  return {
    'content-type': 'application/json',
    'x-lark-request-timestamp': String(timestamp),
    'x-lark-request-nonce': nonce,
    'x-lark-signature': createHash('sha256')
      .update(`${timestamp}${nonce}${LARK.encryptKey}${raw}`)
      .digest('hex'),
  };
}

async function applyLark(world: World, m: LarkMutation, approvalId: string): Promise<Response> {
  const url = `${world.runtime.app}/webhooks/lark`;
  const now = Math.floor(Date.now() / 1000);
  const event = messageEvent({
    token: LARK.verificationToken,
    text: 'help',
    openId: OPEN_IDS.bob as string,
    chatType: 'p2p',
  });
  const post = (body: string, headers: Record<string, string>) =>
    fetch(url, { method: 'POST', headers, body });
  const encrypted = (value: unknown) =>
    JSON.stringify({ encrypt: larkEncrypt(JSON.stringify(value), LARK.encryptKey) });
  switch (m.kind) {
    case 'signature': {
      const raw = encrypted(event);
      return post(raw, { ...signedRaw(raw, now), 'x-lark-signature': m.signature });
    }
    case 'no-headers':
      return post(encrypted(event), { 'content-type': 'application/json' });
    case 'stale': {
      const raw = encrypted(event);
      return post(raw, signedRaw(raw, m.future ? now + m.skew : now - m.skew));
    }
    case 'token': {
      const raw = encrypted({ ...event, header: { ...event.header, token: m.token } });
      return post(raw, signedRaw(raw, now));
    }
    case 'ciphertext': {
      const raw = JSON.stringify({ encrypt: Buffer.from(m.text).toString('base64') });
      return post(raw, signedRaw(raw, now));
    }
    case 'plaintext': {
      const raw = encrypted(m.value);
      return post(raw, signedRaw(raw, now));
    }
    case 'content-type': {
      const raw = encrypted(event);
      return post(raw, { ...signedRaw(raw, now), 'content-type': m.type });
    }
    case 'huge': {
      const raw = JSON.stringify({ encrypt: 'A'.repeat(1024 * 1024 + m.extra) });
      return post(raw, signedRaw(raw, now));
    }
    case 'wrong-approval': {
      // A well-signed click on an approval id that does not exist, or on another (decided) execution's.
      const click = cardActionEvent({
        token: LARK.verificationToken,
        openId: OPEN_IDS.bob as string,
        value: { approvalId: m.id.length % 2 === 0 ? approvalId : m.id, decision: 'approve' },
      });
      const raw = encrypted(click);
      return post(raw, signedRaw(raw, now));
    }
    case 'deep': {
      const raw = JSON.stringify({
        encrypt: larkEncryptBytes(Buffer.from(deepJson(m.depth)), LARK.encryptKey),
      });
      return post(raw, signedRaw(raw, now));
    }
    case 'invalid-utf8': {
      const bytes = invalidUtf8(JSON.stringify(event), m.at % JSON.stringify(event).length);
      const raw = JSON.stringify({ encrypt: larkEncryptBytes(bytes, LARK.encryptKey) });
      return post(raw, signedRaw(raw, now));
    }
    case 'wrong-type': {
      // A well-signed click on the decided approval with one field of the wrong type.
      const click = cardActionEvent({
        token: LARK.verificationToken,
        openId: OPEN_IDS.bob as string,
        value: { approvalId, decision: 'approve' },
      }) as { header: Record<string, unknown>; event: Record<string, unknown> };
      const eventPart = click.event as { action: Record<string, unknown> };
      const operator = click.event.operator as Record<string, unknown>;
      if (m.field === 'header' || m.field === 'event') Object.assign(click, { [m.field]: m.value });
      else if (m.field === 'event_type' || m.field === 'event_id') click.header[m.field] = m.value;
      else if (m.field === 'open_id') operator.open_id = m.value;
      else if (m.field === 'action') eventPart.action = m.value as unknown as Record<string, unknown>;
      else click.event[m.field] = m.value;
      const raw = encrypted(click);
      return post(raw, signedRaw(raw, now));
    }
    case 'unknown-event': {
      const raw = encrypted({ ...event, header: { ...event.header, event_type: m.type } });
      return post(raw, signedRaw(raw, now));
    }
  }
}

/**
 * Property-based bad input on POST /webhooks/lark: unsigned, stale, wrong-token, corrupt or
 * oversized requests get a 4xx JSON error; well-signed clicks on decided or unknown approvals
 * are answered (200, a toast) and change nothing.
 */
export async function larkBadInput(world: World, cases: number, decidedApprovalId: string): Promise<Row> {
  const before = await world.effects();
  const tally = new Tally();
  await fc.assert(
    fc.asyncProperty(larkMutation(), async (m) => {
      const attempt = await send(() => applyLark(world, m, decidedApprovalId));
      if (m.kind === 'wrong-approval' && attempt.status === 200) return tally.acknowledge('answered');
      // An event Signoff does not subscribe to, well signed, is acknowledged (a 4xx would make
      // Lark redeliver it four times over seven hours) and ignored: counted as no effect below.
      if (m.kind === 'unknown-event' && attempt.status === 200) return tally.acknowledge('ignored');
      tally.add(attempt, m);
    }),
    { numRuns: cases },
  );
  const after = await world.effects();
  const changed =
    after.executions -
    before.executions +
    (after.votes - before.votes) +
    (after.chatMessages - before.chatMessages);
  return row(
    'bad input: /webhooks/lark',
    tally.tried,
    0,
    changed + tally.accepted,
    tally.fiveXX,
    `${tally.rejected} rejected, ${tally.count('answered')} clicks on decided/unknown approvals answered without effect, ${tally.count('ignored')} unknown event types acknowledged and ignored${tally.slipped()}`,
  );
}

function lineMutation() {
  return fc.oneof(
    fc.record({ kind: fc.constant('no-signature' as const) }),
    fc.record({ kind: fc.constant('signature' as const), signature: fc.base64String({ maxLength: 64 }) }),
    fc.record({ kind: fc.constant('truncated-signature' as const), cut: fc.integer({ min: 0, max: 43 }) }),
    fc.record({
      kind: fc.constant('changed-after-signing' as const),
      at: fc.nat(),
      char: fc.string({ minLength: 1, maxLength: 1 }),
    }),
    fc.record({
      kind: fc.constant('content-type' as const),
      type: fc.constantFrom('text/plain', 'application/x-www-form-urlencoded'),
    }),
    fc.record({ kind: fc.constant('huge' as const), extra: fc.integer({ min: 1, max: 256 * 1024 }) }),
    fc.record({
      kind: fc.constant('signed-garbage' as const),
      value: fc
        .oneof(
          fc.string(),
          fc.jsonValue({ maxDepth: 3 }).map((v) => JSON.stringify(v)),
        )
        .filter((t) => !/"events"/.test(t)),
    }),
    fc.record({
      kind: fc.constant('wrong-approval' as const),
      id: fc.stringMatching(/^[A-Za-z0-9_-]{1,40}$/),
    }),
    fc.record({ kind: fc.constant('deep' as const), depth: fc.integer({ min: 100, max: 200_000 }) }),
    fc.record({ kind: fc.constant('invalid-utf8' as const), at: fc.nat() }),
    wrongField({
      events: 'array',
      event: 'object',
      type: 'string',
      postback: 'object',
      data: 'string',
      source: 'object',
      userId: 'string',
      webhookEventId: 'string',
    }).map((w) => ({ kind: 'wrong-type' as const, ...w })),
    fc.record({
      kind: fc.constant('unknown-event' as const),
      type: fc.oneof(
        fc.constantFrom('beacon', 'memberJoined', 'videoPlayComplete', 'accountLink', 'things'),
        fc.string({ minLength: 1, maxLength: 30 }),
      ),
    }),
  );
}

type LineMutation = ReturnType<typeof lineMutation> extends fc.Arbitrary<infer T> ? T : never;

async function applyLine(
  world: World,
  m: LineMutation,
  secret: string,
  decidedApprovalId: string,
): Promise<Response> {
  const { signLineBody, lineWebhook, lineTextEvent, linePostbackEvent } = await import(
    '../../test/fakes/line.ts'
  );
  const { decisionData } = await import('../../chat/line/postback.ts');
  const url = `${world.runtime.app}/webhooks/line`;
  const post = (body: string, headers: Record<string, string>) =>
    fetch(url, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body });
  const valid = JSON.stringify(lineWebhook([lineTextEvent('help', { userId: LINE_IDS.bob as string })]));
  const signature = signLineBody(valid, secret);
  switch (m.kind) {
    case 'no-signature':
      return post(valid, {});
    case 'signature':
      return post(valid, { 'x-line-signature': m.signature === signature ? `${m.signature}x` : m.signature });
    case 'truncated-signature':
      return post(valid, { 'x-line-signature': signature.slice(0, m.cut) });
    case 'changed-after-signing': {
      const at = m.at % valid.length;
      const changed = valid.slice(0, at) + m.char + valid.slice(at + 1);
      return post(changed === valid ? `${valid} ` : changed, { 'x-line-signature': signature });
    }
    case 'content-type':
      return post(valid, { 'x-line-signature': signature, 'content-type': m.type });
    case 'huge': {
      const body = JSON.stringify({ destination: 'U0', events: [], pad: 'x'.repeat(1024 * 1024 + m.extra) });
      return post(body, { 'x-line-signature': signLineBody(body, secret) });
    }
    case 'signed-garbage':
      return post(m.value, { 'x-line-signature': signLineBody(m.value, secret) });
    case 'wrong-approval': {
      const id = m.id.length % 2 === 0 ? decidedApprovalId : m.id;
      const body = JSON.stringify(
        lineWebhook([linePostbackEvent(decisionData(id, 'approve'), { userId: LINE_IDS.carol as string })]),
      );
      return post(body, { 'x-line-signature': signLineBody(body, secret) });
    }
    case 'deep': {
      const body = deepJson(m.depth);
      return post(body, { 'x-line-signature': signLineBody(body, secret) });
    }
    case 'invalid-utf8': {
      const bytes = invalidUtf8(valid, m.at % valid.length);
      const signature = createHmac('sha256', secret).update(bytes).digest('base64');
      return fetch(url, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'x-line-signature': signature },
        body: new Uint8Array(bytes),
      });
    }
    case 'wrong-type': {
      // A well-signed postback on the decided approval with one field of the wrong type.
      const event = linePostbackEvent(decisionData(decidedApprovalId, 'approve'), {
        userId: LINE_IDS.carol as string,
      }) as Record<string, unknown> & { postback: Record<string, unknown>; source: Record<string, unknown> };
      const webhook: Record<string, unknown> = lineWebhook([event]);
      if (m.field === 'events') webhook.events = m.value;
      else if (m.field === 'event') webhook.events = [m.value];
      else if (m.field === 'data') event.postback.data = m.value;
      else if (m.field === 'userId') event.source.userId = m.value;
      else event[m.field] = m.value;
      const body = JSON.stringify(webhook);
      return post(body, { 'x-line-signature': signLineBody(body, secret) });
    }
    case 'unknown-event': {
      const body = JSON.stringify(
        lineWebhook([{ ...lineTextEvent('help', { userId: LINE_IDS.bob as string }), type: m.type }]),
      );
      return post(body, { 'x-line-signature': signLineBody(body, secret) });
    }
  }
}

/**
 * Property-based bad input on POST /webhooks/line: unsigned, mis-signed, altered, oversized or
 * malformed requests get a 4xx JSON error and send nothing; well-signed clicks on decided or
 * unknown approvals are answered with one reply and change nothing.
 */
export async function lineBadInput(world: World, cases: number, decidedApprovalId: string): Promise<Row> {
  const before = await world.effects();
  const tally = new Tally();
  await fc.assert(
    fc.asyncProperty(lineMutation(), async (m) => {
      const attempt = await send(() => applyLine(world, m, world.line.channelSecret, decidedApprovalId));
      if (m.kind === 'wrong-approval' && attempt.status === 200) return tally.acknowledge('answered');
      if (m.kind === 'signed-garbage' && attempt.status === 200) return tally.acknowledge('garbage');
      // An event type Signoff does not handle, well signed, is acknowledged (LINE redelivers
      // non-2xx answers) and ignored: counted as no effect below.
      if (m.kind === 'unknown-event' && attempt.status === 200) return tally.acknowledge('ignored');
      tally.add(attempt, m);
    }),
    { numRuns: cases },
  );
  // Replies to clicks on decided/unknown approvals go out a moment after the 200.
  await new Promise((resolve) => setTimeout(resolve, 500));
  const after = await world.effects();
  const changed =
    after.executions -
    before.executions +
    (after.votes - before.votes) +
    (after.chatMessages - before.chatMessages - tally.count('answered'));
  return row(
    'bad input: /webhooks/line',
    tally.tried,
    0,
    Math.max(0, changed) + tally.accepted,
    tally.fiveXX,
    `${tally.rejected} rejected, ${tally.count('answered')} clicks on decided/unknown approvals answered without effect, ${tally.count('ignored')} unknown event types acknowledged and ignored${tally.slipped()}`,
  );
}
