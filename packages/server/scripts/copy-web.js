// Copies the built web app (packages/web/dist) into this package's dist/web, so the server
// serves it from inside its own package: the published tarball carries it, and an installed
// `callwire` needs nothing next to it. Run by the root `npm run build`.
import { cpSync, existsSync, rmSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const from = fileURLToPath(new URL('../../web/dist/', import.meta.url));
const to = fileURLToPath(new URL('../dist/web/', import.meta.url));
if (!existsSync(`${from}index.html`)) {
  console.error(`copy-web: ${from}index.html is missing; build the web app first`);
  process.exit(1);
}
rmSync(to, { recursive: true, force: true });
// Source maps stay behind: they triple the size and the sources are not in the package.
cpSync(from, to, { recursive: true, filter: (src) => !src.endsWith('.map') });
