/**
 * `callwire doctor URL`: can calls connect from this machine's network? It signs in to the
 * server at URL as a client would (a guest by default, or with --token / --password), takes the
 * STUN and TURN servers and credentials the server issues, and tries each: STUN over UDP, TURN
 * over UDP, TCP and TLS. The verdict is the web app's "Test my connection" verdict, in the
 * same words (protocol/connectivity.ts).
 *
 * Exit codes: 0 calls work, 3 only through the relay, 4 blocked, 5 nothing to test (no STUN or
 * TURN configured), 2 bad usage.
 */
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import {
  TURN_TRANSPORTS,
  connectivityVerdict,
  parseIceUrl,
  type ConnectivityProbe,
  type ConnectivityTargets,
  type ConnectivityVerdict,
  type IceServerValue,
  type ProbeOutcome,
  type TurnTransport,
} from '@callwire/protocol';
import WebSocket from 'ws';
import { splitTarget, stunBinding, turnAllocate, type ProbeResult } from './probe.js';

const USAGE =
  'usage: callwire doctor URL [--json] [--token JWT | --password P --name NAME] [--name NAME]\n' +
  '                        [--timeout-ms 5000] [--ca FILE]';

export const EXIT = { works: 0, usage: 2, relay_only: 3, blocked: 4, not_tested: 5 } as const;

export interface DoctorReport {
  url: string;
  probe: ConnectivityProbe;
  verdict: ConnectivityVerdict;
  /** Each check: where it went and what happened. */
  checks: { check: string; target: string | null; outcome: ProbeOutcome; detail: string }[];
}

export interface DoctorOptions {
  url: string;
  name: string;
  token?: string | undefined;
  password?: string | undefined;
  timeoutMs: number;
  ca?: string | undefined;
}

export async function doctorCommand(
  argv: readonly string[],
  out: NodeJS.WritableStream = process.stdout,
  err: NodeJS.WritableStream = process.stderr,
): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs({
      args: [...argv],
      options: {
        json: { type: 'boolean' },
        name: { type: 'string' },
        token: { type: 'string' },
        password: { type: 'string' },
        'timeout-ms': { type: 'string' },
        ca: { type: 'string' },
      },
      strict: true,
      allowPositionals: true,
    });
  } catch (e) {
    err.write(`callwire doctor: ${(e as Error).message}\n${USAGE}\n`);
    return EXIT.usage;
  }
  const { values, positionals } = parsed;
  const [rawUrl, ...extra] = positionals;
  const timeoutMs = Number(values['timeout-ms'] ?? '5000');
  const url = rawUrl === undefined ? null : signalingUrl(rawUrl);
  if (url === null || extra.length > 0 || !Number.isInteger(timeoutMs) || timeoutMs < 100) {
    err.write(`${USAGE}\n`);
    return EXIT.usage;
  }
  let ca: string | undefined;
  try {
    ca = values.ca === undefined ? undefined : readFileSync(values.ca, 'utf8');
  } catch (e) {
    err.write(`callwire doctor: cannot read --ca: ${(e as Error).message}\n`);
    return EXIT.usage;
  }
  const report = await runDoctor({
    url,
    name: values.name ?? 'doctor',
    token: values.token,
    password: values.password,
    timeoutMs,
    ca,
  });
  out.write(values.json === true ? JSON.stringify(report, null, 2) + '\n' : describe(report));
  return EXIT[report.verdict.kind];
}

/** `https://host/` and `host:port` as the WebSocket URL a browser on that page would use. */
function signalingUrl(raw: string): string | null {
  const withScheme = /^[a-z][a-z0-9+.-]*:\/\//i.test(raw) ? raw : `ws://${raw}`;
  try {
    const u = new URL(withScheme.replace(/^http/i, 'ws'));
    return u.protocol === 'ws:' || u.protocol === 'wss:' ? u.toString() : null;
  } catch {
    return null;
  }
}

export async function runDoctor(options: DoctorOptions): Promise<DoctorReport> {
  const checks: DoctorReport['checks'] = [];
  const signalingTarget = new URL(options.url).host;
  let iceServers: IceServerValue[];
  try {
    iceServers = await signIn(options);
    checks.push({
      check: 'signaling',
      target: signalingTarget,
      outcome: 'ok',
      detail: 'signed in',
    });
  } catch (error) {
    const detail = (error as Error).message;
    checks.push({ check: 'signaling', target: signalingTarget, outcome: 'failed', detail });
    const probe: ConnectivityProbe = {
      signaling: 'failed',
      stun: 'not_tested',
      turn: { udp: 'not_tested', tcp: 'not_tested', tls: 'not_tested' },
    };
    const verdict = connectivityVerdict(probe, { signaling: signalingTarget });
    return { url: options.url, probe, verdict, checks };
  }

  // The first URL of each kind, with the credentials of the entry it came from.
  let stunTarget: string | undefined;
  const turn: Partial<
    Record<TurnTransport, { target: string; username: string; password: string }>
  > = {};
  for (const server of iceServers) {
    for (const url of typeof server.urls === 'string' ? [server.urls] : server.urls) {
      const parsed = parseIceUrl(url);
      if (parsed === null) continue;
      if (parsed.kind === 'stun') stunTarget ??= parsed.target;
      else if (parsed.transport !== null && server.username !== undefined)
        turn[parsed.transport] ??= {
          target: parsed.target,
          username: server.username,
          password: server.credential ?? '',
        };
    }
  }
  // A TURN server over UDP answers STUN Binding requests too (browsers use it that way).
  stunTarget ??= turn.udp?.target;
  const probeOptions = { timeoutMs: options.timeoutMs, ca: options.ca };
  const [stun, ...relays] = await Promise.all([
    stunTarget === undefined ? null : stunBinding(splitTarget(stunTarget), probeOptions),
    ...TURN_TRANSPORTS.map((t) => {
      const entry = turn[t];
      return entry === undefined
        ? null
        : turnAllocate(splitTarget(entry.target), t, entry.username, entry.password, probeOptions);
    }),
  ]);
  const outcome = (r: ProbeResult | null): ProbeOutcome =>
    r === null ? 'not_tested' : r.ok ? 'ok' : 'failed';
  const detail = (r: ProbeResult | null, okWord: string): string =>
    r === null ? 'not configured' : r.ok ? `${okWord} ${r.address ?? '?'}` : r.error;
  checks.push({
    check: 'stun',
    target: stunTarget ?? null,
    outcome: outcome(stun),
    detail: detail(stun, 'seen as'),
  });
  const turnOutcomes = {} as Record<TurnTransport, ProbeOutcome>;
  TURN_TRANSPORTS.forEach((t, i) => {
    const r = relays[i] ?? null;
    turnOutcomes[t] = outcome(r);
    checks.push({
      check: `turn-${t}`,
      target: turn[t]?.target ?? null,
      outcome: outcome(r),
      detail: detail(r, 'relay at'),
    });
  });
  const probe: ConnectivityProbe = {
    signaling: 'ok',
    stun: outcome(stun),
    ...(stun?.ok === true && stun.address !== null ? { publicAddress: stun.address } : {}),
    turn: turnOutcomes,
  };
  const targets: ConnectivityTargets = {
    signaling: signalingTarget,
    ...(stunTarget !== undefined ? { stun: stunTarget } : {}),
    turn: Object.fromEntries(
      TURN_TRANSPORTS.filter((t) => turn[t] !== undefined).map((t) => [t, turn[t]!.target]),
    ),
  };
  return { url: options.url, probe, verdict: connectivityVerdict(probe, targets), checks };
}

/** Sign in like the web app and return the issued ICE servers. */
function signIn(options: DoctorOptions): Promise<IceServerValue[]> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(options.url, { handshakeTimeout: options.timeoutMs });
    const timer = setTimeout(() => {
      ws.terminate();
      reject(new Error(`no login reply within ${options.timeoutMs} ms`));
    }, options.timeoutMs);
    const finish = (error: Error | null, servers?: IceServerValue[]): void => {
      clearTimeout(timer);
      ws.close();
      if (error !== null) reject(error);
      else resolve(servers ?? []);
    };
    ws.on('open', () => {
      const login: Record<string, unknown> = { type: 'login', name: options.name, protocol: 1 };
      if (options.token !== undefined) login['token'] = options.token;
      else if (options.password !== undefined) login['password'] = options.password;
      else login['guest'] = true;
      ws.send(JSON.stringify(login));
    });
    ws.on('message', (data: Buffer) => {
      let msg: { type?: string; success?: boolean; code?: string; iceServers?: IceServerValue[] };
      try {
        msg = JSON.parse(data.toString('utf8')) as typeof msg;
      } catch {
        return;
      }
      if (msg.type !== 'login') return;
      if (msg.success === true) finish(null, msg.iceServers ?? []);
      else finish(new Error(`login refused: ${msg.code ?? 'unknown'}`));
    });
    ws.on('error', (error) => finish(error));
    ws.on('unexpected-response', (_req, res) => {
      finish(new Error(`HTTP ${res.statusCode} instead of a WebSocket`));
    });
  });
}

const MARK: Record<ProbeOutcome, string> = { ok: 'ok', failed: 'FAILED', not_tested: '-' };
const LABEL: Record<string, string> = {
  signaling: 'Signaling (ws/wss)',
  stun: 'STUN over UDP',
  'turn-udp': 'TURN over UDP',
  'turn-tcp': 'TURN over TCP',
  'turn-tls': 'TURN over TLS',
};

function describe(report: DoctorReport): string {
  const lines = report.checks.map(
    (c) =>
      `${(LABEL[c.check] ?? c.check).padEnd(20)} ${MARK[c.outcome].padEnd(7)} ` +
      `${c.target ?? ''}${c.target !== null ? '  ' : ''}${c.detail}`,
  );
  return `callwire doctor ${report.url}\n\n${lines.join('\n')}\n\n${report.verdict.text}\n`;
}
