import { afterEach, describe, expect, it } from 'vitest';
import { collectWhenIdle } from '../../local/idle-gc.ts';

const holder = globalThis as { gc?: () => void };
const original = holder.gc;
afterEach(() => {
  holder.gc = original;
});

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('collectWhenIdle', () => {
  it('collects once per quiet spell, and again only after new activity', async () => {
    let collections = 0;
    holder.gc = () => {
      collections++;
    };
    const idle = collectWhenIdle(20);
    try {
      await sleep(200);
      expect(collections).toBe(1);
      await sleep(100);
      expect(collections).toBe(1);
      idle.touch();
      await sleep(200);
      expect(collections).toBe(2);
    } finally {
      idle.stop();
    }
  });

  it('does nothing without --expose-gc', async () => {
    holder.gc = undefined;
    const idle = collectWhenIdle(20);
    await sleep(100);
    idle.stop();
    expect(holder.gc).toBeUndefined();
  });
});
