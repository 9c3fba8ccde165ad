/**
 * What this browser's network lets through, seen the way a browser can see it: which ICE
 * candidates appear when it gathers with the ICE servers callwire issued. A server-reflexive
 * candidate (or a relay over UDP, whose TURN server answered over UDP) means UDP reaches the
 * servers, so direct media is possible; a relay candidate per TURN transport means that
 * transport allocates with the issued credentials. The words come from the protocol package's
 * `connectivityVerdict`, the same ones `callwire doctor` prints.
 */
import {
  TURN_TRANSPORTS,
  connectivityVerdict,
  iceTargets,
  parseIceUrl,
  type ConnectivityProbe,
  type ConnectivityVerdict,
  type ProbeOutcome,
  type TurnTransport,
} from '@callwire/protocol';
import { CallwireError } from './errors.js';

/** One local candidate, from `getStats()` (`local-candidate`). */
export interface LocalCandidate {
  type: 'host' | 'srflx' | 'prflx' | 'relay';
  protocol: 'udp' | 'tcp';
  /** For relay candidates: how this browser reaches the TURN server. */
  relayProtocol: TurnTransport | null;
  address: string | null;
  relatedAddress: string | null;
}

/**
 * The result of `testConnection()`: what was seen, the verdict, and the candidates behind it.
 *
 * @example
 * ```ts
 * const result = await client.testConnection();
 * verdictLine.textContent = result.verdict.text; // "Calls will work." ...
 * ```
 */
export interface ConnectionTestResult {
  probe: ConnectivityProbe;
  verdict: ConnectivityVerdict;
  candidates: LocalCandidate[];
}

/** Every STUN/TURN URL of a configuration. */
export function iceUrls(servers: readonly RTCIceServer[] | undefined): string[] {
  return (servers ?? []).flatMap((s) => (typeof s.urls === 'string' ? [s.urls] : [...s.urls]));
}

/** Reduce gathered candidates to a probe. Pure, for unit tests. */
export function probeFromCandidates(
  urls: readonly string[],
  candidates: readonly LocalCandidate[],
  signaling: ProbeOutcome,
): ConnectivityProbe {
  const parsed = urls.map(parseIceUrl).filter((u) => u !== null);
  const configured = (t: TurnTransport): boolean =>
    parsed.some((u) => u.kind === 'turn' && u.transport === t);
  // A TURN server over UDP answers STUN Binding requests too.
  const stunConfigured = parsed.some((u) => u.kind === 'stun') || configured('udp');
  const srflx = candidates.find((c) => c.type === 'srflx');
  const udpRelay = candidates.find((c) => c.type === 'relay' && c.relayProtocol === 'udp');
  const stunOk = srflx !== undefined || udpRelay !== undefined;
  const turn = Object.fromEntries(
    TURN_TRANSPORTS.map((t) => [
      t,
      !configured(t)
        ? 'not_tested'
        : candidates.some((c) => c.type === 'relay' && c.relayProtocol === t)
          ? 'ok'
          : 'failed',
    ]),
  ) as Record<TurnTransport, ProbeOutcome>;
  const publicAddress = srflx?.address ?? udpRelay?.relatedAddress ?? null;
  return {
    signaling,
    stun: stunOk ? 'ok' : stunConfigured ? 'failed' : 'not_tested',
    ...(stunOk && publicAddress !== null ? { publicAddress } : {}),
    turn,
  };
}

const str = (v: unknown): string | null => (typeof v === 'string' && v !== '' ? v : null);

/** The local candidates a peer connection has gathered so far. */
export async function localCandidates(pc: RTCPeerConnection): Promise<LocalCandidate[]> {
  const report = await pc.getStats();
  const out: LocalCandidate[] = [];
  report.forEach((s: Record<string, unknown>) => {
    if (s['type'] !== 'local-candidate') return;
    const type = s['candidateType'];
    if (type !== 'host' && type !== 'srflx' && type !== 'prflx' && type !== 'relay') return;
    const relay = s['relayProtocol'];
    out.push({
      type,
      protocol: s['protocol'] === 'tcp' ? 'tcp' : 'udp',
      relayProtocol: relay === 'udp' || relay === 'tcp' || relay === 'tls' ? relay : null,
      address: str(s['address']),
      relatedAddress: str(s['relatedAddress']),
    });
  });
  return out;
}

/** The verdict for a call's peer connection (signaling works: the call got this far). */
export async function diagnoseConnection(
  pc: RTCPeerConnection,
  servers: readonly RTCIceServer[] | undefined,
): Promise<ConnectivityVerdict> {
  const urls = iceUrls(servers);
  let candidates: LocalCandidate[] = [];
  try {
    candidates = await localCandidates(pc);
  } catch {
    // A closed connection has no stats; judge from nothing gathered.
  }
  return connectivityVerdict(probeFromCandidates(urls, candidates, 'ok'), iceTargets(urls));
}

/**
 * Gather in a throwaway peer connection (nothing is sent to anybody) until gathering completes
 * or `timeoutMs` passes. A network that drops packets (rather than refusing them) keeps
 * gathering going for its retransmissions; what has appeared by the timeout is the answer.
 */
export async function testIceServers(
  servers: readonly RTCIceServer[],
  options: { timeoutMs?: number; signaling?: ProbeOutcome } = {},
): Promise<ConnectionTestResult> {
  if (typeof RTCPeerConnection !== 'function') {
    throw new CallwireError('protocol_error', 'this environment has no WebRTC');
  }
  const timeoutMs = options.timeoutMs ?? 5_000;
  if (!(timeoutMs > 0)) throw new TypeError('timeoutMs must be a positive number');
  const urls = iceUrls(servers);
  const pc = new RTCPeerConnection({ iceServers: [...servers] });
  try {
    pc.createDataChannel('callwire-connection-test');
    const done = new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, timeoutMs);
      const finish = (): void => {
        clearTimeout(timer);
        resolve();
      };
      pc.addEventListener('icegatheringstatechange', () => {
        if (pc.iceGatheringState === 'complete') finish();
      });
      pc.addEventListener('icecandidate', ({ candidate }) => {
        if (candidate === null) finish();
      });
    });
    await pc.setLocalDescription(await pc.createOffer());
    await done;
    const candidates = await localCandidates(pc);
    const probe = probeFromCandidates(urls, candidates, options.signaling ?? 'ok');
    return { probe, verdict: connectivityVerdict(probe, iceTargets(urls)), candidates };
  } finally {
    pc.close();
  }
}
