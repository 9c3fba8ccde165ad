import { defineConfig } from 'vitest/config';

// Unit and integration tests. Browser suites (test/e2e) have their own config because they
// must run inside a loopback-only network namespace with Chromium (see scripts/test.sh).
export default defineConfig({
  test: {
    include: ['packages/*/test/**/*.test.ts', 'bench/test/**/*.test.ts'],
    testTimeout: 30_000,
    hookTimeout: 30_000,
    pool: 'forks',
    // Two files at a time: most of a suite's time is spent waiting on sockets, processes and
    // timers, and vitest's default on a 2-core machine is one. Tests that compare timings
    // compare like with like inside one file, so a neighbour's load falls on both sides.
    poolOptions: { forks: { minForks: 2, maxForks: 2 } },
    reporters: ['default'],
  },
});
