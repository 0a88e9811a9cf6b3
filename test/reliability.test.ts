import { describe, expect, it } from 'vitest';
import { failed, formatTable } from '../reliability/report.ts';
import { QUICK, runReliability } from '../reliability/run.ts';

describe('reliability (short configuration of npm run reliability)', () => {
  it('loses and duplicates nothing and answers no 5xx under bad input, duplicates, faults, crashes and load', async () => {
    const { rows, targets, missed } = await runReliability(QUICK);
    const bad = rows.filter(failed);
    expect(bad, formatTable(rows)).toEqual([]);
    // The load targets with the short run's tolerances: callback p99 and memory at rest.
    expect(targets.map((t) => t.text)).toEqual([
      expect.stringMatching(/^callback p99 /),
      expect.stringMatching(/^memory: /),
    ]);
    expect(missed, targets.map((t) => t.text).join('\n')).toEqual([]);
    expect(rows.length).toBeGreaterThanOrEqual(10);
  }, 1_200_000);
});
