import {
  DescribeExecutionCommand,
  DescribeStateMachineCommand,
  DescribeStateMachineForExecutionCommand,
  GetExecutionHistoryCommand,
  ListExecutionsCommand,
  ListStateMachinesCommand,
  SendTaskSuccessCommand,
  StartExecutionCommand,
  StopExecutionCommand,
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
} from './helpers.ts';

const APPROVAL = machineArn('approval');
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

async function start(name: string, input: unknown = { id: name, timeoutSeconds: 60 }) {
  return t.client.send(
    new StartExecutionCommand({ stateMachineArn: APPROVAL, name, input: JSON.stringify(input) }),
  );
}

async function post(target: string | undefined, body: string) {
  const response = await fetch(t.url, {
    method: 'POST',
    headers: {
      'content-type': 'application/x-amz-json-1.0',
      ...(target !== undefined && { 'x-amz-target': target }),
    },
    body,
  });
  return { status: response.status, body: (await response.json()) as { __type?: string } };
}

describe('local engine: state machines', () => {
  it('lists and describes the configured state machines', async () => {
    const list = await t.client.send(new ListStateMachinesCommand({}));
    expect(list.stateMachines?.map((machine) => machine.name)).toEqual(['approval', 'direct', 'heartbeat']);
    expect(list.stateMachines?.[0]?.creationDate).toBeInstanceOf(Date);
    const described = await t.client.send(new DescribeStateMachineCommand({ stateMachineArn: APPROVAL }));
    expect(described).toMatchObject({ name: 'approval', status: 'ACTIVE', type: 'STANDARD' });
    expect(described.definition).toBe(fixture('approval'));
    expect(described.roleArn).toMatch(/^arn:aws:iam::123456789012:role\//);
  });

  it('names the AWS errors for unknown and malformed state machine ARNs', async () => {
    expect(
      await errorName(
        t.client.send(new DescribeStateMachineCommand({ stateMachineArn: machineArn('nope') })),
      ),
    ).toBe('StateMachineDoesNotExist');
    expect(
      await errorName(t.client.send(new DescribeStateMachineCommand({ stateMachineArn: 'not-an-arn' }))),
    ).toBe('InvalidArn');
    expect(
      await errorName(
        t.client.send(new StartExecutionCommand({ stateMachineArn: machineArn('nope'), input: '{}' })),
      ),
    ).toBe('StateMachineDoesNotExist');
  });
});

describe('local engine: StartExecution', () => {
  it('returns the original execution for the same name and input while it runs', async () => {
    const first = await start('same');
    const again = await start('same');
    expect(again.executionArn).toBe(first.executionArn);
    expect(again.startDate?.getTime()).toBe(first.startDate?.getTime());
    expect(first.executionArn).toBe('arn:aws:states:us-east-1:123456789012:execution:approval:same');
    expect(await errorName(start('same', { other: true }))).toBe('ExecutionAlreadyExists');
  });

  it('refuses a name that belongs to a closed execution', async () => {
    const first = await start('closed');
    await t.client.send(new StopExecutionCommand({ executionArn: first.executionArn }));
    expect(await errorName(start('closed'))).toBe('ExecutionAlreadyExists');
  });

  it('validates the name and the input', async () => {
    for (const name of ['has space', 'a/b', 'x'.repeat(81), 'semi;colon', 'tab\there', 'emoji😀']) {
      expect(await errorName(start(name)), name).toBe('InvalidName');
    }
    expect(await errorName(start('x'.repeat(80)))).toBe('no error');
    expect(
      await errorName(
        t.client.send(new StartExecutionCommand({ stateMachineArn: APPROVAL, input: '{not json' })),
      ),
    ).toBe('InvalidExecutionInput');
  });

  it('generates a name when none is given', async () => {
    const started = await t.client.send(new StartExecutionCommand({ stateMachineArn: APPROVAL }));
    expect(started.executionArn).toMatch(/:execution:approval:[0-9a-f-]{36}$/);
  });
});

describe('local engine: executions', () => {
  it('describes an execution, its state machine, and names unknown ones', async () => {
    const { executionArn } = await start('describe-me');
    await t.engine.idle();
    const described = await t.client.send(new DescribeExecutionCommand({ executionArn }));
    expect(described).toMatchObject({ status: 'RUNNING', name: 'describe-me', stateMachineArn: APPROVAL });
    expect(JSON.parse(described.input ?? '')).toEqual({ id: 'describe-me', timeoutSeconds: 60 });
    expect(described.startDate).toBeInstanceOf(Date);
    expect(described.stopDate).toBeUndefined();
    const machine = await t.client.send(new DescribeStateMachineForExecutionCommand({ executionArn }));
    expect(machine.name).toBe('approval');
    expect(machine.definition).toBe(fixture('approval'));
    const missing = `${executionArn}-missing`;
    expect(await errorName(t.client.send(new DescribeExecutionCommand({ executionArn: missing })))).toBe(
      'ExecutionDoesNotExist',
    );
    expect(await errorName(t.client.send(new DescribeExecutionCommand({ executionArn: 'arn:nope' })))).toBe(
      'InvalidArn',
    );
  });

  it('lists executions newest first, filtered and paged', async () => {
    for (const name of ['e1', 'e2', 'e3']) {
      await start(name);
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
    await t.client.send(
      new StopExecutionCommand({ executionArn: `${APPROVAL.replace('stateMachine', 'execution')}:e2` }),
    );
    const all = await t.client.send(new ListExecutionsCommand({ stateMachineArn: APPROVAL }));
    expect(all.executions?.map((exec) => exec.name)).toEqual(['e3', 'e2', 'e1']);
    const running = await t.client.send(
      new ListExecutionsCommand({ stateMachineArn: APPROVAL, statusFilter: 'RUNNING' }),
    );
    expect(running.executions?.map((exec) => exec.name)).toEqual(['e3', 'e1']);
    const aborted = await t.client.send(
      new ListExecutionsCommand({ stateMachineArn: APPROVAL, statusFilter: 'ABORTED' }),
    );
    expect(aborted.executions?.[0]).toMatchObject({ name: 'e2', status: 'ABORTED' });
    expect(aborted.executions?.[0]?.stopDate).toBeInstanceOf(Date);
    const page1 = await t.client.send(
      new ListExecutionsCommand({ stateMachineArn: APPROVAL, maxResults: 2 }),
    );
    expect(page1.executions).toHaveLength(2);
    const page2 = await t.client.send(
      new ListExecutionsCommand({ stateMachineArn: APPROVAL, maxResults: 2, nextToken: page1.nextToken }),
    );
    expect(page2.executions?.map((exec) => exec.name)).toEqual(['e1']);
    expect(page2.nextToken).toBeUndefined();
    expect(
      await errorName(
        t.client.send(new ListExecutionsCommand({ stateMachineArn: APPROVAL, nextToken: 'garbage!' })),
      ),
    ).toBe('InvalidToken');
  });

  it('stops an execution: ABORTED, with the error and cause, and its token is gone', async () => {
    const { executionArn } = await start('stop-me');
    await t.engine.idle();
    const [token] = fns.tokens();
    const stopped = await t.client.send(
      new StopExecutionCommand({ executionArn, error: 'Cancelled', cause: 'by test' }),
    );
    expect(stopped.stopDate).toBeInstanceOf(Date);
    const described = await t.client.send(new DescribeExecutionCommand({ executionArn }));
    expect(described).toMatchObject({ status: 'ABORTED', error: 'Cancelled', cause: 'by test' });
    expect(
      await errorName(
        t.client.send(new SendTaskSuccessCommand({ taskToken: token, output: '{"approved":true}' })),
      ),
    ).toBe('TaskDoesNotExist');
    const history = await t.client.send(new GetExecutionHistoryCommand({ executionArn, reverseOrder: true }));
    expect(history.events?.[0]).toMatchObject({
      type: 'ExecutionAborted',
      executionAbortedEventDetails: { error: 'Cancelled', cause: 'by test' },
    });
  });
});

describe('local engine: GetExecutionHistory', () => {
  it('records AWS event types with increasing ids and AWS-shaped details', async () => {
    const { executionArn } = await start('history');
    await t.engine.idle();
    const [token] = fns.tokens();
    await t.client.send(
      new SendTaskSuccessCommand({ taskToken: token, output: JSON.stringify({ approved: true }) }),
    );
    await t.engine.idle();
    const history = await t.client.send(new GetExecutionHistoryCommand({ executionArn }));
    const events = history.events ?? [];
    expect(events.map((event) => event.type)).toEqual([
      'ExecutionStarted',
      'PassStateEntered',
      'PassStateExited',
      'TaskStateEntered',
      'TaskScheduled',
      'TaskStarted',
      'TaskSubmitted',
      'TaskSucceeded',
      'TaskStateExited',
      'ChoiceStateEntered',
      'ChoiceStateExited',
      'TaskStateEntered',
      'TaskScheduled',
      'TaskStarted',
      'TaskSucceeded',
      'TaskStateExited',
      'SucceedStateEntered',
      'SucceedStateExited',
      'ExecutionSucceeded',
    ]);
    events.forEach((event, i) => {
      expect(event.id).toBe(i + 1);
      expect(event.previousEventId).toBe(i);
      expect(event.timestamp).toBeInstanceOf(Date);
    });
    expect(JSON.parse(events[0]?.executionStartedEventDetails?.input ?? '')).toEqual({
      id: 'history',
      timeoutSeconds: 60,
    });
    expect(events[0]?.executionStartedEventDetails?.roleArn).toMatch(/^arn:aws:iam::/);
    expect(events[3]?.stateEnteredEventDetails?.name).toBe('WaitForDecision');
    const scheduled = events[4]?.taskScheduledEventDetails;
    expect(scheduled).toMatchObject({
      resourceType: 'lambda',
      resource: 'invoke.waitForTaskToken',
      region: 'us-east-1',
      timeoutInSeconds: 60,
    });
    expect(JSON.parse(scheduled?.parameters ?? '')).toMatchObject({ FunctionName: 'request-approval' });
    expect(events[12]?.taskScheduledEventDetails?.resource).toBe('invoke');
    expect(JSON.parse(events[14]?.taskSucceededEventDetails?.output ?? '')).toMatchObject({
      StatusCode: 200,
      ExecutedVersion: '$LATEST',
      Payload: { done: true },
    });
    expect(JSON.parse(events.at(-1)?.executionSucceededEventDetails?.output ?? '')).toMatchObject({
      execution: { result: { done: true, id: 'history' } },
    });

    const reversed = await t.client.send(
      new GetExecutionHistoryCommand({ executionArn, reverseOrder: true, maxResults: 5 }),
    );
    expect(reversed.events?.map((event) => event.id)).toEqual([19, 18, 17, 16, 15]);
    const rest = await t.client.send(
      new GetExecutionHistoryCommand({
        executionArn,
        reverseOrder: true,
        maxResults: 5,
        nextToken: reversed.nextToken,
      }),
    );
    expect(rest.events?.[0]?.id).toBe(14);
    const noData = await t.client.send(
      new GetExecutionHistoryCommand({ executionArn, includeExecutionData: false }),
    );
    expect(noData.events?.[0]?.executionStartedEventDetails?.input).toBeUndefined();
    expect(noData.events?.[3]?.stateEnteredEventDetails?.name).toBe('WaitForDecision');
  });
});

describe('local engine: wire protocol', () => {
  it('answers malformed requests with 400 and an AWS error type, never 500', async () => {
    const bad = await post('AWSStepFunctions.StartExecution', '{not json');
    expect(bad).toEqual({
      status: 400,
      body: expect.objectContaining({ __type: 'com.amazonaws.sfn#SerializationException' }),
    });
    const unknown = await post('AWSStepFunctions.DeleteEverything', '{}');
    expect(unknown.status).toBe(400);
    expect(unknown.body.__type).toBe('com.amazonaws.sfn#UnknownOperationException');
    expect((await post(undefined, '{}')).status).toBe(400);
    expect((await post('AWSStepFunctions.StartExecution', '[]')).body.__type).toBe(
      'com.amazonaws.sfn#SerializationException',
    );
    const missing = await post('AWSStepFunctions.StartExecution', '{}');
    expect(missing).toEqual({
      status: 400,
      body: expect.objectContaining({ __type: 'com.amazonaws.sfn#ValidationException' }),
    });
    const wrongType = await post('AWSStepFunctions.DescribeExecution', '{"executionArn": 5}');
    expect(wrongType.status).toBe(400);
  });
});
