import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    // Many suites start the real runtime (embedded DynamoDB, engine, HTTP servers); on two busy
    // cores a cold start takes seconds. These are bounds on waiting, not timing assertions.
    testTimeout: 60_000,
    hookTimeout: 120_000,
    include: ['test/**/*.test.ts'],
  },
});
