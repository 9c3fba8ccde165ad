// The soak's figures from its samples: the least-squares trend of memory after the warm-up,
// latency percentiles, and the printed summary.
import { percentile, sorted } from './stats.js';

/**
 * Ordinary least squares of y on x: slope, intercept and the slope's standard error (NaN with
 * fewer than 3 points). x in minutes and y in KiB give a slope in KiB per minute.
 */
export function linearFit(xs, ys) {
  const n = xs.length;
  if (n < 2) return { n, slope: NaN, intercept: NaN, slopeStdErr: NaN, mean: NaN };
  let sx = 0;
  let sy = 0;
  for (let i = 0; i < n; i++) {
    sx += xs[i];
    sy += ys[i];
  }
  const mx = sx / n;
  const my = sy / n;
  let sxx = 0;
  let sxy = 0;
  for (let i = 0; i < n; i++) {
    sxx += (xs[i] - mx) ** 2;
    sxy += (xs[i] - mx) * (ys[i] - my);
  }
  const slope = sxy / sxx;
  const intercept = my - slope * mx;
  let sse = 0;
  for (let i = 0; i < n; i++) sse += (ys[i] - (intercept + slope * xs[i])) ** 2;
  const slopeStdErr = n > 2 ? Math.sqrt(sse / (n - 2) / sxx) : NaN;
  return { n, slope, intercept, slopeStdErr, mean: my };
}

/**
 * The trend of one memory series (KiB) over the samples taken between `fromMs` and `toMs`
 * (run time): KiB per minute, its 95% interval (about two standard errors), and the change it
 * predicts over 10 minutes as a percentage of the series' mean there.
 */
export function trend(samples, key, fromMs, toMs) {
  const points = samples.filter((s) => s.tMs >= fromMs && s.tMs <= toMs && Number.isFinite(s[key]));
  const fit = linearFit(
    points.map((s) => s.tMs / 60_000),
    points.map((s) => s[key]),
  );
  return {
    samples: fit.n,
    kibPerMin: fit.slope,
    kibPerMin95: 1.96 * fit.slopeStdErr,
    meanKib: fit.mean,
    pctOfMeanPer10Min: (fit.slope * 10 * 100) / fit.mean,
    minKib: Math.min(...points.map((s) => s[key])),
    maxKib: Math.max(...points.map((s) => s[key])),
  };
}

export function latency(samples) {
  const s = sorted(samples);
  return {
    count: s.length,
    p50Ms: percentile(s, 50),
    p99Ms: percentile(s, 99),
    p999Ms: percentile(s, 99.9),
    maxMs: s.length ? s[s.length - 1] : NaN,
  };
}

const f = (x, digits = 1) => (Number.isFinite(x) ? x.toFixed(digits) : 'n/a');
const mib = (kib) => f(kib / 1024, 1);
const int = (x) => (Number.isFinite(x) ? Math.round(x).toLocaleString('en-US') : 'n/a');

function table(header, rows) {
  const line = (cells) => `| ${cells.join(' | ')} |`;
  return [line(header), line(header.map(() => '---')), ...rows.map(line)].join('\n');
}

/** The short Markdown report printed at the end of a run. */
export function soakReport(result) {
  const { options: o, summary: s } = result;
  const m = s.messages;
  const out = [];
  out.push(
    `## Soak: ${int(o.idle)} idle clients + ${int(o.calls)} calls, ${f(o.runMs / 60_000, 2)} min of full load`,
    '',
    `${s.connectionCap}`,
    '',
    table(
      ['figure', 'value'],
      [
        [
          'clients logged in',
          `${int(s.login.loggedIn)} of ${int(s.login.asked)} in ${f(s.login.ms / 1000)} s (${int(s.login.perSec)}/s); failed ${s.login.failed}`,
        ],
        [
          'warm-up (left out of the slope)',
          `logins ${f(s.login.ms / 1000)} s + ${f(o.warmupMs / 1000, 0)} s of full load`,
        ],
        [
          'RSS after warm-up: mean (min-max)',
          `${mib(s.rss.meanKib)} MiB (${mib(s.rss.minKib)}-${mib(s.rss.maxKib)}), ${s.rss.samples} samples`,
        ],
        [
          'RSS slope after warm-up',
          `${f(s.rss.kibPerMin)} ± ${f(s.rss.kibPerMin95)} KiB/min (${f(s.rss.pctOfMeanPer10Min, 2)}% of the mean per 10 min)`,
        ],
        [
          'RSS slope, second half only',
          `${f(s.rssLateHalf.kibPerMin)} ± ${f(s.rssLateHalf.kibPerMin95)} KiB/min (${f(s.rssLateHalf.pctOfMeanPer10Min, 2)}% per 10 min)`,
        ],
        [
          'JS heap used + external: mean, slope',
          `${mib(s.heap.meanKib)} MiB, ${f(s.heap.kibPerMin)} ± ${f(s.heap.kibPerMin95)} KiB/min (${f(s.heap.pctOfMeanPer10Min, 2)}% per 10 min)`,
        ],
        [
          'live heap after a full GC: in the warm-up -> at the end',
          s.liveHeap
            ? `${mib(s.liveHeap.startKib)} -> ${mib(s.liveHeap.endKib)} MiB (t=${f(s.liveHeap.startMs / 1000, 0)}-${f(s.liveHeap.endMs / 1000, 0)} s: ${f(s.liveHeap.kibPerMin)} KiB/min)`
            : 'n/a',
        ],
        [
          'sockets closed unexpectedly (clients)',
          `${s.unexpectedCloses}${s.unexpectedCloses ? ' ' + JSON.stringify(s.closeCodes) : ''}`,
        ],
        ['sockets not open at the end', `${s.notOpenAtEnd}`],
        ['server-initiated closes (/metrics)', JSON.stringify(s.serverCloses)],
        ['error replies (/metrics)', JSON.stringify(s.serverErrors)],
        [
          'calls: started / completed / failed',
          `${int(s.calls.started)} / ${int(s.calls.completed)} / ${s.calls.failed}${s.calls.failed ? ' ' + JSON.stringify(s.calls.failures) : ''}`,
        ],
        [
          'call setup p50 / p99 (ms)',
          `${f(s.calls.setup.p50Ms, 2)} / ${f(s.calls.setup.p99Ms, 2)}`,
        ],
        ['candidates sent / received / lost', `${int(m.sent)} / ${int(m.received)} / ${m.lost}`],
        [
          'duplicated / out of order / stray / altered (of checked)',
          `${m.duplicates} / ${m.outOfOrder} / ${m.strays} / ${m.corrupted} (of ${int(m.verified)})`,
        ],
        ['messages relayed by the server (/metrics)', int(s.serverRelayed)],
        [
          'idle ping round trip p50 / p99 / p99.9 / max (ms)',
          `${f(s.ping.p50Ms, 2)} / ${f(s.ping.p99Ms, 2)} / ${f(s.ping.p999Ms, 1)} / ${f(s.ping.maxMs, 1)} (${int(s.ping.count)} pings)`,
        ],
        ['pings left unanswered a whole interval', `${s.missedPongs}`],
        [
          'server CPU, full load: mean (max of a sample)',
          `${f(s.cpu.meanCores, 3)} cores (${f(s.cpu.maxCores, 3)})`,
        ],
        ['server CPU during logins', `${f(s.cpu.loginCores, 3)} cores`],
        ['server waiting for a CPU, full load (mean)', `${f(s.cpu.waitCores, 3)} cores`],
        ['other load on the machine (mean)', `${f(s.otherCores, 2)} cores`],
        // prom-client times a 100 ms timer: its delays include those 100 ms.
        [
          'event-loop delay p99 (/metrics, 100 ms timer included): median, worst sample',
          `${f(s.loopDelayP99MedianMs, 1)}, ${f(s.loopDelayP99MaxMs, 1)} ms`,
        ],
      ],
    ),
    '',
  );
  // One row a minute (the full series is in the JSON).
  const everyMs = 60_000;
  const rows = [];
  let nextAt = 0;
  for (const x of result.samples) {
    if (x.tMs < nextAt && x !== result.samples.at(-1)) continue;
    nextAt = x.tMs + everyMs - o.sampleMs / 2;
    rows.push([
      f(x.tMs / 1000, 0),
      x.phase,
      mib(x.rssKib),
      mib(x.heapKib),
      f(x.cpuCores, 3),
      int(x.online),
      int(x.callsActive),
      f(x.ping?.p50Ms, 2),
      f(x.ping?.p99Ms, 2),
    ]);
  }
  out.push(
    table(
      [
        't (s)',
        'phase',
        'RSS MiB',
        'heap MiB',
        'CPU cores',
        'online',
        'calls up',
        'ping p50',
        'ping p99',
      ],
      rows,
    ),
  );
  out.push('', `verdict: ${s.verdict.join('; ')}`);
  return out.join('\n');
}
