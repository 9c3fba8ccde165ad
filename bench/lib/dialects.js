// How each kind of client logs in, sets up a call and addresses its candidates. A server is
// driven by its natural client: callwire by the native protocol (invite first, messages name
// the call by callId), the bare relay by the tutorial's (offer first, messages name the peer),
// the PeerJS server by the PeerJS client's (signed in by the socket's URL, messages name the
// peer's id). callwire also speaks the tutorial and PeerJS dialects, which gives like-for-like
// comparisons with the other two.
import { sessionDescription } from './fixtures.js';

/**
 * @typedef {import('./bench-client.js').BenchClient} BenchClient
 * @typedef {object} Dialect
 * @property {(client: BenchClient, url: string, localAddress?: string) => Promise<void>} signIn
 *   Opens the client's socket on the server at `url` (`ws://host:port/`), from `localAddress`
 *   when given, and signs it in as `client.name`; rejects if the server refuses.
 * @property {(caller: BenchClient, callee: BenchClient, seed: number) => Promise<number>} setup
 *   Runs call setup to the point where the caller holds the answer; returns the round trip in ms.
 * @property {{ message: object, intervalMs: number } | null} heartbeat
 *   What the dialect's client sends to stay connected, and how often; null if nothing.
 */

function candidatePrefix(route) {
  const json = JSON.stringify({ type: 'candidate', ...route, candidate: null });
  return json.slice(0, json.length - 'null}'.length);
}

/** Opens the socket, then logs in with a `login` message and waits for its reply. */
export function signInWith(login) {
  return async (client, url, localAddress) => {
    await client.open(url, localAddress);
    client.send(login(client.name));
    const reply = await client.next('login');
    if (reply.success !== true) throw new Error(`login refused for ${client.name}: ${reply.code}`);
  };
}

/** @type {Dialect} */
const native = {
  // As the SDK logs in: presence in one `presences` frame per tick.
  signIn: signInWith((name) => ({ type: 'login', name, protocol: 1, presenceBatch: true })),
  heartbeat: null,
  async setup(caller, callee, seed) {
    const offer = sessionDescription('offer', seed);
    const answer = sessionDescription('answer', seed + 1);
    const started = performance.now();
    const ringing = caller.next('ringing');
    const incoming = callee.next('incoming');
    caller.send({
      type: 'call',
      to: callee.name,
      media: { audio: true, video: true },
      ref: `r${seed}`,
    });
    const { callId } = await incoming;
    const acceptedAtCaller = caller.next('accepted');
    const acceptedAtCallee = callee.next('accepted');
    callee.send({ type: 'accept', callId });
    await Promise.all([ringing, acceptedAtCaller]);
    const offerAtCallee = callee.next('offer');
    caller.send({ type: 'offer', callId, offer });
    await Promise.all([offerAtCallee, acceptedAtCallee]);
    const answerAtCaller = caller.next('answer');
    callee.send({ type: 'answer', callId, answer });
    await answerAtCaller;
    const roundTripMs = performance.now() - started;
    caller.candidatePrefix = candidatePrefix({ callId });
    callee.candidatePrefix = candidatePrefix({ callId });
    return roundTripMs;
  },
};

/** @type {Dialect} */
const tutorial = {
  signIn: signInWith((name) => ({ type: 'login', name })),
  heartbeat: null,
  async setup(caller, callee, seed) {
    const offer = sessionDescription('offer', seed);
    const answer = sessionDescription('answer', seed + 1);
    const started = performance.now();
    const offerAtCallee = callee.next('offer');
    caller.send({ type: 'offer', name: callee.name, offer });
    await offerAtCallee;
    const answerAtCaller = caller.next('answer');
    callee.send({ type: 'answer', name: caller.name, answer });
    await answerAtCaller;
    const roundTripMs = performance.now() - started;
    caller.candidatePrefix = candidatePrefix({ name: callee.name });
    callee.candidatePrefix = candidatePrefix({ name: caller.name });
    return roundTripMs;
  },
};

/** A relayed PeerJS OFFER or ANSWER must name its sender and carry what was sent. */
function relayedIntact(message, src, sdp, connectionId) {
  const payload = message.payload;
  if (message.src !== src) throw new Error(`${message.type} from ${message.src}, not ${src}`);
  if (
    payload?.sdp?.type !== sdp.type ||
    payload.sdp.sdp !== sdp.sdp ||
    payload.type !== 'media' ||
    payload.connectionId !== connectionId
  ) {
    throw new Error(`${message.type} from ${src} was altered`);
  }
}

/**
 * The PeerJS client (`peerjs` 1.5.5) as it talks to its server during a media call: the
 * socket's URL carries the key, the id and the secret token, the server answers OPEN, and every
 * message is `{type, payload, dst}`, relayed as `{type, src, dst, payload}` with `src` stamped by
 * the server. The caller's OFFER and the callee's ANSWER carry the session description with the
 * connection's type and id; each CANDIDATE carries the RTCIceCandidate the same way. The client
 * sends HEARTBEAT every 5 s (its default `pingInterval`).
 * @type {Dialect}
 */
const peerjs = {
  async signIn(client, url, localAddress) {
    // The client's token is a random base-36 string; any fixed one does here.
    const token = `t${client.ufrag}${client.name.length}`;
    const id = encodeURIComponent(client.name);
    await client.open(`${url}peerjs?key=peerjs&id=${id}&token=${token}&version=1.5.5`, localAddress);
    await client.next('OPEN');
  },
  heartbeat: { message: { type: 'HEARTBEAT' }, intervalMs: 5_000 },
  async setup(caller, callee, seed) {
    const sdpOffer = sessionDescription('offer', seed);
    const sdpAnswer = sessionDescription('answer', seed + 1);
    // The client names a media connection `mc_` and a random token.
    const connectionId = `mc_${caller.name}`;
    const started = performance.now();
    const offerAtCallee = callee.next('OFFER');
    caller.send({
      type: 'OFFER',
      payload: { sdp: sdpOffer, type: 'media', connectionId },
      dst: callee.name,
    });
    const offer = await offerAtCallee;
    relayedIntact(offer, caller.name, sdpOffer, connectionId);
    const answerAtCaller = caller.next('ANSWER');
    callee.send({
      type: 'ANSWER',
      payload: { sdp: sdpAnswer, type: 'media', connectionId },
      dst: offer.src,
    });
    relayedIntact(await answerAtCaller, callee.name, sdpAnswer, connectionId);
    const roundTripMs = performance.now() - started;
    for (const [from, to] of [
      [caller, callee],
      [callee, caller],
    ]) {
      from.candidatePrefix = '{"type":"CANDIDATE","payload":{"candidate":';
      from.candidateSuffix = `,"type":"media","connectionId":"${connectionId}"},"dst":${JSON.stringify(to.name)}}`;
      from.expectSource(to.name);
    }
    return roundTripMs;
  },
};

/** @type {Record<string, Dialect>} */
export const DIALECTS = { native, tutorial, peerjs };
