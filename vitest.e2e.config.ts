import { defineConfig } from 'vitest/config';

// Real Chromium with fake camera and microphone, real WebRTC, real servers.
// Run through scripts/test.sh, which enters a loopback-only network namespace first.
export default defineConfig({
  test: {
    include: ['test/e2e/**/*.test.ts'],
    testTimeout: 120_000,
    hookTimeout: 60_000,
    pool: 'forks',
    fileParallelism: false,
    // Real media on two shared cores: a test that fails is run once more, and the run ends
    // with every test that needed it and what its first attempt said (support/flaky-report.ts).
    retry: 1,
    reporters: ['default', './test/e2e/support/flaky-report.ts'],
  },
});
