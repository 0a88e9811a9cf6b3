import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { startScript, startScriptNodeFlags } from '../../bench/bench-runtime.ts';

describe('the benched runtime', () => {
  it("runs with npm start's node flags", () => {
    const flags = startScriptNodeFlags();
    expect(flags).toEqual(expect.arrayContaining(['--expose-gc', '--import', 'tsx']));
    expect(flags.some((flag) => flag.startsWith('--max-semi-space-size='))).toBe(true);
  });

  it('refuses a start script it cannot read the flags of', () => {
    const dir = mkdtempSync(join(tmpdir(), 'signoff-pkg-'));
    const file = join(dir, 'package.json');
    writeFileSync(file, JSON.stringify({ scripts: { start: 'tsx local/start.ts' } }));
    expect(() => startScriptNodeFlags(file)).toThrow(/not "node <flags> <entry>"/);
    writeFileSync(
      file,
      JSON.stringify({ scripts: { start: 'node --expose-gc --import tsx local/start.ts' } }),
    );
    expect(startScriptNodeFlags(file)).toEqual(['--expose-gc', '--import', 'tsx']);
    // The reliability harness runs the whole command: the flags, the entry and what follows it.
    expect(startScript(file).args).toEqual(['--expose-gc', '--import', 'tsx', 'local/start.ts']);
  });
});
