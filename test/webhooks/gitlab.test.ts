import { ListExecutionsCommand } from '@aws-sdk/client-sfn';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  openedMergeRequest,
  postGitLab,
  startTestRuntime,
  type TestRuntime,
  WEBHOOK_TOKEN,
} from '../support/runtime.ts';

const MACHINE = 'arn:aws:states:us-east-1:123456789012:stateMachine:signoff-merge-request';

let rt: TestRuntime;
let hook: object;
beforeAll(async () => {
  rt = await startTestRuntime();
  hook = openedMergeRequest(rt.gitlab, 1).hook;
});
afterAll(async () => {
  await rt.stop();
});

async function executionCount(): Promise<number> {
  const out = await rt.sfn.send(new ListExecutionsCommand({ stateMachineArn: MACHINE }));
  return out.executions?.length ?? 0;
}

function withAttributes(changes: Record<string, unknown>): object {
  const copy = structuredClone(hook) as { object_attributes: Record<string, unknown> };
  Object.assign(copy.object_attributes, changes);
  return copy;
}

describe('POST /webhooks/gitlab with bad input', () => {
  const cases: Array<[string, () => Promise<Response>, number]> = [
    ['no token', () => postGitLab(rt.urls.app, hook, { 'x-gitlab-token': '' }), 401],
    ['a wrong token', () => postGitLab(rt.urls.app, hook, { 'x-gitlab-token': `${WEBHOOK_TOKEN}x` }), 401],
    [
      'a token differing in its last character',
      () => postGitLab(rt.urls.app, hook, { 'x-gitlab-token': `${WEBHOOK_TOKEN.slice(0, -1)}X` }),
      401,
    ],
    ['malformed JSON', () => postGitLab(rt.urls.app, '{"object_kind":'), 400],
    ['an empty body', () => postGitLab(rt.urls.app, ''), 400],
    ['a JSON array', () => postGitLab(rt.urls.app, '[]'), 400],
    [
      'the wrong content type',
      () => postGitLab(rt.urls.app, JSON.stringify(hook), { 'content-type': 'text/plain' }),
      415,
    ],
    [
      'an oversized body',
      () => postGitLab(rt.urls.app, JSON.stringify({ pad: 'x'.repeat(2 * 1024 * 1024) })),
      413,
    ],
    [
      'an unknown event header',
      () => postGitLab(rt.urls.app, hook, { 'x-gitlab-event': 'Made Up Hook' }),
      400,
    ],
    ['no event header', () => postGitLab(rt.urls.app, hook, { 'x-gitlab-event': '' }), 400],
    ['a wrong field type', () => postGitLab(rt.urls.app, withAttributes({ iid: 'one' })), 400],
    [
      'a bad commit id',
      () => postGitLab(rt.urls.app, withAttributes({ last_commit: { id: 'not-a-sha' } })),
      400,
    ],
    [
      'invalid UTF-8',
      () => postGitLab(rt.urls.app, Buffer.from([0x7b, 0xff, 0xfe, 0x7d]) as unknown as string),
      400,
    ],
  ];

  for (const [name, send, status] of cases) {
    it(`answers ${status} with a JSON error for ${name}, and starts nothing`, async () => {
      const response = await send();
      expect(response.status).toBe(status);
      const body = (await response.json()) as { error?: { code?: string; message?: string } };
      expect(body.error?.message).toEqual(expect.any(String));
      expect(JSON.stringify(body)).not.toContain(WEBHOOK_TOKEN);
      expect(await executionCount()).toBe(0);
    });
  }

  it('acknowledges events it does not act on without starting anything', async () => {
    const response = await postGitLab(
      rt.urls.app,
      { object_kind: 'push' },
      { 'x-gitlab-event': 'Push Hook' },
    );
    expect(response.status).toBe(202);
    expect(await executionCount()).toBe(0);
  });

  it('ignores merge request actions that need no approval', async () => {
    const response = await postGitLab(rt.urls.app, withAttributes({ action: 'approved' }));
    expect(response.status).toBe(202);
    expect(await response.json()).toMatchObject({ ignored: expect.any(String) });
    expect(await executionCount()).toBe(0);
  });
});
