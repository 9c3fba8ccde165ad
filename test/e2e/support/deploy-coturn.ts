import { readFileSync } from 'node:fs';
import path from 'node:path';
import { repoRoot } from './paths.js';

/** Settings the test supplies itself (coturn's flags), or that only make sense on a real host. */
const SITE_KEYS = new Set([
  'listening-ip',
  'relay-ip',
  'external-ip',
  'listening-port',
  'tls-listening-port',
  'static-auth-secret',
  'realm',
  'cert',
  'pkey',
  'syslog',
  'log-file',
]);

/**
 * docs/DEPLOY.md's coturn configuration block as written, minus the lines that name the site
 * (addresses, ports, secret, certificates, logs), which the tests pass as flags: the
 * configuration the suites run is the one operators copy.
 */
export function deployCoturnConfig(): string {
  const doc = readFileSync(path.join(repoRoot, 'docs', 'DEPLOY.md'), 'utf8');
  const block =
    /<!-- coturn-config:begin -->\s*```ini\n([\s\S]*?)```\s*<!-- coturn-config:end -->/.exec(
      doc,
    )?.[1];
  if (block === undefined) throw new Error('docs/DEPLOY.md has no coturn-config block');
  const lines = block
    .split('\n')
    .map((line) => line.trim())
    .filter((line) => line !== '' && !line.startsWith('#'));
  if (lines.filter((line) => line.startsWith('denied-peer-ip=')).length <= 10)
    throw new Error("docs/DEPLOY.md's coturn block lost its deny list");
  return lines.filter((line) => !SITE_KEYS.has(line.split('=', 1)[0]!)).join('\n') + '\n';
}
