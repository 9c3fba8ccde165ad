// The servers under test and the client dialect each is driven with.
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
export const BASELINE_SCRIPT = fileURLToPath(new URL('../baseline-relay.js', import.meta.url));
export const CALLWIRE_BIN = `${ROOT}packages/server/bin/callwire.js`;
export const CALLWIRE_DIST = `${ROOT}packages/server/dist`;

/**
 * @typedef {object} Target
 * @property {string} label
 * @property {'native' | 'tutorial'} dialect
 * @property {(ctx: { dataDir: string }) => string[]} args node arguments (script and its flags)
 * @property {() => string | null} missing why it cannot run here, or null
 */

/** @type {Record<string, Target>} */
export const TARGETS = {
  baseline: {
    label: 'bare relay (tutorial client)',
    dialect: 'tutorial',
    args: () => [BASELINE_SCRIPT, '0', '127.0.0.1'],
    missing: () => null,
  },
  callwire: {
    label: 'callwire (native client)',
    dialect: 'native',
    args: callwireArgs,
    missing: callwireMissing,
  },
  'callwire-tutorial': {
    label: 'callwire (tutorial client)',
    dialect: 'tutorial',
    args: callwireArgs,
    missing: callwireMissing,
  },
};

function callwireArgs({ dataDir }) {
  return [
    CALLWIRE_BIN,
    '--port',
    '0',
    '--host',
    '127.0.0.1',
    '--log-level',
    'warn',
    '--data-dir',
    dataDir,
    // Every load client comes from this machine: one address, far over the per-address cap.
    '--max-connections-per-ip',
    '0',
  ];
}

function callwireMissing() {
  if (!existsSync(CALLWIRE_BIN)) return `${CALLWIRE_BIN} does not exist`;
  if (!existsSync(CALLWIRE_DIST)) return `${CALLWIRE_DIST} does not exist: run npm run build`;
  return null;
}
