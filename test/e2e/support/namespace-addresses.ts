import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { assertLoopbackOnlyNetwork } from './ports.js';

const run = promisify(execFile);

/**
 * Gives the suite's network namespace extra IPv4 addresses on `lo`, so a test can stand in
 * for hosts with ordinary and with private addresses (a TURN relay, an internal service).
 * They exist only inside the namespace, which has no route anywhere else. Resolves with the
 * function that removes them again (other suites run in the same namespace afterwards).
 */
export async function addNamespaceAddresses(
  addresses: readonly string[],
): Promise<() => Promise<void>> {
  assertLoopbackOnlyNetwork();
  const added: string[] = [];
  const remove = async (): Promise<void> => {
    for (const address of added.splice(0))
      await run('ip', ['addr', 'del', `${address}/32`, 'dev', 'lo']);
  };
  try {
    for (const address of addresses) {
      await run('ip', ['addr', 'add', `${address}/32`, 'dev', 'lo']);
      added.push(address);
    }
  } catch (error) {
    await remove();
    throw new Error(`cannot add addresses to lo (needs root in the namespace)`, { cause: error });
  }
  return remove;
}
