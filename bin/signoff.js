#!/usr/bin/env node
// The `signoff` CLI (npx signoff …): TypeScript run through tsx, like `npm start`.
import { register } from 'tsx/esm/api';

register();
// Before the CLI loads: an older Node.js would fail later, far from the cause.
const { nodeVersionProblem } = await import('../core/node-version.ts');
const problem = nodeVersionProblem(process.versions.node);
if (problem) {
  process.stderr.write(`signoff: ${problem}\n`);
  process.exit(1);
}
const { main } = await import('./signoff.ts');
await main();
