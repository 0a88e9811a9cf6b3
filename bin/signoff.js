#!/usr/bin/env node
// The `signoff` CLI (npx signoff …): TypeScript run through tsx, like `npm start`.
import { register } from 'tsx/esm/api';

register();
const { main } = await import('./signoff.ts');
await main();
