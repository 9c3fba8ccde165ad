/// <reference lib="dom" />
/*
 * Code that runs inside a test page (passed to `page.evaluate`), so each exported function is
 * self-contained: Playwright sends only the function's own source to the browser.
 *
 * The agent is a minimal native-protocol client (docs/PROTOCOL.md): it logs in, takes the
 * ICE servers from the login reply, and runs one call (call -> incoming -> accept ->
 * accepted -> offer/answer/candidates by callId) with a real RTCPeerConnection and the fake
 * camera, recording every candidate it gathers and receives.
 */

export interface CandidateError {
  errorCode: number;
  url: string;
  errorText: string;
}

export interface CallAgent {
  readonly login: Record<string, unknown>;
  readonly iceServers: RTCIceServer[];
  pc: RTCPeerConnection | null;
  /** `candidate` lines this page gathered and sent, and the ones it was sent. */
  readonly sentCandidates: string[];
  readonly receivedCandidates: string[];
  readonly candidateErrors: CandidateError[];
  /** Failures inside the agent's own handlers (a test expects none). */
  readonly failures: string[];
  call(to: string): void;
}

declare global {
  interface Window {
    callAgent: CallAgent;
  }
}

export interface AgentOptions {
  url: string;
  name: string;
  iceTransportPolicy: RTCIceTransportPolicy;
}

/** Opens the socket, logs in and installs `window.callAgent`; resolves with the login reply. */
export function installCallAgent(options: AgentOptions): Promise<Record<string, unknown>> {
  type Msg = Record<string, unknown> & { type?: string; callId?: string };
  const ws = new WebSocket(options.url);
  const send = (msg: Record<string, unknown>): void => ws.send(JSON.stringify(msg));
  let callId = '';
  // Messages are handled one at a time, in order: an offer must be applied before the
  // candidates that follow it, however long setRemoteDescription takes.
  let queue: Promise<void> = Promise.resolve();

  return new Promise((resolve, reject) => {
    ws.onerror = () => reject(new Error('WebSocket failed'));
    ws.onopen = () => send({ type: 'login', name: options.name, protocol: 1 });
    ws.onmessage = (event: MessageEvent<string>) => {
      const msg = JSON.parse(event.data) as Msg;
      if (msg.type === 'login') {
        if (msg['success'] !== true) return reject(new Error(`login refused: ${event.data}`));
        window.callAgent = {
          login: msg,
          iceServers: (msg['iceServers'] ?? []) as RTCIceServer[],
          pc: null,
          sentCandidates: [],
          receivedCandidates: [],
          candidateErrors: [],
          failures: [],
          call: (to) => send({ type: 'call', to, media: { audio: true, video: true } }),
        };
        return resolve(msg);
      }
      queue = queue
        .then(() => handle(msg))
        .catch((error: unknown) => {
          window.callAgent.failures.push(String(error));
        });
    };
  });

  async function startPeer(): Promise<RTCPeerConnection> {
    const agent = window.callAgent;
    const pc = new RTCPeerConnection({
      iceServers: agent.iceServers,
      iceTransportPolicy: options.iceTransportPolicy,
    });
    agent.pc = pc;
    pc.onicecandidate = ({ candidate }) => {
      if (candidate === null || candidate.candidate === '') return;
      agent.sentCandidates.push(candidate.candidate);
      send({ type: 'candidate', callId, candidate: candidate.toJSON() });
    };
    pc.onicecandidateerror = (event) => {
      const { errorCode, url, errorText } = event;
      agent.candidateErrors.push({ errorCode, url, errorText });
    };
    pc.ontrack = ({ track, streams }) => {
      const video = document.querySelector<HTMLVideoElement>('#remote');
      if (video !== null && track.kind === 'video')
        video.srcObject = streams[0] ?? new MediaStream([track]);
    };
    const local = await navigator.mediaDevices.getUserMedia({ audio: true, video: true });
    for (const track of local.getTracks()) pc.addTrack(track, local);
    return pc;
  }

  async function handle(msg: Msg): Promise<void> {
    const agent = window.callAgent;
    switch (msg.type) {
      case 'incoming':
        send({ type: 'accept', callId: msg.callId });
        return;
      case 'accepted': {
        callId = msg.callId ?? '';
        const pc = await startPeer();
        if (msg['role'] === 'caller') {
          await pc.setLocalDescription(await pc.createOffer());
          send({ type: 'offer', callId, offer: pc.localDescription?.toJSON() });
        }
        return;
      }
      case 'offer': {
        const pc = agent.pc;
        if (pc === null) throw new Error('offer before accepted');
        await pc.setRemoteDescription(msg['offer'] as RTCSessionDescriptionInit);
        await pc.setLocalDescription(await pc.createAnswer());
        send({ type: 'answer', callId, answer: pc.localDescription?.toJSON() });
        return;
      }
      case 'answer':
        await agent.pc?.setRemoteDescription(msg['answer'] as RTCSessionDescriptionInit);
        return;
      case 'candidate': {
        const candidate = msg['candidate'] as RTCIceCandidateInit;
        agent.receivedCandidates.push(candidate.candidate ?? '');
        await agent.pc?.addIceCandidate(candidate);
        return;
      }
      case 'error':
        throw new Error(`server error ${JSON.stringify(msg)}`);
      default:
        // ringing, presence, iceServers and the rest need nothing from this agent.
        return;
    }
  }
}

/** The candidate types of the pair ICE selected, from getStats. */
export async function selectedPairTypes(): Promise<{ local: string; remote: string } | null> {
  const pc = window.callAgent.pc;
  if (pc === null) return null;
  const stats = await pc.getStats();
  let pairId: string | undefined;
  stats.forEach((report: { type: string; selectedCandidatePairId?: string }) => {
    if (report.type === 'transport' && report.selectedCandidatePairId !== undefined) {
      pairId = report.selectedCandidatePairId;
    }
  });
  const pair =
    pairId === undefined ? undefined : (stats.get(pairId) as RTCIceCandidatePairStats | undefined);
  if (pair === undefined) return null;
  const type = (id: string): string =>
    (stats.get(id) as { candidateType?: string } | undefined)?.candidateType ?? '';
  return { local: type(pair.localCandidateId), remote: type(pair.remoteCandidateId) };
}

export interface GatherResult {
  candidates: string[];
  errors: CandidateError[];
}

/**
 * Gathers candidates for a throwaway relay-only peer connection with the given servers and
 * reports what it found once gathering completes: a TURN server that refuses the
 * credentials yields no relay candidate and an `icecandidateerror` with the STUN error code.
 */
export async function gatherRelayCandidates(iceServers: RTCIceServer[]): Promise<GatherResult> {
  const pc = new RTCPeerConnection({ iceServers, iceTransportPolicy: 'relay' });
  const result: GatherResult = { candidates: [], errors: [] };
  const complete = new Promise<void>((resolve) => {
    pc.onicecandidate = ({ candidate }) => {
      if (candidate === null) return resolve();
      if (candidate.candidate !== '') result.candidates.push(candidate.candidate);
    };
  });
  pc.onicecandidateerror = (event) => {
    const { errorCode, url, errorText } = event;
    result.errors.push({ errorCode, url, errorText });
  };
  pc.createDataChannel('probe');
  await pc.setLocalDescription(await pc.createOffer());
  await complete;
  pc.close();
  return result;
}
