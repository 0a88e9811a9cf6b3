import {
  DescribeExecutionCommand,
  GetExecutionHistoryCommand,
  SendTaskFailureCommand,
  SendTaskHeartbeatCommand,
  SendTaskSuccessCommand,
  StartExecutionCommand,
} from '@aws-sdk/client-sfn';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  errorName,
  fakeFunctions,
  fixture,
  machineArn,
  removeDir,
  startEngine,
  type TestEngine,
  waitFor,
} from './helpers.ts';

let t: TestEngine;
let fns: ReturnType<typeof fakeFunctions>;

beforeEach(async () => {
  fns = fakeFunctions();
  t = await startEngine({ invokeFunction: fns.invokeFunction });
});
afterEach(async () => {
  await t.close();
  removeDir(t.dir);
});

async function start(machine: string, name: string, input: unknown): Promise<string> {
  const started = await t.client.send(
    new StartExecutionCommand({ stateMachineArn: machineArn(machine), name, input: JSON.stringify(input) }),
  );
  return started.executionArn ?? '';
}

async function describe_(executionArn: string) {
  return t.client.send(new DescribeExecutionCommand({ executionArn }));
}

async function finished(executionArn: string) {
  return waitFor(async () => {
    const described = await describe_(executionArn);
    return described.status === 'RUNNING' ? undefined : described;
  });
}

async function historyTypes(executionArn: string): Promise<string[]> {
  const history = await t.client.send(new GetExecutionHistoryCommand({ executionArn }));
  return history.events?.map((event) => event.type ?? '') ?? [];
}

async function approveFlow(id: string, extra: Record<string, unknown> = {}): Promise<string> {
  const arn = await start('approval', id, { id, timeoutSeconds: 60, ...extra });
  await t.engine.idle();
  const token = fns.tokens().at(-1);
  await t.client.send(
    new SendTaskSuccessCommand({ taskToken: token, output: JSON.stringify({ approved: true }) }),
  );
  await t.engine.idle();
  return arn;
}

describe('local engine: task tokens', () => {
  it('gives each task entry a fresh url-safe token and the AWS context', async () => {
    await start('approval', 'ctx-1', { id: 'ctx-1', timeoutSeconds: 60 });
    await start('approval', 'ctx-2', { id: 'ctx-2', timeoutSeconds: 60 });
    await t.engine.idle();
    const [first, second] = fns.tokens();
    expect(first).toMatch(/^[A-Za-z0-9._-]{40,2048}$/);
    expect(second).not.toBe(first);
    const payload = fns.invocations[0]?.payload;
    expect(payload).toMatchObject({
      executionId: 'arn:aws:states:us-east-1:123456789012:execution:approval:ctx-1',
      stateName: 'WaitForDecision',
      input: { request: { id: 'ctx-1', timeoutSeconds: 60 }, startedBy: 'ctx-1' },
    });
  });

  it('continues with the SendTaskSuccess output, and a second answer gets TaskDoesNotExist', async () => {
    const arn = await start('approval', 'yes', { id: 'yes', timeoutSeconds: 60 });
    await t.engine.idle();
    const [token] = fns.tokens();
    expect(
      await errorName(t.client.send(new SendTaskSuccessCommand({ taskToken: token, output: 'not json' }))),
    ).toBe('InvalidOutput');
    await t.client.send(
      new SendTaskSuccessCommand({ taskToken: token, output: JSON.stringify({ approved: false }) }),
    );
    const done = await finished(arn);
    expect(done).toMatchObject({ status: 'FAILED', error: 'Rejected', cause: 'the change was rejected' });
    expect(
      await errorName(t.client.send(new SendTaskSuccessCommand({ taskToken: token, output: '{}' }))),
    ).toBe('TaskDoesNotExist');
    expect(await errorName(t.client.send(new SendTaskFailureCommand({ taskToken: token })))).toBe(
      'TaskDoesNotExist',
    );
  });

  it('fails the task with the SendTaskFailure error and cause', async () => {
    const arn = await start('approval', 'no', { id: 'no', timeoutSeconds: 60 });
    await t.engine.idle();
    const [token] = fns.tokens();
    await t.client.send(
      new SendTaskFailureCommand({ taskToken: token, error: 'Denied', cause: 'not today' }),
    );
    const done = await finished(arn);
    expect(done).toMatchObject({ status: 'FAILED', error: 'Denied', cause: 'not today' });
    expect(await historyTypes(arn)).toContain('TaskFailed');
  });

  it('answers unknown and malformed tokens with InvalidToken', async () => {
    for (const taskToken of ['nope', 'x'.repeat(3000), 'sfo1.AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA']) {
      expect(await errorName(t.client.send(new SendTaskSuccessCommand({ taskToken, output: '{}' })))).toBe(
        'InvalidToken',
      );
      expect(await errorName(t.client.send(new SendTaskHeartbeatCommand({ taskToken })))).toBe(
        'InvalidToken',
      );
    }
  });

  it('times the task out (States.Timeout, caught) and then answers TaskTimedOut', async () => {
    const arn = await start('approval', 'slow', { id: 'slow', timeoutSeconds: 1 });
    await t.engine.idle();
    const [token] = fns.tokens();
    const done = await finished(arn);
    expect(done).toMatchObject({ status: 'FAILED', error: 'ApprovalTimedOut' });
    expect(await historyTypes(arn)).toContain('TaskTimedOut');
    expect(
      await errorName(t.client.send(new SendTaskSuccessCommand({ taskToken: token, output: '{}' }))),
    ).toBe('TaskTimedOut');
  });

  it('keeps a task alive with heartbeats and times it out without them', async () => {
    const beating = await start('heartbeat', 'beating', {});
    const quiet = await start('heartbeat', 'quiet', {});
    await t.engine.idle();
    const [beatToken, quietToken] = fns.tokens('start-work');
    // Heartbeats every 300 ms for well over the 1 s heartbeat period.
    for (let i = 0; i < 8; i++) {
      await t.client.send(new SendTaskHeartbeatCommand({ taskToken: beatToken }));
      await new Promise((resolve) => setTimeout(resolve, 300));
    }
    const quietDone = await finished(quiet);
    expect(quietDone).toMatchObject({ status: 'FAILED', error: 'Abandoned' });
    expect(await errorName(t.client.send(new SendTaskHeartbeatCommand({ taskToken: quietToken })))).toBe(
      'TaskTimedOut',
    );
    expect((await describe_(beating)).status).toBe('RUNNING');
    await t.client.send(new SendTaskSuccessCommand({ taskToken: beatToken, output: '{"ok":true}' }));
    expect(await finished(beating)).toMatchObject({ status: 'SUCCEEDED', output: '{"ok":true}' });
  });
});

describe('local engine: Retry and Catch', () => {
  it('retries on the thrown error name and exposes $$.State.RetryCount', async () => {
    const arn = await approveFlow('flaky', { failTimes: 1 });
    const done = await finished(arn);
    expect(done.status).toBe('SUCCEEDED');
    const calls = fns.invocations.filter((call) => call.functionName === 'execute-change');
    expect(calls.map((call) => call.payload.retryCount)).toEqual([0, 1]);
    const types = await historyTypes(arn);
    expect(types.filter((type) => type === 'TaskFailed')).toHaveLength(1);
  });

  it('catches a thrown error by name', async () => {
    const done = await finished(await approveFlow('broken', { permanent: true }));
    expect(done).toMatchObject({ status: 'FAILED', error: 'ExecuteFailed' });
  });

  it('reports a plain Error as States.TaskFailed with a Lambda-shaped cause', async () => {
    const done = await finished(await approveFlow('plain', { plain: true }));
    expect(done.status).toBe('FAILED');
    expect(done.error).toBe('States.TaskFailed');
    expect(JSON.parse(done.cause ?? '')).toEqual({ errorMessage: 'plain failure', errorType: 'Error' });
  });
});

describe('local engine: plain Lambda function ARN', () => {
  it('invokes the function with the ARN and records LambdaFunction events', async () => {
    const arn = await start('direct', 'direct', { who: 'bob' });
    const done = await finished(arn);
    expect(done.status).toBe('SUCCEEDED');
    expect(JSON.parse(done.output ?? '')).toEqual({ who: 'bob', notified: { received: true } });
    expect(fns.invocations[0]).toEqual({
      functionName: 'arn:aws:lambda:us-east-1:123456789012:function:notify',
      payload: { message: 'hello bob' },
    });
    expect(await historyTypes(arn)).toEqual([
      'ExecutionStarted',
      'TaskStateEntered',
      'LambdaFunctionScheduled',
      'LambdaFunctionStarted',
      'LambdaFunctionSucceeded',
      'TaskStateExited',
      'WaitStateEntered',
      'WaitStateExited',
      'SucceedStateEntered',
      'SucceedStateExited',
      'ExecutionSucceeded',
    ]);
  });
});

describe('local engine: Map and Parallel', () => {
  it('runs tasks nested in Map and Parallel through invokeFunction', async () => {
    const calls: string[] = [];
    const nested = await startEngine({
      stateMachines: [{ name: 'nested', definition: fixture('nested') }],
      async invokeFunction(functionName, payload) {
        calls.push(functionName);
        return functionName === 'each' ? { doubled: Number(payload) * 2 } : 'right';
      },
    });
    try {
      const started = await nested.client.send(
        new StartExecutionCommand({
          stateMachineArn: machineArn('nested'),
          input: JSON.stringify({ items: [1, 2] }),
        }),
      );
      await nested.engine.idle();
      const done = await nested.client.send(
        new DescribeExecutionCommand({ executionArn: started.executionArn }),
      );
      expect(done.status).toBe('SUCCEEDED');
      expect(JSON.parse(done.output ?? '')).toEqual({
        items: [1, 2],
        mapped: [{ value: { doubled: 2 } }, { value: { doubled: 4 } }],
        both: ['left', 'right'],
      });
      expect(calls.sort()).toEqual(['arn:aws:lambda:us-east-1:123456789012:function:right', 'each', 'each']);
      const history = await nested.client.send(
        new GetExecutionHistoryCommand({ executionArn: started.executionArn }),
      );
      const types = history.events?.map((event) => event.type) ?? [];
      expect(types).toContain('MapStateEntered');
      expect(types).toContain('MapIterationStarted');
      expect(types.at(-1)).toBe('ExecutionSucceeded');
    } finally {
      await nested.close();
      removeDir(nested.dir);
    }
  });
});

describe('local engine: execution TimeoutSeconds', () => {
  it('times the whole execution out and invalidates its token', async () => {
    const definition = JSON.stringify({
      TimeoutSeconds: 1,
      StartAt: 'Wait',
      States: {
        Wait: {
          Type: 'Task',
          Resource: 'arn:aws:states:::lambda:invoke.waitForTaskToken',
          Parameters: { FunctionName: 'request-approval', Payload: { 'taskToken.$': '$$.Task.Token' } },
          TimeoutSeconds: 600,
          End: true,
        },
      },
    });
    const calls = fakeFunctions();
    const timed = await startEngine({
      stateMachines: [{ name: 'timed', definition }],
      invokeFunction: calls.invokeFunction,
    });
    try {
      const started = await timed.client.send(
        new StartExecutionCommand({ stateMachineArn: machineArn('timed') }),
      );
      const done = await waitFor(async () => {
        const described = await timed.client.send(
          new DescribeExecutionCommand({ executionArn: started.executionArn }),
        );
        return described.status === 'RUNNING' ? undefined : described;
      });
      expect(done).toMatchObject({ status: 'TIMED_OUT', error: 'States.Timeout' });
      const [token] = calls.tokens();
      expect(
        await errorName(timed.client.send(new SendTaskSuccessCommand({ taskToken: token, output: '{}' }))),
      ).toBe('TaskDoesNotExist');
      const history = await timed.client.send(
        new GetExecutionHistoryCommand({ executionArn: started.executionArn }),
      );
      expect(history.events?.at(-1)?.type).toBe('ExecutionTimedOut');
    } finally {
      await timed.close();
      removeDir(timed.dir);
    }
  });
});
