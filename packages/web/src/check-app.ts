/**
 * `/check`, "Test my connection": what this browser's network lets through to this server,
 * in the words a call that fails to connect uses too. It signs in as a throwaway guest (so it
 * never takes the person's own name from another tab), gathers with the STUN/TURN servers and
 * credentials the server issued (`client.testConnection()`), and signs out again.
 */
import {
  connect,
  CallwireError,
  connectivityVerdict,
  type ConnectivityProbe,
  type ConnectivityVerdict,
} from '@callwire/client';
import { signalingUrl } from './environment.js';
import { CheckView, type CheckRow } from './views/check-view.js';
import type { ScreenHost } from './views/screen-host.js';

/** How long to gather: long enough for TLS to a relay on a slow network. */
const GATHER_MS = 6_000;

export class CheckApp {
  private readonly view = new CheckView(() => void this.run());
  private running = false;

  constructor(private readonly host: ScreenHost) {}

  start(): void {
    this.host.show(this.view, 'Test my connection');
    void this.run();
  }

  private async run(): Promise<void> {
    if (this.running) return;
    this.running = true;
    this.view.checking();
    try {
      const { probe, verdict } = await this.probe();
      this.view.done(rows(probe), verdict);
    } finally {
      this.running = false;
    }
  }

  private async probe(): Promise<{ probe: ConnectivityProbe; verdict: ConnectivityVerdict }> {
    const name = `check-${Math.random().toString(36).slice(2, 8)}`;
    let client;
    try {
      client = await connect(signalingUrl(), { name, guest: true, resume: false });
    } catch (err) {
      // A refusal at login (guests turned off here) means the server was reached; a socket that
      // never opened or closed on us means it was not.
      const reached = err instanceof CallwireError && REFUSALS.has(err.code);
      const probe: ConnectivityProbe = {
        signaling: reached ? 'ok' : 'failed',
        stun: 'not_tested',
        turn: { udp: 'not_tested', tcp: 'not_tested', tls: 'not_tested' },
      };
      return { probe, verdict: connectivityVerdict(probe, { signaling: location.host }) };
    }
    try {
      return await client.testConnection({ timeoutMs: GATHER_MS });
    } finally {
      client.close();
    }
  }
}

const REFUSALS = new Set<string>([
  'guests_disabled',
  'name_invalid',
  'name_taken',
  'name_reserved',
  'rate_limited',
]);

const WORDS = { ok: 'Works', failed: 'Blocked', not_tested: 'Not configured' } as const;

function rows(probe: ConnectivityProbe): CheckRow[] {
  const stun =
    probe.stun === 'ok' && probe.publicAddress
      ? `Works (seen as ${probe.publicAddress})`
      : WORDS[probe.stun];
  return [
    { label: 'Call server (signaling)', outcome: probe.signaling, text: WORDS[probe.signaling] },
    { label: 'Direct connection (UDP, STUN)', outcome: probe.stun, text: stun },
    { label: 'Relay over UDP', outcome: probe.turn.udp, text: WORDS[probe.turn.udp] },
    { label: 'Relay over TCP', outcome: probe.turn.tcp, text: WORDS[probe.turn.tcp] },
    { label: 'Relay over TLS', outcome: probe.turn.tls, text: WORDS[probe.turn.tls] },
  ];
}
