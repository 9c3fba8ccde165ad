// The servers under test, the client dialect each is driven with, and the server each is
// compared against in the report.
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
export const BASELINE_SCRIPT = fileURLToPath(new URL('../baseline-relay.js', import.meta.url));
export const PEERJS_SCRIPT = fileURLToPath(new URL('../peerjs-server.js', import.meta.url));
export const CALLWIRE_BIN = `${ROOT}packages/server/bin/callwire.js`;
export const CALLWIRE_DIST = `${ROOT}packages/server/dist`;

/**
 * @typedef {object} Target
 * @property {string} label
 * @property {'native' | 'tutorial' | 'peerjs'} dialect
 * @property {string | null} reference the target the report divides this one's figures by
 *   (the server its clients would otherwise use), or null for a reference itself
 * @property {(ctx: { dataDir: string }) => string[]} args node arguments (script and its flags)
 * @property {() => string | null} missing why it cannot run here, or null
 */

/** @type {Record<string, Target>} */
export const TARGETS = {
  baseline: {
    label: 'bare relay (tutorial client)',
    dialect: 'tutorial',
    reference: null,
    args: () => [BASELINE_SCRIPT, '0', '127.0.0.1'],
    missing: () => null,
  },
  callwire: {
    label: 'callwire (native client)',
    dialect: 'native',
    reference: 'baseline',
    args: callwireArgs,
    missing: callwireMissing,
  },
  'callwire-tutorial': {
    label: 'callwire (tutorial client)',
    dialect: 'tutorial',
    reference: 'baseline',
    args: callwireArgs,
    missing: callwireMissing,
  },
  peerjs: {
    label: 'PeerJS server (PeerJS client)',
    dialect: 'peerjs',
    reference: null,
    args: () => [PEERJS_SCRIPT, '0', '127.0.0.1'],
    missing: peerMissing,
  },
  'callwire-peerjs': {
    label: 'callwire (PeerJS client)',
    dialect: 'peerjs',
    reference: 'peerjs',
    args: callwireArgs,
    missing: callwireMissing,
  },
};

/** What `npm run bench` runs without --targets or --peerjs. */
export const DEFAULT_TARGETS = ['baseline', 'callwire', 'callwire-tutorial'];
/** What --peerjs runs: the PeerJS server and callwire, both driven by PeerJS clients. */
export const PEERJS_TARGETS = ['peerjs', 'callwire-peerjs'];

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

function peerMissing() {
  try {
    createRequire(import.meta.url).resolve('peer');
    return null;
  } catch {
    return 'the PeerJS server (`peer`, a devDependency) is not installed: run npm ci';
  }
}
