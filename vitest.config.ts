import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts', 'test/**/*.test.tsx'],
    setupFiles: ['test/private-home.ts'],
    testTimeout: 30_000,
    hookTimeout: 30_000,
    // Tests start VM workers and pseudo-terminals; two cores, so keep files in two forks.
    pool: 'forks',
    poolOptions: { forks: { maxForks: 2, minForks: 1 } },
    reporters: process.env.BOARDCTL_JSON_REPORT
      ? ['default', ['json', { outputFile: process.env.BOARDCTL_JSON_REPORT }]]
      : ['default'],
  },
});
