import { existsSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/** The repository root (this file lives in test/e2e/support). */
export const repoRoot = path.resolve(
  path.dirname(fileURLToPath(import.meta.url)),
  '..',
  '..',
  '..',
);

/** The CLI entry that `npm start` runs after building. */
export const callwireBin = path.join(repoRoot, 'packages', 'server', 'bin', 'callwire.js');

/**
 * The tutorial seeds the compatibility tests replay: `CALLWIRE_SEEDS` when set, else the
 * project's shared folder beside the clone (`../shared/seeds`, as in CI). They are read at test
 * time and never copied into the repository (see README, "Tests").
 */
export const seedsDir = path.resolve(
  process.env['CALLWIRE_SEEDS'] ?? path.resolve(repoRoot, '..', 'shared', 'seeds'),
);

/**
 * The one seed file whose name starts with `<prefix>_` (e.g. `004`). Without the seeds it throws
 * one line saying where they were looked for: the test fails rather than pass without them.
 */
export function findSeedFile(prefix: string): string {
  if (!existsSync(seedsDir)) {
    throw new Error(
      `tutorial seeds not found at ${seedsDir}: put the project's shared/ folder beside the ` +
        `clone or set CALLWIRE_SEEDS to its seeds/ folder; this test cannot pass without them`,
    );
  }
  const matches = readdirSync(seedsDir).filter(
    (name) => name.startsWith(`${prefix}_`) && name.endsWith('.txt'),
  );
  if (matches.length !== 1 || matches[0] === undefined) {
    throw new Error(`expected one ${prefix}_*.txt in ${seedsDir}, found ${matches.length}`);
  }
  return path.join(seedsDir, matches[0]);
}
