/* global fetch, AbortSignal */
// What the soak reads every sample, all from outside the server: its RSS (VmRSS) and CPU time
// from /proc, its JS heap and counters from /metrics (prom-client's standard process metrics
// and callwire's own), and from each load generator the ping round trips and call counters
// since the previous sample.
import { cpuSample, machineBusyUs, rssBytes, schedWaitUs, statCpuUs } from './proc.js';
import { requestAll } from './workers.js';
import { latency } from './soak-report.js';

const METRICS_TIMEOUT_MS = 5_000;

/** Prometheus text -> { 'name{labels}': value }. Only the few lines the soak reads matter. */
export function parseMetrics(text) {
  const out = {};
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#')) continue;
    const at = line.lastIndexOf(' ');
    out[line.slice(0, at)] = Number(line.slice(at + 1));
  }
  return out;
}

/** Values of a labelled counter, by the label's value: { '4029': 3, ... }. */
export function byLabel(metrics, name, label) {
  const out = {};
  const prefix = `${name}{`;
  for (const [key, value] of Object.entries(metrics)) {
    if (!key.startsWith(prefix) || value === 0) continue;
    const m = new RegExp(`${label}="([^"]*)"`).exec(key);
    if (m) out[m[1]] = value;
  }
  return out;
}

export async function readMetrics(port) {
  try {
    const res = await fetch(`http://127.0.0.1:${port}/metrics`, {
      signal: AbortSignal.timeout(METRICS_TIMEOUT_MS),
    });
    return parseMetrics(await res.text());
  } catch {
    return null;
  }
}

const cpuUs = (sample) => sample.schedUs ?? sample.statUs;

export class Sampler {
  /**
   * @param {{ pid: number, port: number }} server
   * @param {import('./workers.js').Worker[]} workers
   * @param {() => string} phase the run's phase now
   */
  constructor(server, workers, phase) {
    this.server = server;
    this.workers = workers;
    this.phase = phase;
    this.t0 = performance.now();
    this.samples = [];
    /** Every idle client's ping round trip (ms), with the phase it was taken in. */
    this.rtts = { login: [], warmup: [], steady: [] };
    /** Every call setup round trip (ms) the generators reported. */
    this.setupMs = [];
    this.last = this.#readings();
    this.lastRelayed = 0;
  }

  #readings() {
    const pids = [this.server.pid, ...this.workers.map((w) => w.child.pid)];
    let ownUs = process.cpuUsage().user + process.cpuUsage().system;
    for (const pid of pids.slice(1)) {
      try {
        ownUs += statCpuUs(pid);
      } catch {
        // A generator that has exited uses no CPU.
      }
    }
    const server = cpuSample(this.server.pid);
    return {
      atMs: performance.now(),
      server,
      serverWaitUs: schedWaitUs(this.server.pid),
      ownUs: ownUs + server.statUs,
      machineUs: machineBusyUs(),
    };
  }

  /** Takes one sample; resolves with it. */
  async sample() {
    const phase = this.phase();
    const now = this.#readings();
    const wallUs = (now.atMs - this.last.atMs) * 1000;
    const serverUs = cpuUs(now.server) - cpuUs(this.last.server);
    const rssKib = rssBytes(this.server.pid) / 1024;
    const [metrics, fromWorkers] = await Promise.all([
      readMetrics(this.server.port),
      requestAll(this.workers, 'sample', () => ({}), 30_000).catch(() => null),
    ]);
    const rtts = fromWorkers ? fromWorkers.flatMap((w) => [...w.rtts]) : [];
    (this.rtts[phase] ?? []).push(...rtts);
    const relayed = metrics?.callwire_messages_relayed_total ?? NaN;
    const sum = (get) => (fromWorkers ? fromWorkers.reduce((n, w) => n + get(w), 0) : NaN);
    const sample = {
      tMs: now.atMs - this.t0,
      phase,
      rssKib,
      heapKib: metrics
        ? (metrics.nodejs_heap_size_used_bytes + metrics.nodejs_external_memory_bytes) / 1024
        : NaN,
      heapUsedKib: metrics ? metrics.nodejs_heap_size_used_bytes / 1024 : NaN,
      heapTotalKib: metrics ? metrics.nodejs_heap_size_total_bytes / 1024 : NaN,
      cpuCores: serverUs / wallUs,
      // Time the server was ready to run but had no CPU, per second (the machine's doing).
      waitCores:
        now.serverWaitUs === null || this.last.serverWaitUs === null
          ? NaN
          : (now.serverWaitUs - this.last.serverWaitUs) / wallUs,
      otherCores: (now.machineUs - this.last.machineUs - (now.ownUs - this.last.ownUs)) / wallUs,
      connections: metrics?.callwire_connections ?? NaN,
      online: metrics?.callwire_users_online ?? NaN,
      callsActive: metrics?.callwire_calls_active ?? NaN,
      relayedPerSec: ((relayed - this.lastRelayed) * 1e6) / wallUs,
      loopDelayP99Ms: (metrics?.nodejs_eventloop_lag_p99_seconds ?? NaN) * 1000,
      serverCloses: metrics ? byLabel(metrics, 'callwire_closes_total', 'code') : null,
      serverErrors: metrics ? byLabel(metrics, 'callwire_errors_total', 'code') : null,
      relayedTotal: relayed,
      ping: latency(rtts),
      pings: sum((w) => w.pings),
      missedPongs: sum((w) => w.missedPongs),
      unexpectedCloses: sum((w) => w.unexpected),
      callsCompleted: sum((w) => w.calls?.completed ?? 0),
      callsFailed: sum((w) => w.calls?.failed ?? 0),
      candidatesLost: sum((w) => w.calls?.lost ?? 0),
    };
    for (const w of fromWorkers ?? []) this.setupMs.push(...(w.calls?.setupMs ?? []));
    if (Number.isFinite(relayed)) this.lastRelayed = relayed;
    this.last = now;
    this.samples.push(sample);
    return sample;
  }
}
