import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { afterEach, describe, expect, it } from 'vitest';
import { createApprovalStore } from '../../core/approvals/store.ts';
import type { LogLevel } from '../../local/start.ts';
import { taskFailureLog } from '../../tasks/failure-log.ts';
import {
  decideAs,
  finalStatus,
  json,
  openedMergeRequest,
  pendingFor,
  postGitLab,
  startTestRuntime,
  type TestRuntime,
} from '../support/runtime.ts';

const ARN = 'arn:aws:states:us-east-1:123456789012:execution:signoff-merge-request:mr-1';

describe('taskFailureLog', () => {
  it('names the task, the execution, the error and its causes by name and message only', () => {
    const socket = Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:9'), { code: 'ECONNREFUSED' });
    const request = Object.assign(new Error('fetch failed', { cause: socket }), {
      request: { headers: { 'PRIVATE-TOKEN': 'glpat-secret' } },
      name: 'TypeError',
    });
    const error = new Error('gitlab merge !1: fetch failed', { cause: request });
    error.name = 'GitLabUnavailableError';
    expect(taskFailureLog('merge-request', { executionArn: ARN, input: { any: 'thing' } }, error)).toEqual({
      task: 'merge-request',
      executionId: ARN,
      errorName: 'GitLabUnavailableError',
      error: 'gitlab merge !1: fetch failed',
      cause: 'TypeError: fetch failed ← Error: connect ECONNREFUSED 127.0.0.1:9',
    });
  });

  it('cuts the payload task token out of every message, and long messages short', () => {
    const token = 'sfo1.AAAAtokenvalueBBBB';
    const error = new Error(`no approval stored for ${token}`, {
      cause: new Error(`x${'y'.repeat(400)}${token}`),
    });
    const line = taskFailureLog('request-approval', { executionArn: ARN, taskToken: token }, error);
    expect(JSON.stringify(line)).not.toContain(token);
    expect(line.error).toBe('no approval stored for [task token]');
    expect(line.cause?.length).toBeLessThan(320);
  });

  it('describes a thrown non-Error by its type, and ends the chain at a cause that is not an Error', () => {
    expect(taskFailureLog('notify', null, { secret: 'hunter2' })).toEqual({
      task: 'notify',
      errorName: 'object',
      error: 'a thrown object',
    });
    const withRequest = new Error('500 Internal Server Error', {
      cause: { request: { headers: { 'PRIVATE-TOKEN': 'glpat-secret' } }, response: { body: 'raw' } },
    });
    const line = taskFailureLog('merge-request', { executionArn: ARN }, withRequest);
    expect(line).not.toHaveProperty('cause');
    expect(JSON.stringify(line)).not.toMatch(/glpat-secret|raw/);
  });
});

describe('a failing task on the embedded runtime', () => {
  let rt: TestRuntime | undefined;
  afterEach(async () => {
    await rt?.stop();
    rt = undefined;
  });

  it('logs one error line with the cause, never the task token, and the retry goes on', async () => {
    const lines: Array<{ level: LogLevel; message: string; fields?: Record<string, unknown> }> = [];
    rt = await startTestRuntime(
      undefined,
      undefined,
      {},
      {
        log: (level, message, fields) => lines.push({ level, message, ...(fields ? { fields } : {}) }),
      },
    );
    const { hook } = openedMergeRequest(rt.gitlab, 51);
    const { executionArn } = await json<{ executionArn: string }>(await postGitLab(rt.urls.app, hook));
    const approval = await pendingFor(rt, executionArn);
    const dynamo = new DynamoDBClient({
      region: 'us-east-1',
      endpoint: rt.urls.dynamo,
      credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
    });
    const token = (await createApprovalStore(dynamo, 'signoff').getTaskToken(approval.approvalId)) ?? '';
    dynamo.destroy();
    expect(token.length).toBeGreaterThan(10);

    // GitLab answers the merge with a 500 once: the attempt fails, the ASL retries it, the retry merges.
    rt.gitlab.failNext(1, { status: 500 }, '/merge_requests/51/merge');
    expect((await decideAs(rt, approval.approvalId, 'bob', 'approve')).status).toBe(200);
    expect(await finalStatus(rt, executionArn)).toBe('SUCCEEDED');
    expect(rt.gitlab.mergeRequest(7, 51)?.state).toBe('merged');

    const errors = lines.filter((line) => line.level === 'error');
    expect(errors).toEqual([
      {
        level: 'error',
        message: 'task failed',
        fields: {
          task: 'merge-request',
          executionId: executionArn,
          errorName: 'GitLabUnavailableError',
          error: expect.stringContaining('500'),
          // GitLab's answer, by name and message; its request (token header included) is not logged.
          cause: 'GitbeakerRequestError: 500 Internal Server Error',
        },
      },
    ]);
    for (const line of lines) expect(JSON.stringify(line)).not.toContain(token);
  }, 60_000);
});
