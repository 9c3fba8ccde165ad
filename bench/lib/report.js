// Turns the measurements into Markdown: one row per server per round, then the medians across
// rounds and the ratios of each callwire target to the server it is compared with (the bare
// relay, or the PeerJS server for PeerJS clients), each ratio taken within a round (the two
// servers ran back to back on the same machine state) and then the median of those.
import { median } from './stats.js';
import { TARGETS } from './targets.js';

export const METRICS = [
  { key: 'loginsPerSec', label: 'logins/s', better: 'higher', digits: 0 },
  { key: 'setupP50Ms', label: 'setup p50 ms', better: 'lower', digits: 2 },
  { key: 'setupP99Ms', label: 'setup p99 ms', better: 'lower', digits: 2 },
  { key: 'stormMsgsPerSec', label: 'storm msg/s', better: 'higher', digits: 0 },
  { key: 'relayP50Ms', label: 'relay p50 ms', better: 'lower', digits: 2 },
  { key: 'relayP99Ms', label: 'relay p99 ms', better: 'lower', digits: 2 },
  { key: 'cpuUsPerMsg', label: 'CPU µs/msg', better: 'lower', digits: 2 },
  { key: 'stormCpuUsPerMsg', label: 'storm CPU µs/msg', better: 'lower', digits: 2, detail: true },
  { key: 'fixedCpuUsPerMsg', label: 'fixed CPU µs/msg', better: 'lower', digits: 2, detail: true },
  { key: 'idleCpuMsPerSec', label: 'idle CPU ms/s', better: 'lower', digits: 1, detail: true },
  {
    key: 'memBytesPerClient',
    label: 'RSS KiB/client',
    better: 'lower',
    digits: 1,
    scale: 1 / 1024,
  },
  {
    key: 'liveBytesPerClient',
    label: 'heap KiB/client',
    better: 'lower',
    digits: 1,
    scale: 1 / 1024,
  },
];

// The per-round table shows the headline metrics; the summary adds the CPU breakdown.
const HEADLINE = METRICS.filter((m) => !m.detail);

const fmt = (value, metric) =>
  Number.isFinite(value) ? (value * (metric.scale ?? 1)).toFixed(metric.digits) : 'n/a';

function table(header, rows) {
  const line = (cells) => `| ${cells.join(' | ')} |`;
  return [line(header), line(header.map(() => '---')), ...rows.map(line)].join('\n');
}

/** Per-round ratios target/reference for one metric, then their median. */
export function ratio(results, target, key, reference = 'baseline') {
  const rounds = [...new Set(results.map((r) => r.round))];
  const perRound = [];
  for (const round of rounds) {
    const base = results.find((r) => r.round === round && r.target === reference);
    const other = results.find((r) => r.round === round && r.target === target);
    // A ratio to a reference that is not a positive number would read as a verdict it is not.
    const b = base?.metrics[key];
    if (other && Number.isFinite(b) && b > 0) perRound.push(other.metrics[key] / b);
  }
  return { perRound, median: median(perRound) };
}

const roundsText = (r) => r.perRound.map((x) => x.toFixed(2)).join(', ');
const times = (x) => (Number.isFinite(x) ? `${x.toFixed(2)}x` : 'n/a');

/** The table of medians and ratios of every target measured against `reference`. */
function comparison(results, reference, comparable) {
  const medianOf = (t, m) =>
    fmt(median(results.filter((r) => r.target === t).map((r) => r.metrics[m.key])), m);
  const header = ['metric (median of rounds)', reference];
  for (const t of comparable) header.push(t, `${t} / ${reference}`);
  const rows = METRICS.map((m) => {
    const row = [`${m.label} (${m.better} is better)`, medianOf(reference, m)];
    for (const t of comparable) {
      const { median: r } = ratio(results, t, m.key, reference);
      row.push(medianOf(t, m), Number.isFinite(r) ? r.toFixed(2) : 'n/a');
    }
    return row;
  });
  return table(header, rows);
}

/** Against the bare relay, callwire has targets: CPU per message <= 1.0x, memory <= 1.2x. */
function baselineVerdict(results, t) {
  const cpu = ratio(results, t, 'cpuUsPerMsg');
  const mem = ratio(results, t, 'memBytesPerClient');
  const verdict = (ok) => (ok ? 'met' : 'MISSED');
  return (
    `${t}: CPU per relayed message ${cpu.median.toFixed(2)}x the bare relay's ` +
    `(rounds: ${roundsText(cpu)}; target <= 1.0: ${verdict(cpu.median <= 1)}); ` +
    `memory per idle client ${mem.median.toFixed(2)}x ` +
    `(rounds: ${roundsText(mem)}; target <= 1.2: ${verdict(mem.median <= 1.2)}).`
  );
}

/** Against another server (the PeerJS server) there is no target: the ratios are the finding. */
function plainRatios(results, t, reference) {
  const part = (key, what) => {
    const r = ratio(results, t, key, reference);
    // A reference reading that is not positive (RSS can fall while clients log in, on a small
    // run) gives no ratio for its round.
    return `${what} ${times(r.median)} (rounds: ${roundsText(r) || 'none'})`;
  };
  return (
    `${t} against ${reference}: ` +
    [
      part('cpuUsPerMsg', 'CPU per relayed message'),
      part('memBytesPerClient', 'RSS per idle client'),
      part('liveBytesPerClient', 'heap per idle client'),
      part('relayP99Ms', 'relay p99'),
      part('loginsPerSec', 'connects per second'),
    ].join('; ') +
    '.'
  );
}

export function markdownReport(results, options) {
  const targets = [...new Set(results.map((r) => r.target))];
  const out = [];
  out.push(
    `${options.clients} clients, ${options.candidates} candidates per party in the storm, ` +
      `${options.effectiveRate} msg/s for ${options.fixedMs} ms in the fixed-rate phase, ` +
      `${options.workers} load generators, ${options.rounds} round(s).`,
    '',
    table(
      ['round', 'server', ...HEADLINE.map((m) => m.label), 'lost', 'other load (cores)'],
      results.map((r) => [
        r.round,
        r.target,
        ...HEADLINE.map((m) => fmt(r.metrics[m.key], m)),
        r.lost,
        r.otherCpuCores.toFixed(2),
      ]),
    ),
  );
  const sum = (f) => results.reduce((n, r) => n + f(r), 0);
  const relayed = sum((r) => r.storm.received + r.fixed.received);
  const verified = sum((r) => r.storm.verified + r.fixed.verified);
  const lost = sum((r) => r.lost);
  const corrupted = sum((r) => r.corrupted);
  const duplicates = sum((r) => r.storm.duplicates + r.fixed.duplicates);
  let delivery =
    `Delivery: ${relayed} candidates relayed, ${lost} lost, ${duplicates} duplicated; ` +
    `${verified} compared with what was sent, ${corrupted} altered`;
  // Only PeerJS servers name the sender of what they relay, so only there can it be checked.
  const named = results.filter((r) => TARGETS[r.target]?.dialect === 'peerjs');
  if (named.length > 0) {
    const checked = named.reduce((n, r) => n + r.storm.received + r.fixed.received, 0);
    const wrong = named.reduce((n, r) => n + (r.wrongSource ?? 0), 0);
    delivery += `; ${checked} PeerJS candidates checked for their \`src\`, ${wrong} from the wrong sender`;
  }
  out.push('', delivery + '.');
  for (const reference of targets.filter((t) => TARGETS[t]?.reference === null)) {
    const comparable = targets.filter((t) => TARGETS[t]?.reference === reference);
    if (comparable.length === 0) continue;
    out.push('', comparison(results, reference, comparable));
    for (const t of comparable) {
      out.push(
        '',
        reference === 'baseline' ? baselineVerdict(results, t) : plainRatios(results, t, reference),
      );
    }
  }
  return out.join('\n');
}
