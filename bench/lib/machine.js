// What a result was measured on: the machine, Node, and the commit of the sources.
import { execFileSync } from 'node:child_process';
import { cpus } from 'node:os';

/** The commit measured, and whether the server's sources differed from it. */
export function sourceVersion() {
  const git = (...args) =>
    execFileSync('git', args, {
      cwd: new URL('../..', import.meta.url),
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'ignore'],
    }).trim();
  try {
    return {
      commit: git('rev-parse', '--short', 'HEAD'),
      uncommittedServerChanges:
        git('status', '--porcelain', 'packages/server', 'packages/protocol') !== '',
    };
  } catch {
    return null;
  }
}

export function machineInfo() {
  return {
    cpus: cpus().length,
    cpuModel: cpus()[0]?.model,
    node: process.version,
    platform: process.platform,
    source: sourceVersion(),
  };
}
