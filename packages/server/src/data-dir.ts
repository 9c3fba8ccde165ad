/**
 * Where callwire keeps its data when --data-dir is not given. In a clone of the repository it is
 * ./data (what `npm start` has always used, ignored by git); an installed callwire follows the
 * platform's convention for per-user application data.
 */
import { readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';

/** True when this package runs from a clone of the callwire repository (not an install). */
export function runsFromClone(): boolean {
  try {
    const root = new URL('../../../package.json', import.meta.url);
    const pkg = JSON.parse(readFileSync(root, 'utf8')) as { name?: unknown };
    return pkg.name === 'callwire-workspace';
  } catch {
    return false;
  }
}

/** The per-user data directory for `platform`, following its convention. */
export function platformDataDir(
  env: Readonly<Record<string, string | undefined>>,
  platform: NodeJS.Platform = process.platform,
  home: string = homedir(),
): string {
  if (platform === 'win32') {
    return join(env.LOCALAPPDATA ?? join(home, 'AppData', 'Local'), 'callwire');
  }
  if (platform === 'darwin') return join(home, 'Library', 'Application Support', 'callwire');
  // XDG Base Directory: $XDG_DATA_HOME if set to an absolute path, else ~/.local/share.
  const xdg = env.XDG_DATA_HOME;
  return join(
    xdg !== undefined && xdg.startsWith('/') ? xdg : join(home, '.local', 'share'),
    'callwire',
  );
}

export function defaultDataDir(env: Readonly<Record<string, string | undefined>>): string {
  return runsFromClone() ? './data' : platformDataDir(env);
}
