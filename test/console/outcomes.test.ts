import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../../bin/signoff.ts';
import { buildMergeRequestHook } from '../../local/demo/gitlab.ts';
import {
  decideAs as decide,
  finalOutcome,
  json,
  openedMergeRequest,
  pendingFor,
  postGitLab,
  startTestRuntime,
  type TestRuntime,
} from '../support/runtime.ts';

let rt: TestRuntime;
const arns: Record<'approved' | 'rejected' | 'cancelled', string> = {
  approved: '',
  rejected: '',
  cancelled: '',
};

async function opened(iid: number): Promise<string> {
  const { hook } = openedMergeRequest(rt.gitlab, iid);
  return (await json<{ executionArn: string }>(await postGitLab(rt.urls.app, hook))).executionArn;
}

beforeAll(async () => {
  rt = await startTestRuntime();
  arns.approved = await opened(61);
  arns.rejected = await opened(62);
  arns.cancelled = await opened(63);
  await decide(rt, (await pendingFor(rt, arns.approved)).approvalId, 'bob', 'approve');
  await decide(rt, (await pendingFor(rt, arns.rejected)).approvalId, 'carol', 'reject', 'not this sprint');
  await pendingFor(rt, arns.cancelled);
  const mr = rt.gitlab.mergeRequest(7, 63);
  if (!mr) throw new Error('MR vanished');
  const closed = buildMergeRequestHook(mr, {
    action: 'close',
    actor: { username: 'alice' },
    baseUrl: rt.gitlab.url,
  });
  expect((await postGitLab(rt.urls.app, closed)).ok).toBe(true);
  expect(await finalOutcome(rt, arns.approved)).toEqual({ status: 'SUCCEEDED' });
  expect(await finalOutcome(rt, arns.rejected)).toEqual({
    status: 'FAILED',
    error: 'Signoff.Rejected',
    cause: 'not this sprint',
  });
  expect(await finalOutcome(rt, arns.cancelled)).toEqual({
    status: 'FAILED',
    error: 'Signoff.Cancelled',
    cause: 'merge request closed in GitLab by alice',
  });
}, 60_000);

afterAll(async () => {
  await rt?.stop();
});

type Listed = { executions: Array<{ executionArn: string; status: string; error?: string; cause?: string }> };

describe('how a run ended, in the execution list', () => {
  it('the API lists each FAILED run with its error and cause, and filters on the error', async () => {
    const all = await json<Listed>(await fetch(`${rt.urls.app}/console/api/executions?kind=merge-request`));
    const byArn = new Map(all.executions.map((e) => [e.executionArn, e]));
    expect(byArn.get(arns.approved)).not.toHaveProperty('error');
    expect(byArn.get(arns.rejected)).toMatchObject({ error: 'Signoff.Rejected', cause: 'not this sprint' });
    expect(byArn.get(arns.cancelled)).toMatchObject({ error: 'Signoff.Cancelled' });

    for (const [status, expected] of [
      ['Signoff.Rejected', [arns.rejected]],
      ['Signoff.Cancelled', [arns.cancelled]],
      ['Signoff.Expired', []],
      ['SUCCEEDED', [arns.approved]],
    ] as const) {
      const page = await json<Listed>(
        await fetch(`${rt.urls.app}/console/api/executions?kind=merge-request&status=${status}`),
      );
      expect(
        page.executions.map((e) => e.executionArn),
        status,
      ).toEqual(expected);
    }
    const wrong = await fetch(
      `${rt.urls.app}/console/api/executions?kind=merge-request&status=Signoff.Merged`,
    );
    expect(wrong.status).toBe(400);
    const mixed = await fetch(
      `${rt.urls.app}/console/api/executions?kind=merge-request&status=SUCCEEDED&error=Signoff.Rejected`,
    );
    expect(mixed.status).toBe(400);
  });

  it('the executions page offers the outcomes as a filter and shows the error of each FAILED row', async () => {
    const html = await (
      await fetch(`${rt.urls.app}/console/executions?kind=merge-request&status=Signoff.Rejected`)
    ).text();
    expect(html).toContain('<option value="Signoff.Rejected" selected="">Signoff.Rejected</option>');
    expect(html).toContain(`data-execution-arn="${arns.rejected}"`);
    expect(html).not.toContain(`data-execution-arn="${arns.cancelled}"`);
    expect(html).toMatch(/class="execution-error" title="not this sprint">\s*Signoff\.Rejected/);
  });

  it('signoff executions shows the error of a FAILED run and takes it as --status', async () => {
    const env = { AWS_ENDPOINT_URL_SFN: rt.urls.sfn, AWS_ENDPOINT_URL_DYNAMODB: rt.urls.dynamo };
    let out = '';
    const code = await runCli(
      ['executions', '--kind', 'merge-request', '--status', 'Signoff.Cancelled'],
      env,
      {
        out: (t) => (out += t),
        err: () => {},
      },
    );
    expect(code).toBe(0);
    const [header, ...rows] = out.trim().split('\n');
    expect(header).toMatch(/^NAME\s+STATUS\s+ERROR\s+STARTED/);
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatch(/\sFAILED\s+Signoff\.Cancelled\s/);
    expect(rows[0]).toContain(arns.cancelled);
  });
});
