#!/usr/bin/env node
// Entry point of the relay benchmark (npm run bench). Runs every target once per round, in an
// order that rotates between rounds so neither server always runs first, writes the raw
// results as JSON to bench/results/ and prints a Markdown report. See BENCHMARKS.md.
import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { join } from 'node:path';
import { measureTarget } from './lib/measure-target.js';
import { USAGE, parseOptions } from './lib/options.js';
import { markdownReport } from './lib/report.js';
import { TARGETS } from './lib/targets.js';

const log = (line) => process.stderr.write(line + '\n');

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
    log(`fixed rate capped at ${options.effectiveRate}/s (40 msg/s per client, under callwire's limit)`);
  }
  const started = new Date();
  const results = [];
  for (let round = 1; round <= options.rounds; round++) {
    const shift = (round - 1) % options.targets.length;
    const order = [...options.targets.slice(shift), ...options.targets.slice(0, shift)];
    for (const target of order) {
      log(`round ${round}: ${target}`);
      results.push(await measureTarget(target, options, { round, log }));
    }
  }
  const report = markdownReport(results, options);
  mkdirSync(options.out, { recursive: true });
  const file = join(options.out, `bench-${started.toISOString().replace(/[:.]/g, '-')}.json`);
  const machine = { cpus: cpus().length, cpuModel: cpus()[0]?.model, node: process.version, platform: process.platform };
  const { help: _help, ...recordedOptions } = options;
  writeFileSync(file, JSON.stringify({ started, machine, options: recordedOptions, results }, null, 2) + '\n');
  process.stdout.write(report + '\n\n');
  process.stdout.write(`results: ${file}\n`);
  return results.some((r) => r.lost > 0) ? 1 : 0;
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
