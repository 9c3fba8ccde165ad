/**
 * Call quality from `RTCPeerConnection.getStats()`, reduced to the figures a call UI shows.
 * Rates are computed between two consecutive reports, so the first sample of a call reports
 * zero bitrates and zero loss.
 */

/**
 * One sample of call quality (the `stats` event of a Call, or `call.getStats()`).
 *
 * @example
 * ```ts
 * call.on('stats', (s) => {
 *   quality.textContent = `${s.bitrateInKbps.toFixed(0)} kbps in, rtt ${s.rttMs ?? '?'} ms, ${s.path}`;
 * });
 * ```
 */
export interface StatsSample {
  /** When the sample was taken (ms since the epoch). */
  at: number;
  /** Everything received over the connection (media and data channels) since the last sample. */
  bitrateInKbps: number;
  /** Everything sent over the connection since the last sample. */
  bitrateOutKbps: number;
  /** Round-trip time of the selected candidate pair. */
  rttMs: number | null;
  /** Fraction of inbound RTP packets lost since the last sample, 0..1. */
  packetLoss: number;
  /** Largest inbound RTP jitter. */
  jitterMs: number | null;
  /** Frames per second of the received video, when there is video. */
  framesPerSecond: number | null;
  /** `relay` when the media goes through a TURN server. */
  path: 'direct' | 'relay' | 'unknown';
  /** On a relayed path: how this side reaches the TURN server (`tls` is `turns:`); else null. */
  relayProtocol: 'udp' | 'tcp' | 'tls' | null;
}

/** Running totals a sample is compared with. */
export interface StatsTotals {
  at: number;
  bytesIn: number;
  bytesOut: number;
  packetsLost: number;
  packetsReceived: number;
}

type StatsRecord = Record<string, unknown> & { id: string; type: string };

const num = (v: unknown): number | undefined =>
  typeof v === 'number' && Number.isFinite(v) ? v : undefined;

/** Reduce one stats report, given the totals of the previous one. Pure, for unit tests. */
export function summarize(
  report: Iterable<StatsRecord>,
  previous: StatsTotals | null,
  now: number,
): { sample: StatsSample; totals: StatsTotals } {
  const byId = new Map<string, StatsRecord>();
  for (const s of report) byId.set(s.id, s);

  let transportIn = 0;
  let transportOut = 0;
  let hasTransport = false;
  let selectedPairId: string | undefined;
  let fallbackPair: StatsRecord | undefined;
  let packetsLost = 0;
  let packetsReceived = 0;
  let jitterMs: number | null = null;
  let framesPerSecond: number | null = null;

  for (const s of byId.values()) {
    switch (s.type) {
      case 'transport':
        hasTransport = true;
        transportIn += num(s.bytesReceived) ?? 0;
        transportOut += num(s.bytesSent) ?? 0;
        if (typeof s.selectedCandidatePairId === 'string')
          selectedPairId = s.selectedCandidatePairId;
        break;
      case 'candidate-pair':
        if (s.nominated === true && s.state === 'succeeded') fallbackPair = s;
        break;
      case 'inbound-rtp': {
        packetsLost += Math.max(0, num(s.packetsLost) ?? 0);
        packetsReceived += num(s.packetsReceived) ?? 0;
        const jitter = num(s.jitter);
        if (jitter !== undefined) jitterMs = Math.max(jitterMs ?? 0, jitter * 1000);
        const fps = num(s.framesPerSecond);
        if (s.kind === 'video' && fps !== undefined)
          framesPerSecond = Math.max(framesPerSecond ?? 0, fps);
        break;
      }
      default:
        break;
    }
  }

  const pair =
    (selectedPairId !== undefined ? byId.get(selectedPairId) : undefined) ?? fallbackPair;
  const bytesIn = hasTransport ? transportIn : (num(pair?.bytesReceived) ?? 0);
  const bytesOut = hasTransport ? transportOut : (num(pair?.bytesSent) ?? 0);
  const rtt = num(pair?.currentRoundTripTime);
  let path: StatsSample['path'] = 'unknown';
  let relayProtocol: StatsSample['relayProtocol'] = null;
  if (pair !== undefined) {
    const local = byId.get(String(pair.localCandidateId));
    const remote = byId.get(String(pair.remoteCandidateId));
    path =
      local?.candidateType === 'relay' || remote?.candidateType === 'relay' ? 'relay' : 'direct';
    const protocol = local?.candidateType === 'relay' ? local.relayProtocol : undefined;
    if (protocol === 'udp' || protocol === 'tcp' || protocol === 'tls') relayProtocol = protocol;
  }

  const totals: StatsTotals = { at: now, bytesIn, bytesOut, packetsLost, packetsReceived };
  const dtMs = previous === null ? 0 : now - previous.at;
  // bits per millisecond is kilobits per second.
  const rate = (bytes: number, before: number): number =>
    dtMs > 0 ? Math.max(0, ((bytes - before) * 8) / dtMs) : 0;
  const lost = previous === null ? 0 : Math.max(0, packetsLost - previous.packetsLost);
  const got = previous === null ? 0 : Math.max(0, packetsReceived - previous.packetsReceived);
  return {
    totals,
    sample: {
      at: now,
      bitrateInKbps: previous === null ? 0 : rate(bytesIn, previous.bytesIn),
      bitrateOutKbps: previous === null ? 0 : rate(bytesOut, previous.bytesOut),
      rttMs: rtt === undefined ? null : rtt * 1000,
      packetLoss: lost + got > 0 ? Math.min(1, lost / (lost + got)) : 0,
      jitterMs,
      framesPerSecond,
      path,
      relayProtocol,
    },
  };
}

/** Samples a peer connection; each sample's rates are relative to the previous sample. */
export class StatsSampler {
  readonly #pc: RTCPeerConnection;
  #previous: StatsTotals | null = null;

  constructor(pc: RTCPeerConnection) {
    this.#pc = pc;
  }

  async sample(): Promise<StatsSample> {
    const report = await this.#pc.getStats();
    const records: StatsRecord[] = [];
    report.forEach((s: StatsRecord) => records.push(s));
    const { sample, totals } = summarize(records, this.#previous, Date.now());
    this.#previous = totals;
    return sample;
  }
}

/** The media path a connected peer connection took, for the call record (`report`). */
export async function selectedPath(pc: RTCPeerConnection): Promise<StatsSample['path']> {
  const report = await pc.getStats();
  const records: StatsRecord[] = [];
  report.forEach((s: StatsRecord) => records.push(s));
  return summarize(records, null, Date.now()).sample.path;
}
