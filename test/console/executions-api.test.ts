import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  consoleCommand,
  json,
  openedMergeRequest,
  postGitLab,
  startTestRuntime,
  type TestRuntime,
} from '../support/runtime.ts';

type Listed = {
  executions: Array<{ executionArn: string; kind?: string }>;
  cursor?: string;
  cursors?: Record<string, string>;
};

let rt: TestRuntime;
const arns: { first: string; second: string; deploy: string } = { first: '', second: '', deploy: '' };

const list = async (query: string): Promise<Listed> =>
  json<Listed>(await fetch(`${rt.urls.app}/console/api/executions${query}`));

beforeAll(async () => {
  rt = await startTestRuntime();
  for (const [iid, key] of [
    [41, 'first'],
    [42, 'second'],
  ] as const) {
    const { hook } = openedMergeRequest(rt.gitlab, iid);
    arns[key] = (await json<{ executionArn: string }>(await postGitLab(rt.urls.app, hook))).executionArn;
  }
  // The newest execution is of another kind: a deploy asked for in the console.
  const notice = await consoleCommand(rt, 'alice', 'deploy test');
  const url = notice.links?.find((l) => l.label === 'Execution')?.url ?? '';
  arns.deploy = decodeURIComponent(url.split('/console/executions/')[1] ?? '');
  expect(arns.deploy).toContain(':execution:signoff-deploy:');
}, 60_000);

afterAll(async () => {
  await rt?.stop();
});

describe('GET /console/api/executions', () => {
  it('lists every kind when no kind is given, newest first, each row with its kind', async () => {
    for (const query of ['', '?kind=', '?kind=all']) {
      const page = await list(query);
      expect(
        page.executions.map((e) => [e.executionArn, e.kind]),
        query,
      ).toEqual([
        [arns.deploy, 'deploy'],
        [arns.second, 'merge-request'],
        [arns.first, 'merge-request'],
      ]);
      expect(page.cursors, query).toEqual({});
    }
  });

  it('goes on per kind: a kind with more names its cursor, which goes with that kind', async () => {
    const newest = await list('?limit=1');
    expect(newest.executions.map((e) => e.executionArn)).toEqual([arns.deploy]);
    const cursor = newest.cursors?.['merge-request'];
    expect(cursor).toBeTruthy();
    expect(Object.keys(newest.cursors ?? {})).toEqual(['merge-request']);

    const more = await list(`?kind=merge-request&limit=1&cursor=${encodeURIComponent(cursor ?? '')}`);
    expect(more.executions.map((e) => e.executionArn)).toEqual([arns.first]);

    const orphan = await fetch(
      `${rt.urls.app}/console/api/executions?cursor=${encodeURIComponent(cursor ?? '')}`,
    );
    expect(orphan.status).toBe(400);
    expect((await json<{ error: { message: string } }>(orphan)).error.message).toBe(
      'cursor goes with the kind it was returned for',
    );
  });

  it('lists one kind when asked, as before', async () => {
    const page = await list('?kind=merge-request');
    expect(page.executions.map((e) => e.executionArn)).toEqual([arns.second, arns.first]);
    expect(page).not.toHaveProperty('cursors');
    expect((await list('?kind=deploy')).executions.map((e) => e.executionArn)).toEqual([arns.deploy]);
  });
});
