import { describe, expect, it } from 'vitest';
import { MINIMUM_NODE_MAJOR, nodeVersionProblem } from '../../core/node-version.ts';

describe('nodeVersionProblem', () => {
  it('refuses Node.js 20, naming the version found and what to do', () => {
    const problem = nodeVersionProblem('20.20.2');
    expect(problem).toMatch(/needs Node\.js 22 or newer/);
    expect(problem).toContain('this is 20.20.2');
    expect(problem).toMatch(/npm start/);
  });

  it('accepts the minimum and newer majors', () => {
    expect(MINIMUM_NODE_MAJOR).toBe(22);
    for (const version of ['22.0.0', '24.21.0', '26.1.0'])
      expect(nodeVersionProblem(version)).toBeUndefined();
  });

  it('accepts the Node.js this test runs on (npm scripts use the Node.js 24 of the node package)', () => {
    expect(nodeVersionProblem(process.versions.node)).toBeUndefined();
  });
});
