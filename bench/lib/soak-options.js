// Command-line options of bench/soak.js.
import { parseArgs } from 'node:util';

export const SOAK_USAGE = `Usage: node bench/soak.js [options]   (npm run bench:soak -- [options])

  --minutes N             how long the full load runs once every client is in (default 10;
                          fractions allowed); the warm-up is the first part of it
  --idle N                idle clients (default 19000)
  --calls N               pairs of clients that keep calling (default 200, so 400 clients)
  --workers N             load-generator processes (default 2); they connect from 127.0.0.1,
                          or each from its own address (127.0.0.2, ...) when one address has
                          too few ephemeral ports for all the clients
  --warmup-s S            seconds of full load left out of the slope (default: 120, or a fifth
                          of the run if that is shorter)
  --sample-s S            seconds between samples (default 10)
  --talk-s A-B            each call lasts A to B seconds (default 8-24)
  --pause-s A-B           pause between one pair's calls (default 1-3)
  --rate R                candidates per second each party sends while in a call, after a
                          burst of 8 (default 1)
  --heartbeat-s S         each client's application ping interval, the SDK's (default 15)
  --login-concurrency N   logins in flight per worker (default 64)
  --seed N                seed of the call lengths (default 1)
  --priority=N            run the server and the generators at this nice value (e.g. -10,
                          needs root), as bench/run.js does; default: unchanged
  --out DIR               where the JSON result goes (default bench/results)
  --help`;

function range(text, name) {
  const m = /^(\d+(?:\.\d+)?)-(\d+(?:\.\d+)?)$/.exec(text);
  if (!m || Number(m[1]) > Number(m[2])) throw new TypeError(`--${name} must be A-B, A <= B`);
  return [Number(m[1]) * 1000, Number(m[2]) * 1000];
}

export function parseSoakOptions(argv) {
  const { values } = parseArgs({
    args: argv,
    options: {
      minutes: { type: 'string', default: '10' },
      idle: { type: 'string', default: '19000' },
      calls: { type: 'string', default: '200' },
      workers: { type: 'string', default: '2' },
      'warmup-s': { type: 'string' },
      'sample-s': { type: 'string', default: '10' },
      'talk-s': { type: 'string', default: '8-24' },
      'pause-s': { type: 'string', default: '1-3' },
      rate: { type: 'string', default: '1' },
      'heartbeat-s': { type: 'string', default: '15' },
      'login-concurrency': { type: 'string', default: '64' },
      seed: { type: 'string', default: '1' },
      priority: { type: 'string' },
      out: { type: 'string' },
      help: { type: 'boolean', default: false },
    },
  });
  const number = (name, { integer = false, min = 0 } = {}) => {
    const value = Number(values[name]);
    if (!Number.isFinite(value) || value < min || (integer && !Number.isInteger(value))) {
      throw new TypeError(`--${name} must be ${integer ? 'a whole number' : 'a number'} >= ${min}`);
    }
    return value;
  };
  const runMs = number('minutes', { min: 0.05 }) * 60_000;
  const options = {
    help: values.help,
    runMs,
    idle: number('idle', { integer: true }),
    calls: number('calls', { integer: true }),
    workers: number('workers', { integer: true, min: 1 }),
    warmupMs:
      values['warmup-s'] === undefined ? Math.min(120_000, runMs / 5) : number('warmup-s') * 1000,
    sampleMs: number('sample-s', { min: 0.2 }) * 1000,
    talkMs: range(values['talk-s'], 'talk-s'),
    pauseMs: range(values['pause-s'], 'pause-s'),
    ratePerSec: number('rate', { min: 0.01 }),
    heartbeatMs: number('heartbeat-s', { min: 0.2 }) * 1000,
    loginConcurrency: number('login-concurrency', { integer: true, min: 1 }),
    seed: number('seed', { integer: true }),
    priority: values.priority === undefined ? null : Number(values.priority),
    out: values.out ?? new URL('../results/', import.meta.url).pathname,
  };
  if (
    options.priority !== null &&
    !(Number.isInteger(options.priority) && Math.abs(options.priority) <= 20)
  ) {
    throw new TypeError('--priority must be an integer from -20 to 19');
  }
  if (options.warmupMs >= runMs) throw new TypeError('--warmup-s must be shorter than the run');
  if (options.idle + options.calls === 0)
    throw new TypeError('nothing to run: --idle and --calls are 0');
  return options;
}

/** How the clients are shared: worker w gets idle[w] idle clients and pairs[w] call pairs. */
export function shares(total, workers) {
  return Array.from(
    { length: workers },
    (_, w) => Math.floor(total / workers) + (w < total % workers ? 1 : 0),
  );
}
