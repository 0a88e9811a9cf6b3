import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createEventDeduper, type EventDeduper } from '../../core/dedupe.ts';
import { startTestDynamo, type TestDynamo } from '../support/dynamo.ts';

let dynamo: TestDynamo;
let dedupe: EventDeduper;
const NOW = new Date('2026-12-06T10:00:00Z');
const later = (seconds: number) => new Date(NOW.getTime() + seconds * 1000);

beforeAll(async () => {
  dynamo = await startTestDynamo();
  dedupe = createEventDeduper(dynamo.client, dynamo.tableName);
});
afterAll(async () => {
  await dynamo.close();
});

describe('EventDeduper.once', () => {
  it('runs the work once and answers a duplicate with the remembered result', async () => {
    let runs = 0;
    const work = async () => ({ run: ++runs });
    const first = await dedupe.once('test', 'e1', NOW, work, (value) => value);
    expect(first).toEqual({ duplicate: false, value: { run: 1 } });
    const again = await dedupe.once('test', 'e1', later(5), work, (value) => value);
    expect(again).toEqual({ duplicate: true, state: 'done', result: { run: 1 } });
    expect(runs).toBe(1);
  });

  it('tells a duplicate that arrives while the first is still running', async () => {
    let release: () => void = () => undefined;
    const slow = dedupe.once('test', 'e2', NOW, () => new Promise<string>((r) => (release = () => r('ok'))));
    await new Promise((r) => setTimeout(r, 50));
    const during = await dedupe.once('test', 'e2', NOW, async () => 'second');
    expect(during).toEqual({ duplicate: true, state: 'in-progress' });
    release();
    expect(await slow).toEqual({ duplicate: false, value: 'ok' });
  });

  it('releases the claim when the work fails, so the redelivery runs', async () => {
    await expect(
      dedupe.once('test', 'e3', NOW, async () => {
        throw new Error('injected');
      }),
    ).rejects.toThrow('injected');
    expect(await dedupe.once('test', 'e3', later(1), async () => 'redelivered')).toEqual({
      duplicate: false,
      value: 'redelivered',
    });
  });

  it('takes over an in-progress claim whose holder died once its lease is over', async () => {
    // A claim that never finishes: the process died mid-work.
    void dedupe.once('test', 'e4', NOW, () => new Promise<never>(() => undefined));
    await new Promise((r) => setTimeout(r, 50));
    expect((await dedupe.once('test', 'e4', later(30), async () => 'early')).duplicate).toBe(true);
    expect(await dedupe.once('test', 'e4', later(61), async () => 'taken over')).toEqual({
      duplicate: false,
      value: 'taken over',
    });
  });

  it('forgets an event after 48 hours', async () => {
    await dedupe.once('test', 'e5', NOW, async () => 1);
    expect((await dedupe.once('test', 'e5', later(47 * 3600), async () => 2)).duplicate).toBe(true);
    expect(await dedupe.once('test', 'e5', later(49 * 3600), async () => 3)).toEqual({
      duplicate: false,
      value: 3,
    });
  });
});
