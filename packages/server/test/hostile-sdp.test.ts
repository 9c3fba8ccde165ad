// The relay carries session descriptions and ICE candidates, nothing else: text that is not
// SDP, an answer dressed as an offer, a candidate outside the RFC 8839 grammar or over its size
// bound gets `bad_message` in every dialect and reaches nobody; what is valid still arrives
// byte for byte.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  SDP_ANSWER,
  SDP_OFFER,
  candidate,
  connectedCall,
  nativeUser,
  one2oneUser,
  startServer,
  tutorialUser,
  type TestClient,
  type TestServer,
} from './support.js';

let ts: TestServer;
beforeEach(async () => {
  ts = await startServer();
});
afterEach(async () => {
  await ts.close();
});

const NOT_SDP: unknown[] = [
  'hello, this is not SDP',
  'o=- 1 2 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\n',
  { type: 'offer', sdp: 'o=- 1 2 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\n' },
  { type: 'offer', sdp: 'v=0\r\nthis line is not an SDP line\r\n' },
  { type: 'offer', sdp: ' v=0\r\no=- 1 2 IN IP4 127.0.0.1\r\n' },
  { type: 'offer', sdp: '' },
  { type: 'offer' },
  // Over the 60,000-character bound (and still under the 64 KiB frame limit).
  { type: 'offer', sdp: `v=0\r\na=${'x'.repeat(60_000)}` },
];
const NOT_ANSWERS: unknown[] = [
  'hello, this is not SDP',
  { type: 'answer', sdp: 'no version line\r\n' },
  { type: 'answer' },
  // An offer where an answer belongs: the type must match the message.
  SDP_OFFER,
];
const NOT_CANDIDATES: unknown[] = [
  { candidate: '1 1 udp 2122260223 127.0.0.1 50000 typ host', sdpMid: '0', sdpMLineIndex: 0 },
  { candidate: 'candidate:1 1 udp 2122260223 127.0.0.1 50000', sdpMid: '0' },
  { candidate: 'candidate:1 1 udp 2122260223 127.0.0.1 50000 typ host\r\na=injected:1' },
  { candidate: 'candidate:1 1 udp priority 127.0.0.1 50000 typ host' },
  { candidate: 'hello' },
  // Grammatical, but 2 KB: over the size bound.
  { candidate: `candidate:1 1 udp 2122260223 127.0.0.1 50000 typ host x ${'y'.repeat(2_000)}` },
];

const VALID_OFFERS: unknown[] = [
  SDP_OFFER,
  SDP_OFFER.sdp,
  { type: 'offer', sdp: SDP_OFFER.sdp.replaceAll('\r\n', '\n') },
];
const VALID_CANDIDATES: unknown[] = [
  candidate(1),
  {
    candidate:
      'candidate:842163049 1 udp 1677729535 203.0.113.7 61234 typ srflx raddr 0.0.0.0 rport 0 generation 0 ufrag Ab/+ network-cost 999',
    sdpMid: '0',
    sdpMLineIndex: 0,
    usernameFragment: 'Ab/+',
  },
  {
    candidate:
      'candidate:1467250027 1 tcp 1518280447 2001:db8::7 9 typ host tcptype active generation 0',
    sdpMid: '1',
    sdpMLineIndex: 1,
  },
  {
    candidate:
      'candidate:0 1 UDP 2122252543 6b1c7d1e-2f64-4fd8-9b55-8c9a1d2e3f40.local 52342 typ host',
  },
  { candidate: '', sdpMid: '0', sdpMLineIndex: 0 },
  null,
];

/** What the relay would deliver, in each dialect. */
const RELAYED = [
  'offer',
  'answer',
  'candidate',
  'incoming',
  'incomingCall',
  'callResponse',
  'iceCandidate',
];

/** Every frame gets bad_message; afterwards the peer has received nothing from any of them. */
async function allRefused(from: TestClient, to: TestClient, frames: unknown[]): Promise<void> {
  for (const frame of frames) {
    from.send(frame);
    const e = await from.next((m) => (m.type ?? m.id) === 'error');
    expect({ frame, code: e.code }).toEqual({ frame, code: 'bad_message' });
  }
  await to.settle();
  expect(to.pending(...RELAYED)).toEqual([]);
}

describe('the relay carries only SDP and ICE candidates', () => {
  it('native: refuses what is not an offer, answer or candidate; relays the rest unchanged', async () => {
    const a = await nativeUser(ts, 'sdp-a');
    const b = await nativeUser(ts, 'sdp-b');
    const callId = await connectedCall(a, b, 'sdp-b');

    // Spread over three senders: each bad frame is a strike, and 16 close the connection.
    const c = await nativeUser(ts, 'sdp-c');
    await allRefused(
      a,
      b,
      NOT_SDP.map((offer) => ({ type: 'offer', callId, offer })),
    );
    await allRefused(
      c,
      b,
      NOT_SDP.map((offer) => ({ type: 'call', to: 'sdp-b', offer })),
    );
    await allRefused(b, a, [
      ...NOT_ANSWERS.map((answer) => ({ type: 'answer', callId, answer })),
      ...NOT_CANDIDATES.map((c) => ({ type: 'candidate', callId, candidate: c })),
    ]);
    expect(a.pending('error')).toEqual([]);
    expect(b.pending('error')).toEqual([]);

    for (const offer of VALID_OFFERS) {
      a.send({ type: 'offer', callId, offer });
      const raw = b.raw.length;
      expect((await b.next('offer')).offer).toEqual(offer);
      expect(b.raw.slice(raw).join('')).toContain(JSON.stringify(offer));
    }
    b.send({ type: 'answer', callId, answer: SDP_ANSWER });
    expect((await a.next('answer')).answer).toEqual(SDP_ANSWER);
    b.send({ type: 'answer', callId, answer: { type: 'pranswer', sdp: SDP_ANSWER.sdp } });
    expect((await a.next('answer')).answer).toEqual({ type: 'pranswer', sdp: SDP_ANSWER.sdp });
    for (const c of VALID_CANDIDATES) {
      a.send({ type: 'candidate', callId, candidate: c });
      expect((await b.next('candidate')).candidate).toEqual(c);
    }
    await a.settle();
    expect(a.pending('error')).toEqual([]);
  });

  it('tutorial: the same rule for offers, answers and candidates sent by name', async () => {
    const a = await tutorialUser(ts, 'tut-a');
    const b = await tutorialUser(ts, 'tut-b');
    await allRefused(
      a,
      b,
      NOT_SDP.map((offer) => ({ type: 'offer', name: 'tut-b', offer })),
    );
    a.send({ type: 'offer', name: 'tut-b', offer: SDP_OFFER });
    expect((await b.next('offer')).offer).toEqual(SDP_OFFER);
    await allRefused(b, a, [
      ...NOT_ANSWERS.map((answer) => ({ type: 'answer', name: 'tut-a', answer })),
      ...NOT_CANDIDATES.map((c) => ({ type: 'candidate', name: 'tut-a', candidate: c })),
    ]);
    b.send({ type: 'answer', name: 'tut-a', answer: SDP_ANSWER });
    expect((await a.next('answer')).answer).toEqual(SDP_ANSWER);
    for (const c of VALID_CANDIDATES) {
      b.send({ type: 'candidate', name: 'tut-a', candidate: c });
      expect((await a.next('candidate')).candidate).toEqual(c);
    }
  });

  it('one2one: sdpOffer must be an offer in call and an answer in incomingCallResponse', async () => {
    const a = await one2oneUser(ts, 'o2o-a');
    const b = await one2oneUser(ts, 'o2o-b');
    await allRefused(
      a,
      b,
      NOT_SDP.map((sdpOffer) => ({ id: 'call', to: 'o2o-b', sdpOffer })),
    );
    // The sample's clients send the bare SDP string.
    a.send({ id: 'call', to: 'o2o-b', sdpOffer: SDP_OFFER.sdp });
    expect((await b.next('incomingCall')).offer).toEqual(SDP_OFFER.sdp);
    await allRefused(
      b,
      a,
      NOT_ANSWERS.map((sdpOffer) => ({
        id: 'incomingCallResponse',
        from: 'o2o-a',
        callResponse: 'accept',
        sdpOffer,
      })),
    );
    b.send({
      id: 'incomingCallResponse',
      from: 'o2o-a',
      callResponse: 'accept',
      sdpOffer: SDP_ANSWER.sdp,
    });
    expect(await a.next('callResponse')).toMatchObject({
      response: 'accepted',
      sdpAnswer: SDP_ANSWER.sdp,
    });
    await allRefused(
      a,
      b,
      NOT_CANDIDATES.map((c) => ({ id: 'onIceCandidate', candidate: c })),
    );
    for (const c of VALID_CANDIDATES) {
      a.send({ id: 'onIceCandidate', candidate: c });
      expect((await b.next('iceCandidate')).candidate).toEqual(c);
    }
  });
});
