#!/usr/bin/env node
// Entry point of the relay benchmark (npm run bench): runs the rounds, writes the raw results
// as JSON to bench/results/ and prints a Markdown report. See BENCHMARKS.md.
import { mkdirSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { machineInfo } from './lib/machine.js';
import { measureTarget } from './lib/measure-target.js';
import { USAGE, parseOptions } from './lib/options.js';
import { prioritizeSessionGroup } from './lib/priority.js';
import { waitForQuiet } from './lib/quiet.js';
import { markdownReport } from './lib/report.js';
import { formatSummary, summarize } from './profile-summary.js';
import { TARGETS } from './lib/targets.js';

// Other processes using less than this many cores count as a quiet machine (see --wait-quiet).
const QUIET_CORES = 0.15;

const log = (line) => process.stderr.write(line + '\n');

/** For --profile: each server's CPU profile, restricted to each phase in turn. */
function profileReport(results) {
  const out = [];
  for (const r of results) {
    const files = r.profileDir
      ? readdirSync(r.profileDir).filter((f) => f.endsWith('.cpuprofile'))
      : [];
    if (files.length === 0) {
      out.push(`## ${r.target} round ${r.round}: no profile written`, '');
      continue;
    }
    const path = join(r.profileDir, files[0]);
    const profile = JSON.parse(readFileSync(path, 'utf8'));
    for (const phase of ['login', 'setup', 'storm', 'fixed']) {
      const [fromUs, toUs] = r.windowsUs[phase];
      out.push(`## ${r.target} round ${r.round}, ${phase} phase (${path})`, '');
      out.push(formatSummary(summarize(profile, { fromUs, toUs }), 20), '');
    }
  }
  return out.join('\n');
}

/** Every target once per round, in an order that rotates so that none always runs first. */
async function runRounds(options, results) {
  for (let round = 1; round <= options.rounds; round++) {
    const shift = (round - 1) % options.targets.length;
    const order = [...options.targets.slice(shift), ...options.targets.slice(0, shift)];
    for (const target of order) {
      log(`round ${round}: ${target}`);
      if (options.waitQuietMs > 0) await waitForQuiet(options.waitQuietMs, QUIET_CORES, log);
      results.push(await measureTarget(target, options, { round, log }));
    }
  }
}

async function main() {
  let options;
  try {
    options = parseOptions(process.argv.slice(2));
  } catch (error) {
    log(`${error.message}\n\n${USAGE}`);
    return 2;
  }
  if (options.help) {
    process.stdout.write(USAGE + '\n');
    return 0;
  }
  for (const t of options.targets) {
    const why = TARGETS[t].missing();
    if (why) {
      log(`cannot run ${t}: ${why}`);
      return 1;
    }
  }
  if (options.effectiveRate < options.rate) {
    log(
      `fixed rate capped at ${options.effectiveRate}/s (40 msg/s per client, under callwire's limit)`,
    );
  }
  const started = new Date();
  const results = [];
  const restorePriority =
    options.priority === null ? () => {} : prioritizeSessionGroup(options.priority);
  try {
    await runRounds(options, results);
  } finally {
    restorePriority();
  }
  const report = markdownReport(results, options);
  mkdirSync(options.out, { recursive: true });
  const file = join(options.out, `bench-${started.toISOString().replace(/[:.]/g, '-')}.json`);
  const machine = machineInfo();
  const { help: _help, ...recordedOptions } = options;
  writeFileSync(
    file,
    JSON.stringify({ started, machine, options: recordedOptions, results }, null, 2) + '\n',
  );
  process.stdout.write(report + '\n\n');
  if (options.profile) process.stdout.write(profileReport(results) + '\n');
  process.stdout.write(`results: ${file}\n`);
  return results.some((r) => r.lost > 0 || r.corrupted > 0 || r.wrongSource > 0) ? 1 : 0;
}

main().then(
  (code) => {
    process.exitCode = code;
  },
  (error) => {
    log(String(error?.stack ?? error));
    process.exitCode = 1;
  },
);
