/// <reference lib="dom" />
/*
 * Page-side probes of what a TURN server relays to (run with `page.evaluate`; each function
 * is self-contained because Playwright sends only its own source to the browser).
 */

declare global {
  interface Window {
    relayProbe?: RTCPeerConnection[];
  }
}

/**
 * Two relay-only peer connections in one page, trickling candidates to each other: resolves
 * with 'connected' or 'failed' once ICE settles. Both relays are allocated on the TURN
 * server's relay address, so it has to allow that address as a peer.
 */
export function connectRelayPair(iceServers: RTCIceServer[]): Promise<RTCPeerConnectionState> {
  const a = new RTCPeerConnection({ iceServers, iceTransportPolicy: 'relay' });
  const b = new RTCPeerConnection({ iceServers, iceTransportPolicy: 'relay' });
  window.relayProbe = [a, b];
  a.onicecandidate = ({ candidate }) => void (candidate && b.addIceCandidate(candidate));
  b.onicecandidate = ({ candidate }) => void (candidate && a.addIceCandidate(candidate));
  const settled = new Promise<RTCPeerConnectionState>((resolve) => {
    a.onconnectionstatechange = () => {
      if (a.connectionState === 'connected' || a.connectionState === 'failed')
        resolve(a.connectionState);
    };
  });
  a.createDataChannel('probe');
  return (async () => {
    await a.setLocalDescription(await a.createOffer());
    await b.setRemoteDescription(a.localDescription!);
    await b.setLocalDescription(await b.createAnswer());
    await a.setRemoteDescription(b.localDescription!);
    return settled;
  })();
}

export interface ProbeTarget {
  ip: string;
  port: number;
  /** ICE checks the highest priority first. */
  priority: number;
}

/**
 * A relay-only peer connection told that its peer sits at each target address (as a remote
 * candidate could claim): its connectivity checks then ask the TURN server to send packets
 * to those addresses, the way a malicious client would use TURN to reach internal hosts.
 * Nothing is awaited beyond setting up; the test watches the targets.
 */
export async function probeThroughRelay({
  iceServers,
  targets,
}: {
  iceServers: RTCIceServer[];
  targets: ProbeTarget[];
}): Promise<void> {
  const a = new RTCPeerConnection({ iceServers, iceTransportPolicy: 'relay' });
  const b = new RTCPeerConnection({ iceServers, iceTransportPolicy: 'relay' });
  window.relayProbe = [a, b];
  a.createDataChannel('probe');
  await a.setLocalDescription(await a.createOffer());
  await b.setRemoteDescription(a.localDescription!);
  await b.setLocalDescription(await b.createAnswer());
  await a.setRemoteDescription(b.localDescription!);
  // B's credentials make A's checks well-formed; B's own candidates are never given to A.
  const ufrag = /a=ice-ufrag:(\S+)/.exec(b.localDescription?.sdp ?? '')?.[1] ?? '';
  let foundation = 1;
  for (const { ip, port, priority } of targets) {
    await a.addIceCandidate({
      candidate: `candidate:${foundation++} 1 udp ${priority} ${ip} ${port} typ host generation 0 ufrag ${ufrag}`,
      sdpMid: '0',
      usernameFragment: ufrag,
    });
  }
}
