// Command-line options of bench/run.js, with the defaults of a full run and of --quick.
import { parseArgs } from 'node:util';
import { DEFAULT_TARGETS, PEERJS_TARGETS, TARGETS } from './targets.js';

export const USAGE = `Usage: node bench/run.js [options]   (npm run bench -- [options])

  --quick                 smoke run (~20 s): fewer clients, one round, short phases
  --clients N             logged-in clients per server, an even number (default 2000; quick 200)
  --rounds N              rounds; each round runs every target once, in rotating order (3; quick 1)
  --targets LIST          comma-separated, of baseline, callwire, callwire-tutorial, peerjs,
                          callwire-peerjs (default: baseline,callwire,callwire-tutorial)
  --peerjs                the PeerJS comparison: the PeerJS server (\`peer\`) and callwire, both
                          driven by PeerJS clients (the same as --targets peerjs,callwire-peerjs)
  --workers N             load-generator processes (default 2)
  --candidates K          candidates each party sends in the storm (default 60; quick 20; max 150)
  --rate R                relayed messages per second in the fixed-rate phase (default 20000; quick 4000)
  --fixed-ms MS           duration of the fixed-rate phase (default 5000; quick 1500)
  --setup-rate R          call setups started per second (default 1000)
  --login-concurrency N   logins in flight per worker (default 64)
  --settle-ms MS          quiet time before each memory reading (default 1500; quick 400)
  --idle-ms MS            how long to read the CPU cost of N idle clients (default 1000; quick 300)
  --out DIR               where the JSON results go (default bench/results)
  --no-gc                 read memory after a settle delay only, without the full GC that
                          bench/gc-hook.js (preloaded into every server alike) runs on SIGUSR2
  --wait-quiet SEC        before each server, wait up to SEC seconds for other processes to
                          leave the machine idle (default 0: do not wait; the report shows
                          the other load seen during every run either way)
  --priority=N            run the servers and load generators at this nice value (e.g. -10,
                          needs root) so other work on a shared machine disturbs them less
  --profile               run each server with --cpu-prof; profiles go to DIR/profiles
  --help`;

// The rate limits every server faces are callwire's defaults (burst 200, 50 msg/s per
// connection). The benchmark stays under them on purpose, with the same load for every
// server: it measures the cost of relaying, not of refusing.
export const MAX_RATE_PER_CLIENT = 40;
export const MAX_CANDIDATES_PER_CLIENT = 150;

export function parseOptions(argv) {
  const { values } = parseArgs({
    args: argv,
    options: {
      quick: { type: 'boolean', default: false },
      clients: { type: 'string' },
      rounds: { type: 'string' },
      targets: { type: 'string' },
      peerjs: { type: 'boolean', default: false },
      workers: { type: 'string' },
      candidates: { type: 'string' },
      rate: { type: 'string' },
      'fixed-ms': { type: 'string' },
      'setup-rate': { type: 'string' },
      'login-concurrency': { type: 'string' },
      'settle-ms': { type: 'string' },
      'idle-ms': { type: 'string' },
      'wait-quiet': { type: 'string' },
      priority: { type: 'string' },
      out: { type: 'string' },
      profile: { type: 'boolean', default: false },
      'no-gc': { type: 'boolean', default: false },
      help: { type: 'boolean', default: false },
    },
  });
  const quick = values.quick;
  const int = (name, full, short) => {
    const raw = values[name];
    const value = raw === undefined ? (quick ? short : full) : Number(raw);
    if (!Number.isInteger(value) || value <= 0)
      throw new TypeError(`--${name} must be a positive integer`);
    return value;
  };
  const workers = int('workers', 2, 2);
  let clients = int('clients', 2000, 200);
  // Pairs never span two generators (both ends must share a clock), so round up to 2 per worker.
  clients = Math.ceil(clients / (2 * workers)) * 2 * workers;
  if (values.peerjs && values.targets !== undefined)
    throw new TypeError('--peerjs chooses the targets: give it or --targets, not both');
  const targets =
    values.targets === undefined
      ? values.peerjs
        ? PEERJS_TARGETS
        : DEFAULT_TARGETS
      : values.targets.split(',').filter(Boolean);
  for (const t of targets) if (!TARGETS[t]) throw new TypeError(`unknown target ${t}`);
  const options = {
    help: values.help,
    quick,
    clients,
    rounds: int('rounds', 3, 1),
    targets,
    workers,
    candidates: Math.min(MAX_CANDIDATES_PER_CLIENT, int('candidates', 60, 20)),
    rate: int('rate', 20_000, 4_000),
    fixedMs: int('fixed-ms', 5_000, 1_500),
    setupRate: int('setup-rate', 1_000, 1_000),
    loginConcurrency: int('login-concurrency', 64, 64),
    settleMs: int('settle-ms', 1_500, 400),
    idleMs: int('idle-ms', 1_000, 300),
    out: values.out ?? new URL('../results/', import.meta.url).pathname,
    profile: values.profile,
    waitQuietMs: values['wait-quiet'] === undefined ? 0 : int('wait-quiet', 0, 0) * 1000,
    gc: !values['no-gc'],
    priority: values.priority === undefined ? null : Number(values.priority),
  };
  if (
    options.priority !== null &&
    !(Number.isInteger(options.priority) && Math.abs(options.priority) <= 20)
  ) {
    throw new TypeError('--priority must be an integer from -20 to 19');
  }
  options.effectiveRate = Math.min(options.rate, clients * MAX_RATE_PER_CLIENT);
  return options;
}
