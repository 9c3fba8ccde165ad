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
 * The project's shared folder sits beside the clone (locally and in CI), so the seeds are
 * read from there at test time and never copied into the repository.
 */
export const seedsDir = path.resolve(repoRoot, '..', 'shared', 'seeds');

/** The one seed file whose name starts with `<prefix>_` (e.g. `004`); throws if not exactly one. */
export function findSeedFile(prefix: string): string {
  if (!existsSync(seedsDir)) {
    throw new Error(`seed folder not found at ${seedsDir} (expected shared/ beside the clone)`);
  }
  const matches = readdirSync(seedsDir).filter(
    (name) => name.startsWith(`${prefix}_`) && name.endsWith('.txt'),
  );
  if (matches.length !== 1 || matches[0] === undefined) {
    throw new Error(`expected one ${prefix}_*.txt in ${seedsDir}, found ${matches.length}`);
  }
  return path.join(seedsDir, matches[0]);
}
