import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  DescribeExecutionCommand,
  GetExecutionHistoryCommand,
  SendTaskHeartbeatCommand,
  SendTaskSuccessCommand,
  StartExecutionCommand,
} from '@aws-sdk/client-sfn';
import { afterEach, describe, expect, it } from 'vitest';
import { readEvent, readRecord } from '../../../local/engine/journal-records.ts';
import { errorName, fakeFunctions, fixture, machineArn, removeDir, startEngine, tempDir } from './helpers.ts';

/**
 * A data directory written by the engine before its journal fields had readable names (commit
 * 3b2b6f9): approval executions approved (after a retried task), rejected, refused
 * (SendTaskFailure), timed out and stopped, a direct Lambda one, all closed with their history
 * archives; and three still running: one waiting on its token, one whose wait function never
 * returned, one waiting with two heartbeats. `expected.json` holds what that engine answered
 * (DescribeExecution, GetExecutionHistory) just before it was closed, and the tokens it handed out.
 */
const FIXTURE = join(import.meta.dirname, 'fixtures', 'journal-v1');

interface Expected {
  capturedAt: number;
  tokens: Record<string, string>;
  executions: Record<string, { describe: unknown; history: unknown[] }>;
}

const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

/**
 * Copies the fixture's engine directory, moving every time in it forward by `shiftMs`, so the
 * sample is as old now as it was when captured (task deadlines and the 90-day retention hold).
 */
function copyShifted(dataDir: string, shiftMs: number): void {
  const from = join(FIXTURE, 'engine');
  const to = join(dataDir, 'engine');
  mkdirSync(join(to, 'history'), { recursive: true, mode: 0o700 });
  const shiftEvent = (event: { ts: number; to?: number }) => ({
    ...event,
    ts: event.ts + shiftMs,
    ...(event.to !== undefined && { to: event.to + shiftMs }),
  });
  const lines = readFileSync(join(from, 'journal.ndjson'), 'utf8').split('\n').filter(Boolean);
  const shifted = lines.map((line) => {
    const record = JSON.parse(line);
    if (record.k === 'e') return { ...record, e: shiftEvent(record.e) };
    return { ...record, t: record.t + shiftMs };
  });
  writeFileSync(join(to, 'journal.ndjson'), shifted.map((record) => `${JSON.stringify(record)}\n`).join(''));
  for (const file of readdirSync(join(from, 'history'))) {
    const events = JSON.parse(readFileSync(join(from, 'history', file), 'utf8'));
    writeFileSync(join(to, 'history', file), JSON.stringify(events.map(shiftEvent)));
  }
}

/** An SDK answer as JSON (dates as ISO strings), with its dates moved back by `shiftMs`. */
function unshifted(value: unknown, shiftMs: number): unknown {
  return JSON.parse(JSON.stringify(value), (key, item) =>
    ['startDate', 'stopDate', 'timestamp'].includes(key) && typeof item === 'string'
      ? new Date(Date.parse(item) - shiftMs).toISOString()
      : item,
  );
}

describe('readRecord', () => {
  it('reads the one-letter records of the previous journal format with readable names', () => {
    expect(readRecord({ k: 's', x: 3, m: 'approval', n: 'x', i: '{}', t: 1000 })).toEqual({
      record: 'started',
      execution: 3,
      stateMachine: 'approval',
      name: 'x',
      input: '{}',
      startedAt: 1000,
    });
    expect(readRecord({ k: 'h', x: 3, tok: 'sfo1.a', t: 2000 })).toEqual({
      record: 'heartbeat',
      execution: 3,
      taskToken: 'sfo1.a',
      at: 2000,
    });
    expect(
      readRecord({
        k: 'e',
        x: 3,
        e: { id: 5, type: 'TaskScheduled', ts: 3000, d: { a: 1 }, att: 0, tok: 'sfo1.a', to: 9000, hb: 60 },
      }),
    ).toEqual({
      record: 'event',
      execution: 3,
      event: {
        id: 5,
        type: 'TaskScheduled',
        timestamp: 3000,
        details: { a: 1 },
        attempt: 0,
        taskToken: 'sfo1.a',
        timeoutAt: 9000,
        heartbeatSeconds: 60,
      },
    });
    expect(readRecord({ k: 'z', x: 1 })).toBeUndefined();
  });

  it('reads records and events of the current format as they are', () => {
    const event = { id: 2, type: 'PassStateEntered', timestamp: 5, details: {}, topLevelState: 'Prepare' };
    expect(readRecord({ record: 'event', execution: 1, event })).toEqual({
      record: 'event',
      execution: 1,
      event,
    });
    expect(readEvent(event)).toEqual(event);
    expect(readEvent({ id: 2, type: 'PassStateEntered', ts: 5, d: {}, top: 'Prepare' })).toEqual(event);
  });
});

describe('local engine on a data directory from the previous journal format', () => {
  it('recovers every execution as that engine described it, resumes the running ones, and rewrites the journal readably', async () => {
    const expected = JSON.parse(readFileSync(join(FIXTURE, 'expected.json'), 'utf8')) as Expected;
    const shiftMs = Date.now() - expected.capturedAt;
    const dir = tempDir();
    cleanups.push(() => removeDir(dir));
    copyShifted(dir, shiftMs);
    const functions = fakeFunctions();
    const t = await startEngine({
      dataDir: dir,
      invokeFunction: functions.invokeFunction,
      stateMachines: [
        { name: 'approval', definition: fixture('approval') },
        { name: 'direct', definition: fixture('direct') },
        { name: 'heartbeat', definition: readFileSync(join(FIXTURE, 'long-heartbeat.asl.json'), 'utf8') },
      ],
    });
    cleanups.push(() => t.close());
    await t.engine.idle();
    const arnOf = (name: string) =>
      `arn:aws:states:us-east-1:123456789012:execution:${name === 'beating' ? 'heartbeat' : name === 'direct' ? 'direct' : 'approval'}:${name}`;

    // Closed and running alike, the engine answers as the previous one did on the same journal.
    for (const [name, before] of Object.entries(expected.executions)) {
      const executionArn = arnOf(name);
      const { $metadata: _d, ...described } = await t.client.send(
        new DescribeExecutionCommand({ executionArn }),
      );
      expect(unshifted(described, shiftMs), name).toEqual(before.describe);
      const { events } = await t.client.send(
        new GetExecutionHistoryCommand({ executionArn, maxResults: 1000 }),
      );
      const history = unshifted(events, shiftMs) as unknown[];
      if (name === 'hanging') {
        // Its wait function never returned: it was called again, and this time it returned.
        expect(history.slice(0, before.history.length), name).toEqual(before.history);
        expect(history.slice(before.history.length)).toMatchObject([{ type: 'TaskSubmitted' }]);
      } else {
        expect(history, name).toEqual(before.history);
      }
    }

    // Late answers to the closed executions' tokens are refused the way they were.
    const late = (name: string) =>
      errorName(
        t.client.send(new SendTaskSuccessCommand({ taskToken: expected.tokens[name], output: '{}' })),
      );
    expect(await late('approved')).toBe('TaskDoesNotExist');
    expect(await late('refused')).toBe('TaskDoesNotExist');
    expect(await late('stopped')).toBe('TaskDoesNotExist');
    expect(await late('timed-out')).toBe('TaskTimedOut');

    // The running ones wait on the tokens they had; the unanswered wait function got the same token.
    expect(functions.tokens()).toEqual([expected.tokens.hanging]);
    await t.client.send(new SendTaskHeartbeatCommand({ taskToken: expected.tokens.beating }));
    await t.client.send(
      new SendTaskSuccessCommand({ taskToken: expected.tokens.beating, output: '{"done":1}' }),
    );
    await t.client.send(
      new SendTaskSuccessCommand({ taskToken: expected.tokens.paused, output: '{"approved":false}' }),
    );
    await t.client.send(
      new SendTaskSuccessCommand({ taskToken: expected.tokens.hanging, output: '{"approved":true}' }),
    );
    await t.engine.idle();
    const status = async (name: string) =>
      t.client.send(new DescribeExecutionCommand({ executionArn: arnOf(name) }));
    expect(await status('beating')).toMatchObject({ status: 'SUCCEEDED', output: '{"done":1}' });
    expect(await status('paused')).toMatchObject({ status: 'FAILED', error: 'Rejected' });
    expect(await status('hanging')).toMatchObject({ status: 'SUCCEEDED' });

    // A new execution is numbered after the journal's: its archive overwrites none of theirs.
    await t.client.send(
      new StartExecutionCommand({
        stateMachineArn: machineArn('direct'),
        name: 'new',
        input: '{"who":"you"}',
      }),
    );
    await t.engine.idle();
    expect(existsSync(join(dir, 'engine', 'history', '10.json'))).toBe(true);

    // The journal was rewritten at start with readable names; the last heartbeat of the waiting token was kept.
    const journal = readFileSync(join(dir, 'engine', 'journal.ndjson'), 'utf8')
      .split('\n')
      .filter(Boolean);
    const records = journal.map((line) => JSON.parse(line) as Record<string, unknown>);
    expect(records.every((record) => typeof record.record === 'string' && !('k' in record))).toBe(true);
    const v1Beats = readFileSync(join(FIXTURE, 'engine', 'journal.ndjson'), 'utf8')
      .split('\n')
      .filter((line) => line.includes('"k":"h"'))
      .map((line) => JSON.parse(line) as { t: number });
    expect(records.filter((record) => record.record === 'heartbeat')[0]).toEqual({
      record: 'heartbeat',
      execution: 8,
      taskToken: expected.tokens.beating,
      at: (v1Beats.at(-1)?.t ?? 0) + shiftMs,
    });
  }, 30_000);
});
