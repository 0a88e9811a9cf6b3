import fc from 'fast-check';
import { type Row, row } from '../report.ts';
import { loadApprover, WEBHOOK_TOKEN, type World } from '../world.ts';
import { send, Tally } from './fuzz.ts';

/** Bodies and headers made invalid in one of many ways, from a valid signed GitLab webhook. */
function gitlabMutation(hook: object) {
  const valid = JSON.stringify(hook);
  // A value of the wrong type for each field: never one the schema would accept.
  const notString = fc.oneof(
    fc.integer(),
    fc.boolean(),
    fc.constant(null),
    fc.array(fc.integer(), { maxLength: 3 }),
    fc.dictionary(fc.string(), fc.integer(), { maxKeys: 2 }),
  );
  const notPositiveInteger = fc.oneof(
    fc.string(),
    fc.boolean(),
    fc.constant(null),
    fc.integer({ max: 0 }),
    fc.double({ noInteger: true }),
    fc.array(fc.integer(), { maxLength: 3 }),
  );
  const notSha = fc.oneof(
    notString,
    fc.string().filter((v) => !/^[0-9a-f]{7,64}$/.test(v)),
  );
  const wrongType = fc.oneof(
    fc.record({
      path: fc.constant(['object_kind']),
      value: fc.oneof(
        notString,
        fc.string().filter((v) => v !== 'merge_request'),
      ),
    }),
    fc.record({ path: fc.constant(['project', 'id']), value: notPositiveInteger }),
    fc.record({ path: fc.constant(['project', 'path_with_namespace']), value: notString }),
    fc.record({ path: fc.constant(['object_attributes', 'iid']), value: notPositiveInteger }),
    fc.record({ path: fc.constant(['object_attributes', 'last_commit', 'id']), value: notSha }),
    fc.record({ path: fc.constant(['object_attributes', 'source_branch']), value: notString }),
    fc.record({ path: fc.constant(['user', 'username']), value: notString }),
  );
  return fc.oneof(
    fc.record({
      kind: fc.constant('token' as const),
      token: fc.string({ maxLength: 60 }).filter((t) => t !== WEBHOOK_TOKEN),
    }),
    fc.record({
      kind: fc.constant('truncated-token' as const),
      cut: fc.integer({ min: 0, max: WEBHOOK_TOKEN.length - 1 }),
    }),
    fc.record({ kind: fc.constant('no-token' as const) }),
    fc.record({
      kind: fc.constant('content-type' as const),
      type: fc.constantFrom(
        'text/plain',
        'application/x-www-form-urlencoded',
        'multipart/form-data',
        'application/jsonp',
        'text/json',
      ),
    }),
    fc.record({
      kind: fc.constant('truncated-body' as const),
      cut: fc.integer({ min: 0, max: valid.length - 1 }),
    }),
    fc.record({ kind: fc.constant('invalid-utf8' as const), at: fc.integer({ min: 0, max: valid.length }) }),
    fc.record({ kind: fc.constant('deep' as const), depth: fc.integer({ min: 100, max: 200_000 }) }),
    fc.record({ kind: fc.constant('huge' as const), extra: fc.integer({ min: 1, max: 512 * 1024 }) }),
    wrongType.map((w) => ({ kind: 'wrong-type' as const, ...w })),
    fc.record({
      kind: fc.constant('event' as const),
      event: fc
        .string({ minLength: 1, maxLength: 40 })
        .filter((e) => /^[\x21-\x7e ]+$/.test(e) && !e.trim().endsWith(' Hook')),
    }),
    fc.record({
      kind: fc.constant('not-object' as const),
      value: fc.oneof(fc.integer(), fc.string(), fc.array(fc.integer())),
    }),
  );
}

type GitLabMutation = ReturnType<typeof gitlabMutation> extends fc.Arbitrary<infer T> ? T : never;

function applyGitLab(world: World, hook: object, m: GitLabMutation, maxBody: number): Promise<Response> {
  const valid = JSON.stringify(hook);
  switch (m.kind) {
    case 'token':
      return world.postGitLab(hook, { 'x-gitlab-token': m.token });
    case 'truncated-token':
      return world.postGitLab(hook, { 'x-gitlab-token': WEBHOOK_TOKEN.slice(0, m.cut) });
    case 'no-token':
      return world.postGitLab(hook, { 'x-gitlab-token': '' });
    case 'content-type':
      return world.postGitLab(hook, { 'content-type': m.type });
    case 'truncated-body':
      return world.postGitLab(valid.slice(0, m.cut));
    case 'invalid-utf8': {
      const bytes = Buffer.from(valid);
      const body = Buffer.concat([bytes.subarray(0, m.at), Buffer.from([0xc3, 0x28]), bytes.subarray(m.at)]);
      return fetch(`${world.runtime.app}/webhooks/gitlab`, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          'x-gitlab-event': 'Merge Request Hook',
          'x-gitlab-token': WEBHOOK_TOKEN,
        },
        body,
      });
    }
    case 'deep':
      return world.postGitLab('['.repeat(m.depth) + ']'.repeat(m.depth));
    case 'huge':
      return world.postGitLab(JSON.stringify({ ...hook, pad: 'x'.repeat(maxBody + m.extra) }));
    case 'wrong-type': {
      const copy = structuredClone(hook) as Record<string, unknown>;
      let node: Record<string, unknown> = copy;
      for (const key of m.path.slice(0, -1)) node = node[key] as Record<string, unknown>;
      node[m.path.at(-1) as string] = m.value;
      return world.postGitLab(copy);
    }
    case 'event':
      return world.postGitLab(hook, { 'x-gitlab-event': m.event });
    case 'not-object':
      return world.postGitLab(JSON.stringify(m.value));
  }
}

/**
 * Property-based bad input on POST /webhooks/gitlab: every case a 4xx JSON error, nothing
 * started; a well-authenticated unknown event type is acknowledged (200) and ignored.
 */
export async function gitlabBadInput(world: World, cases: number, hook: object): Promise<Row> {
  const before = await world.effects();
  const tally = new Tally();
  await fc.assert(
    fc.asyncProperty(gitlabMutation(hook), async (m) => {
      const attempt = await send(() => applyGitLab(world, hook, m, 1024 * 1024));
      // A 4xx would count towards GitLab disabling the hook: counted as no effect below.
      if (m.kind === 'event' && attempt.status === 200) return tally.acknowledge('ignored');
      tally.add(attempt, m);
    }),
    { numRuns: cases },
  );
  const after = await world.effects();
  const changed = after.executions - before.executions + (after.gitlabWrites - before.gitlabWrites);
  return row(
    'bad input: /webhooks/gitlab',
    tally.tried,
    0,
    changed + tally.accepted,
    tally.fiveXX,
    `${tally.rejected} rejected with a JSON error, ${tally.count('ignored')} unknown event types acknowledged and ignored${tally.slipped()}`,
  );
}

/** Bad input on the console decision API: malformed bodies, unknown ids and actors. */
export async function consoleBadInput(world: World, cases: number, pendingApprovalId: string): Promise<Row> {
  const before = await world.effects();
  const tally = new Tally();
  const bodies = fc.oneof(
    fc.jsonValue({ maxDepth: 3 }).map((v) => JSON.stringify(v)),
    fc
      .record({ decision: fc.string(), actor: fc.constantFrom('bob', 'carol') })
      .map((v) => JSON.stringify(v)),
    fc
      .record({
        decision: fc.constantFrom('approve', 'reject'),
        actor: fc.string({ maxLength: 80 }).filter((a) => !['bob', 'carol', 'alice'].includes(a)),
      })
      .map((v) => JSON.stringify(v)),
    fc.string({ maxLength: 200 }),
  );
  await fc.assert(
    fc.asyncProperty(bodies, fc.boolean(), async (body, known) => {
      const id = known ? pendingApprovalId : 'unknown-approval-id';
      tally.add(
        await send(() =>
          fetch(`${world.runtime.app}/console/api/approvals/${id}/decision`, {
            method: 'POST',
            // Signed in as someone who may not decide this approval: the body (its actor
            // included) must not change that, and nothing in it may be a 5xx.
            headers: { 'content-type': 'application/json', ...world.auth(loadApprover(1).user) },
            body,
          }),
        ),
      );
    }),
    { numRuns: cases },
  );
  const after = await world.effects();
  return row(
    'bad input: console decision API',
    tally.tried,
    0,
    after.votes - before.votes + tally.accepted,
    tally.fiveXX,
    `${tally.rejected} rejected with a JSON error${tally.slipped()}`,
  );
}
