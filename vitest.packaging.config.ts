import { defineConfig } from 'vitest/config';

// The packages as users install them. This suite runs outside the loopback-only namespace
// (see scripts/test.sh): `npm install` of the packed tarballs resolves their dependencies'
// versions, which needs the npm registry unless npm's cache already holds every package
// document. The servers it starts listen on loopback only, as everywhere else.
export default defineConfig({
  test: {
    include: ['test/packaging/**/*.test.ts'],
    testTimeout: 120_000,
    hookTimeout: 600_000,
    pool: 'forks',
  },
});
