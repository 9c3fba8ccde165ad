import { defineConfig } from 'vitest/config';

// Unit and integration tests. Browser suites (test/e2e) have their own config because they
// must run inside a loopback-only network namespace with Chromium (see scripts/test.sh).
export default defineConfig({
  test: {
    include: ['packages/*/test/**/*.test.ts', 'bench/test/**/*.test.ts'],
    testTimeout: 30_000,
    hookTimeout: 30_000,
    pool: 'forks',
    reporters: ['default'],
  },
});
