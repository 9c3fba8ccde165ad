/**
 * Counters live as plain numbers on the hot path and are copied into prom-client only when
 * /metrics is scraped, so relaying a message costs an integer increment, not a label lookup.
 */
import { Counter, Gauge, Registry, collectDefaultMetrics } from 'prom-client';
import type { EndReason, ErrorCode } from '@callwire/protocol';

export class Stats {
  connections = 0;
  logins = 0;
  loginFailures = 0;
  callsStarted = 0;
  relayed = 0;
  resumes = 0;
  readonly callsEnded = new Map<EndReason, number>();
  readonly errors = new Map<ErrorCode, number>();
  readonly closes = new Map<number, number>();

  callEnded(reason: EndReason): void {
    this.callsEnded.set(reason, (this.callsEnded.get(reason) ?? 0) + 1);
  }

  error(code: ErrorCode): void {
    this.errors.set(code, (this.errors.get(code) ?? 0) + 1);
  }

  closed(code: number): void {
    this.closes.set(code, (this.closes.get(code) ?? 0) + 1);
  }
}

export interface Gauges {
  online(): number;
  activeCalls(): number;
  /** PeerJS peers connected (they are not users: the hub does not count them). */
  peerjsPeers(): number;
}

export function createRegistry(stats: Stats, gauges: Gauges): Registry {
  const registry = new Registry();
  // The event-loop delay histogram samples every 10 ms by default: a wake-up 100 times a second
  // on an idle server. 100 ms is precise enough for a signaling server's dashboard.
  // Process and runtime metrics keep the standard names every Node.js exporter uses
  // (process_cpu_seconds_total, nodejs_heap_size_used_bytes, ...), so stock dashboards and
  // alerts work; a prefix only doubled them (callwire_process_process_...). The job and
  // instance labels say which server they come from.
  collectDefaultMetrics({ register: registry, eventLoopMonitoringPrecision: 100 });
  const setTotal = (counter: Counter, value: number, labels?: Record<string, string | number>) => {
    counter.reset();
    if (labels) counter.inc(labels, value);
    else counter.inc(value);
  };
  new Gauge({
    name: 'callwire_connections',
    help: 'Open WebSocket connections.',
    registers: [registry],
    collect() {
      this.set(stats.connections);
    },
  });
  new Gauge({
    name: 'callwire_users_online',
    help: 'Logged-in users.',
    registers: [registry],
    collect() {
      this.set(gauges.online());
    },
  });
  new Gauge({
    name: 'callwire_calls_active',
    help: 'Calls ringing or connected.',
    registers: [registry],
    collect() {
      this.set(gauges.activeCalls());
    },
  });
  new Gauge({
    name: 'callwire_peerjs_peers',
    help: 'Connected PeerJS peers.',
    registers: [registry],
    collect() {
      this.set(gauges.peerjsPeers());
    },
  });
  new Counter({
    name: 'callwire_logins_total',
    help: 'Successful logins.',
    registers: [registry],
    collect() {
      setTotal(this, stats.logins);
    },
  });
  new Counter({
    name: 'callwire_login_failures_total',
    help: 'Refused logins.',
    registers: [registry],
    collect() {
      setTotal(this, stats.loginFailures);
    },
  });
  new Counter({
    name: 'callwire_calls_started_total',
    help: 'Calls placed (rung).',
    registers: [registry],
    collect() {
      setTotal(this, stats.callsStarted);
    },
  });
  new Counter({
    name: 'callwire_calls_ended_total',
    help: 'Calls ended, by end reason (as the caller saw it).',
    labelNames: ['reason'],
    registers: [registry],
    collect() {
      this.reset();
      for (const [reason, n] of stats.callsEnded) this.inc({ reason }, n);
    },
  });
  new Counter({
    name: 'callwire_messages_relayed_total',
    help: 'Offers, answers and candidates relayed between call parties.',
    registers: [registry],
    collect() {
      setTotal(this, stats.relayed);
    },
  });
  new Counter({
    name: 'callwire_errors_total',
    help: 'Error replies sent, by code.',
    labelNames: ['code'],
    registers: [registry],
    collect() {
      this.reset();
      for (const [code, n] of stats.errors) this.inc({ code }, n);
    },
  });
  new Counter({
    name: 'callwire_closes_total',
    help: 'Connections closed by the server, by close code.',
    labelNames: ['code'],
    registers: [registry],
    collect() {
      this.reset();
      for (const [code, n] of stats.closes) this.inc({ code: String(code) }, n);
    },
  });
  return registry;
}
