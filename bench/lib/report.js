// Turns the measurements into Markdown: one row per server per round, then the medians across
// rounds and the callwire/baseline ratios, each ratio taken within a round (the two servers ran
// back to back on the same machine state) and then the median of those.
import { median } from './stats.js';

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

/** Per-round ratios target/baseline for one metric, then their median. */
export function ratio(results, target, key) {
  const rounds = [...new Set(results.map((r) => r.round))];
  const perRound = [];
  for (const round of rounds) {
    const base = results.find((r) => r.round === round && r.target === 'baseline');
    const other = results.find((r) => r.round === round && r.target === target);
    // A ratio to a baseline that is not a positive number would read as a verdict it is not.
    const b = base?.metrics[key];
    if (other && Number.isFinite(b) && b > 0) perRound.push(other.metrics[key] / b);
  }
  return { perRound, median: median(perRound) };
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
  const relayed = results.reduce((n, r) => n + r.storm.received + r.fixed.received, 0);
  const verified = results.reduce((n, r) => n + r.storm.verified + r.fixed.verified, 0);
  const lost = results.reduce((n, r) => n + r.lost, 0);
  const corrupted = results.reduce((n, r) => n + r.corrupted, 0);
  const duplicates = results.reduce((n, r) => n + r.storm.duplicates + r.fixed.duplicates, 0);
  out.push(
    '',
    `Delivery: ${relayed} candidates relayed, ${lost} lost, ${duplicates} duplicated; ` +
      `${verified} compared with what was sent, ${corrupted} altered.`,
  );
  const comparable = targets.filter((t) => t !== 'baseline');
  if (targets.includes('baseline')) {
    const header = ['metric (median of rounds)', 'baseline'];
    for (const t of comparable) header.push(t, `${t} / baseline`);
    const rows = METRICS.map((m) => {
      const row = [`${m.label} (${m.better} is better)`];
      row.push(
        fmt(median(results.filter((r) => r.target === 'baseline').map((r) => r.metrics[m.key])), m),
      );
      for (const t of comparable) {
        row.push(
          fmt(median(results.filter((r) => r.target === t).map((r) => r.metrics[m.key])), m),
        );
        const { median: r } = ratio(results, t, m.key);
        row.push(Number.isFinite(r) ? r.toFixed(2) : 'n/a');
      }
      return row;
    });
    out.push('', table(header, rows));
    for (const t of comparable) {
      const cpu = ratio(results, t, 'cpuUsPerMsg');
      const mem = ratio(results, t, 'memBytesPerClient');
      const verdict = (ok) => (ok ? 'met' : 'MISSED');
      out.push(
        '',
        `${t}: CPU per relayed message ${cpu.median.toFixed(2)}x the bare relay's ` +
          `(rounds: ${cpu.perRound.map((x) => x.toFixed(2)).join(', ')}; target <= 1.0: ${verdict(cpu.median <= 1)}); ` +
          `memory per idle client ${mem.median.toFixed(2)}x ` +
          `(rounds: ${mem.perRound.map((x) => x.toFixed(2)).join(', ')}; target <= 1.2: ${verdict(mem.median <= 1.2)}).`,
      );
    }
  }
  return out.join('\n');
}
