// How each kind of client logs in, sets up a call and addresses its candidates. A server is
// driven by its natural client: callwire by the native protocol (invite first, messages name
// the call by callId), the bare relay by the tutorial's (offer first, messages name the peer).
// callwire also speaks the tutorial dialect, which gives a third, like-for-like comparison.
import { sessionDescription } from './fixtures.js';

/**
 * @typedef {import('./bench-client.js').BenchClient} BenchClient
 * @typedef {object} Dialect
 * @property {(name: string) => object} login
 * @property {(reply: any) => boolean} loginOk
 * @property {(caller: BenchClient, callee: BenchClient, seed: number) => Promise<number>} setup
 *   Runs call setup to the point where the caller holds the answer; returns the round trip in ms.
 */

function candidatePrefix(route) {
  const json = JSON.stringify({ type: 'candidate', ...route, candidate: null });
  return json.slice(0, json.length - 'null}'.length);
}

/** @type {Dialect} */
const native = {
  login: (name) => ({ type: 'login', name, protocol: 1 }),
  loginOk: (reply) => reply.success === true,
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
  login: (name) => ({ type: 'login', name }),
  loginOk: (reply) => reply.success === true,
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

/** @type {Record<string, Dialect>} */
export const DIALECTS = { native, tutorial };
