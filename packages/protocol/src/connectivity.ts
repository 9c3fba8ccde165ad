/**
 * What a network allows, in words a user can act on. The web app's "Test my connection" page,
 * the SDK's `testConnection()`, a call that could not connect and the operator's `callwire
 * doctor` all probe differently (a browser sees candidates, the CLI sends STUN and TURN
 * requests itself) but reduce what they saw to the same `ConnectivityProbe`, so every one of
 * them gives the same verdict in the same words.
 *
 * Pure: no I/O, no DOM or Node API.
 */

/** How one check went. `not_tested`: nothing to test (no such server configured). */
export type ProbeOutcome = 'ok' | 'failed' | 'not_tested';

/** The ways to reach a TURN server: `turn:` over UDP or TCP, `turns:` (TLS over TCP). */
export type TurnTransport = 'udp' | 'tcp' | 'tls';

export const TURN_TRANSPORTS: readonly TurnTransport[] = ['udp', 'tcp', 'tls'];

export interface ConnectivityProbe {
  /** The signaling server (ws/wss) answered. */
  signaling: ProbeOutcome;
  /** A STUN server answered over UDP (so direct, peer-to-peer media is possible). */
  stun: ProbeOutcome;
  /** The address the STUN server saw this side at, when it answered. */
  publicAddress?: string;
  /** A TURN allocation with the issued credentials succeeded over each transport. */
  turn: Readonly<Record<TurnTransport, ProbeOutcome>>;
}

/** Where each check went (`host:port`), to name in "ask your administrator to allow ...". */
export interface ConnectivityTargets {
  signaling?: string;
  stun?: string;
  turn?: Partial<Record<TurnTransport, string>>;
}

export type VerdictKind = 'works' | 'relay_only' | 'blocked' | 'not_tested';

/** The path a call from this network would take: direct, or through TURN over a transport. */
export type CallRoute = 'direct' | `relay-${TurnTransport}`;

export interface ConnectivityVerdict {
  kind: VerdictKind;
  /** What a call would use (the first that works), null when nothing does. */
  route: CallRoute | null;
  /** For `blocked`: what the network must let through, one item per way that would do. */
  allow: string[];
  /** One plain-language sentence for people, not operators. */
  text: string;
}

export const VERDICT_TEXT = {
  works: 'Calls will work.',
  relay_only: 'Calls will only work through the relay.',
  blocked: 'Calls cannot connect from this network',
  not_tested: 'The connection could not be tested.',
} as const satisfies Record<VerdictKind, string>;

const TRANSPORT_WORDS: Record<TurnTransport, string> = {
  udp: 'UDP',
  tcp: 'TCP',
  tls: 'TLS (TCP)',
};

/** Reduce a probe to its verdict. */
export function connectivityVerdict(
  probe: ConnectivityProbe,
  targets: ConnectivityTargets = {},
): ConnectivityVerdict {
  if (probe.signaling === 'failed') {
    const allow = [`connections to the call server${at(targets.signaling)}`];
    return { kind: 'blocked', route: null, allow, text: blockedText(allow) };
  }
  if (probe.stun === 'ok') {
    return { kind: 'works', route: 'direct', allow: [], text: VERDICT_TEXT.works };
  }
  const relay = TURN_TRANSPORTS.find((t) => probe.turn[t] === 'ok');
  if (relay !== undefined) {
    return {
      kind: 'relay_only',
      route: `relay-${relay}`,
      allow: [],
      text: VERDICT_TEXT.relay_only,
    };
  }
  const tested =
    probe.stun !== 'not_tested' || TURN_TRANSPORTS.some((t) => probe.turn[t] !== 'not_tested');
  if (!tested) {
    return { kind: 'not_tested', route: null, allow: [], text: VERDICT_TEXT.not_tested };
  }
  const allow: string[] = [];
  if (probe.stun === 'failed' && probe.turn.udp === 'not_tested')
    allow.push(`UDP${at(targets.stun)}`);
  for (const t of TURN_TRANSPORTS) {
    if (probe.turn[t] === 'failed') allow.push(`${TRANSPORT_WORDS[t]}${at(targets.turn?.[t])}`);
  }
  return { kind: 'blocked', route: null, allow, text: blockedText(allow) };
}

function at(target: string | undefined): string {
  return target === undefined || target === '' ? '' : ` to ${target}`;
}

function blockedText(allow: readonly string[]): string {
  const what = allow.length > 0 ? allow.join(', or ') : 'calls (UDP, or TCP to the relay)';
  return `${VERDICT_TEXT.blocked}: ask your administrator to allow ${what}.`;
}

/** What a STUN/TURN URL tests, and where it points (RFC 7064 / 7065 syntax). */
export interface IceUrlTarget {
  kind: 'stun' | 'turn';
  /** For TURN URLs: how the relay is reached. STUN is UDP. */
  transport: TurnTransport | null;
  /** `host:port`, with the scheme's default port filled in. */
  target: string;
}

const ICE_URL =
  /^(stuns?|turns?):(\[[0-9a-fA-F:.]+\]|[^:?[\]]+)(?::(\d{1,5}))?(?:\?transport=(udp|tcp))?$/i;

/** Parse one ICE server URL; null for anything that is not a STUN or TURN URL. */
export function parseIceUrl(url: string): IceUrlTarget | null {
  const m = ICE_URL.exec(url.trim());
  if (m === null) return null;
  const scheme = m[1]!.toLowerCase();
  const host = m[2]!;
  const secure = scheme.endsWith('s');
  const port = m[3] ?? (secure ? '5349' : '3478');
  const target = `${host}:${port}`;
  if (scheme.startsWith('stun')) return { kind: 'stun', transport: null, target };
  const transport: TurnTransport = secure ? 'tls' : m[4]?.toLowerCase() === 'tcp' ? 'tcp' : 'udp';
  return { kind: 'turn', transport, target };
}

/**
 * The targets a set of ICE server URLs gives each check (the first URL per check wins). A TURN
 * server over UDP answers STUN too, so it stands in for a STUN server when none is listed.
 */
export function iceTargets(urls: readonly string[]): ConnectivityTargets {
  const turn: Partial<Record<TurnTransport, string>> = {};
  let stun: string | undefined;
  for (const url of urls) {
    const parsed = parseIceUrl(url);
    if (parsed === null) continue;
    if (parsed.kind === 'stun') stun ??= parsed.target;
    else if (parsed.transport !== null) turn[parsed.transport] ??= parsed.target;
  }
  stun ??= turn.udp;
  return { ...(stun !== undefined ? { stun } : {}), turn };
}

/** What a person whose call failed to connect is told, given their own network's verdict. */
export const PEER_NETWORK_TEXT =
  "The call could not connect: the other person's network may be blocking calls.";

/**
 * The sentence for a call that failed to connect: this network's verdict when it is the one
 * blocking calls, otherwise a pointer at the other side's network.
 */
export function failureText(verdict: ConnectivityVerdict): string {
  return verdict.kind === 'blocked' ? verdict.text : PEER_NETWORK_TEXT;
}
