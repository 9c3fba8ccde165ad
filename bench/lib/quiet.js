// Waits for the machine to be quiet before a measurement. The benchmark shares two cores with
// whatever else runs (builds, test suites); CPU per message survives some of that, but
// throughput and latency do not, so a run can wait until other work stops (bounded in time).
import { machineBusyUs } from './proc.js';

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
const ownUs = () => {
  const { user, system } = process.cpuUsage();
  return user + system;
};

/** Cores' worth of CPU used by other processes over the next `windowMs`. */
export async function otherLoadCores(windowMs = 1_000) {
  const machine = machineBusyUs();
  const own = ownUs();
  const started = performance.now();
  await sleep(windowMs);
  const busy = machineBusyUs() - machine - (ownUs() - own);
  return busy / ((performance.now() - started) * 1000);
}

/**
 * Resolves once other processes use less than `thresholdCores` over a one-second window, or
 * after `maxWaitMs` whatever the load; returns the last load seen.
 */
export async function waitForQuiet(maxWaitMs, thresholdCores, log) {
  const deadline = performance.now() + maxWaitMs;
  let load = await otherLoadCores();
  while (load >= thresholdCores && performance.now() < deadline) {
    log(`  machine busy (${load.toFixed(2)} cores used by other processes), waiting`);
    load = await otherLoadCores(2_000);
  }
  return load;
}
