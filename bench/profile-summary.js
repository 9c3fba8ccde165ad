#!/usr/bin/env node
// Where a server's CPU time went: the functions with the most self time in a V8 .cpuprofile
// (written by node --cpu-prof, see `bench/run.js --profile`), and the same time grouped by
// where the code lives (callwire, ws, other packages, Node internals, GC, idle).
//
// Usage: node bench/profile-summary.js FILE.cpuprofile [--from US --to US] [--top N]
// --from/--to select samples by their CLOCK_MONOTONIC timestamp in µs (bench results record
// each run's relay phase as relayWindowUs).
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';

/** Groups a call frame by where its code comes from. */
function place(frame) {
  const url = frame.url ?? '';
  const name = frame.functionName;
  if (!url) {
    if (name === '(garbage collector)' || name === '(idle)' || name === '(program)') return name;
    return '(native / builtin)';
  }
  const pkg = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(url);
  if (pkg) return pkg[1];
  if (url.startsWith('node:')) return 'node internals';
  if (url.includes('/packages/')) return 'callwire ' + /\/packages\/([^/]+)/.exec(url)[1];
  if (url.includes('/bench/')) return 'bench';
  return url;
}

/**
 * @param {object} profile parsed .cpuprofile
 * @param {{ fromUs?: number, toUs?: number }} window
 */
export function summarize(profile, { fromUs = -Infinity, toUs = Infinity } = {}) {
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const selfUs = new Map();
  let t = profile.startTime;
  let totalUs = 0;
  for (let i = 0; i < profile.samples.length; i++) {
    const delta = profile.timeDeltas[i] ?? 0;
    t += delta;
    if (t < fromUs || t > toUs) continue;
    // A sample's time is the interval that follows it; the next delta is the best estimate.
    const us = profile.timeDeltas[i + 1] ?? delta;
    selfUs.set(profile.samples[i], (selfUs.get(profile.samples[i]) ?? 0) + us);
    totalUs += us;
  }
  const functions = new Map();
  const places = new Map();
  for (const [id, us] of selfUs) {
    const frame = byId.get(id).callFrame;
    const file = (frame.url ?? '').replace(/^.*\/(node_modules|packages)\//, '$1/');
    const key = `${frame.functionName || '(anonymous)'} ${file}:${frame.lineNumber + 1}`;
    functions.set(key, (functions.get(key) ?? 0) + us);
    const where = place(frame);
    places.set(where, (places.get(where) ?? 0) + us);
  }
  const ranked = (map) => [...map].sort((a, b) => b[1] - a[1]);
  return { totalUs, functions: ranked(functions), places: ranked(places) };
}

export function formatSummary({ totalUs, functions, places }, top = 25) {
  const pct = (us) => ((100 * us) / totalUs).toFixed(1).padStart(5) + '%';
  const lines = [`sampled ${(totalUs / 1000).toFixed(0)} ms`, '', 'by place:'];
  for (const [where, us] of places) lines.push(`  ${pct(us)}  ${where}`);
  lines.push('', `top ${top} functions by self time:`);
  for (const [key, us] of functions.slice(0, top)) lines.push(`  ${pct(us)}  ${key}`);
  return lines.join('\n');
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const { values, positionals } = parseArgs({
    allowPositionals: true,
    options: { from: { type: 'string' }, to: { type: 'string' }, top: { type: 'string' } },
  });
  if (positionals.length !== 1) {
    console.error(
      'Usage: node bench/profile-summary.js FILE.cpuprofile [--from US --to US] [--top N]',
    );
    process.exit(2);
  }
  const profile = JSON.parse(readFileSync(positionals[0], 'utf8'));
  const window = {};
  if (values.from) window.fromUs = Number(values.from);
  if (values.to) window.toUs = Number(values.to);
  console.log(formatSummary(summarize(profile, window), Number(values.top ?? 25)));
}
