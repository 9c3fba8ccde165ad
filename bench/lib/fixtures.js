// Payloads shaped like what browsers really send, so the relay moves realistic byte counts:
// a session description of a few KB (audio, video with its codec list, a data channel) and
// trickled ICE candidates of 100-200 bytes. The candidate's foundation field carries a
// sequence number, which lets the receiver check that every message arrived and time it
// without adding a field the server would have to relay or might reject.

const VIDEO_CODECS = [
  ['VP8', ''],
  ['VP9', 'profile-id=0'],
  ['VP9', 'profile-id=2'],
  ['H264', 'level-asymmetry-allowed=1;packetization-mode=1;profile-level-id=42001f'],
  ['H264', 'level-asymmetry-allowed=1;packetization-mode=0;profile-level-id=42001f'],
  ['H264', 'level-asymmetry-allowed=1;packetization-mode=1;profile-level-id=42e01f'],
  ['H264', 'level-asymmetry-allowed=1;packetization-mode=1;profile-level-id=4d001f'],
  ['AV1', 'level-idx=5;profile=0;tier=0'],
  ['H264', 'level-asymmetry-allowed=1;packetization-mode=1;profile-level-id=64001f'],
];

function hex(bytes, seed) {
  let out = '';
  let x = seed >>> 0 || 1;
  for (let i = 0; i < bytes; i++) {
    x = (Math.imul(x, 1103515245) + 12345) >>> 0;
    out +=
      ((x >>> 16) & 0xff).toString(16).padStart(2, '0').toUpperCase() + (i < bytes - 1 ? ':' : '');
  }
  return out;
}

function mediaHeader(kind, mid, setup, seed) {
  return [
    'c=IN IP4 0.0.0.0',
    'a=rtcp:9 IN IP4 0.0.0.0',
    `a=ice-ufrag:${seed.toString(36).slice(0, 4).padEnd(4, 'x')}`,
    'a=ice-pwd:' + (seed.toString(36) + 'q7Lm2vX9kRt4WpZ8sB3nYc6H').slice(0, 24),
    'a=ice-options:trickle',
    'a=fingerprint:sha-256 ' + hex(32, seed),
    `a=setup:${setup}`,
    `a=mid:${mid}`,
    ...(kind === 'application'
      ? []
      : [
          'a=extmap:1 urn:ietf:params:rtp-hdrext:ssrc-audio-level',
          'a=extmap:2 http://www.webrtc.org/experiments/rtp-hdrext/abs-send-time',
          'a=extmap:3 http://www.ietf.org/id/draft-holmer-rmcat-transport-wide-cc-extensions-01',
          'a=extmap:4 urn:ietf:params:rtp-hdrext:sdes:mid',
          'a=sendrecv',
          `a=msid:stream-${seed} track-${kind}-${seed}`,
          'a=rtcp-mux',
        ]),
  ];
}

/**
 * A session description of audio, video and a data channel, close to what a current desktop
 * browser produces (about 5 KB for an offer, a little less for an answer).
 */
export function sessionDescription(kind, seed) {
  const setup = kind === 'offer' ? 'actpass' : 'active';
  const lines = [
    'v=0',
    `o=- ${4611731400430051336n + BigInt(seed)} 2 IN IP4 127.0.0.1`,
    's=-',
    't=0 0',
    'a=group:BUNDLE 0 1 2',
    'a=extmap-allow-mixed',
    `a=msid-semantic: WMS stream-${seed}`,
    'm=audio 9 UDP/TLS/RTP/SAVPF 111 63 9 0 8 13 110 126',
    ...mediaHeader('audio', 0, setup, seed),
    'a=rtpmap:111 opus/48000/2',
    'a=rtcp-fb:111 transport-cc',
    'a=fmtp:111 minptime=10;useinbandfec=1',
    'a=rtpmap:63 red/48000/2',
    'a=fmtp:63 111/111',
    'a=rtpmap:9 G722/8000',
    'a=rtpmap:0 PCMU/8000',
    'a=rtpmap:8 PCMA/8000',
    'a=rtpmap:13 CN/8000',
    'a=rtpmap:110 telephone-event/48000',
    'a=rtpmap:126 telephone-event/8000',
    `a=ssrc:${1000 + seed} cname:c${seed}`,
    `a=ssrc:${1000 + seed} msid:stream-${seed} track-audio-${seed}`,
  ];
  const count = kind === 'offer' ? VIDEO_CODECS.length : 4;
  const pts = [];
  for (let i = 0; i < count; i++) pts.push(96 + 2 * i, 97 + 2 * i);
  lines.push(
    `m=video 9 UDP/TLS/RTP/SAVPF ${pts.join(' ')}`,
    ...mediaHeader('video', 1, setup, seed),
  );
  for (let i = 0; i < count; i++) {
    const [name, fmtp] = VIDEO_CODECS[i];
    const pt = 96 + 2 * i;
    lines.push(`a=rtpmap:${pt} ${name}/90000`);
    for (const fb of ['goog-remb', 'transport-cc', 'ccm fir', 'nack', 'nack pli']) {
      lines.push(`a=rtcp-fb:${pt} ${fb}`);
    }
    if (fmtp) lines.push(`a=fmtp:${pt} ${fmtp}`);
    lines.push(`a=rtpmap:${pt + 1} rtx/90000`, `a=fmtp:${pt + 1} apt=${pt}`);
  }
  lines.push(
    `a=ssrc-group:FID ${2000 + seed} ${3000 + seed}`,
    `a=ssrc:${2000 + seed} cname:c${seed}`,
    `a=ssrc:${3000 + seed} cname:c${seed}`,
    'm=application 9 UDP/DTLS/SCTP webrtc-datachannel',
    ...mediaHeader('application', 2, setup, seed),
    'a=sctp-port:5000',
    'a=max-message-size:262144',
  );
  return { type: kind, sdp: lines.join('\r\n') + '\r\n' };
}

const CANDIDATE_TEMPLATES = [
  (ip, port, ufrag) =>
    `1 udp 2122260223 ${ip} ${port} typ host generation 0 ufrag ${ufrag} network-id 1 network-cost 10`,
  (ip, port, ufrag) =>
    `1 udp 1686052607 203.0.113.${port % 250} ${port} typ srflx raddr ${ip} rport ${port} generation 0 ufrag ${ufrag} network-id 1 network-cost 10`,
  (ip, port, ufrag) =>
    `1 tcp 1518280447 ${ip} 9 typ host tcptype active generation 0 ufrag ${ufrag} network-id 1 network-cost 10`,
  (ip, port, ufrag) =>
    `1 udp 41885439 198.51.100.${port % 250} ${port} typ relay raddr 203.0.113.${port % 250} rport ${port + 1} generation 0 ufrag ${ufrag} network-id 1 network-cost 10`,
];

/** The candidate line (RTCIceCandidate.candidate) whose foundation is `seq`: 100-160 bytes. */
export function candidateLine(seq, ufrag) {
  const port = 40000 + (seq % 20000);
  const body = CANDIDATE_TEMPLATES[seq % CANDIDATE_TEMPLATES.length]('192.168.1.23', port, ufrag);
  return `candidate:${seq} ${body}`;
}

/** An RTCIceCandidateInit as a browser sends it, with foundation `seq`. */
export function candidate(seq, ufrag) {
  return {
    candidate: candidateLine(seq, ufrag),
    sdpMid: '0',
    sdpMLineIndex: 0,
    usernameFragment: ufrag,
  };
}

/**
 * The same as JSON text, built directly: the generator sends tens of thousands per second and
 * must spend its CPU on sockets, not on serializing (every character here is plain ASCII).
 */
export function candidateJson(seq, ufrag) {
  return `{"candidate":"${candidateLine(seq, ufrag)}","sdpMid":"0","sdpMLineIndex":0,"usernameFragment":"${ufrag}"}`;
}

const CANDIDATE_FRAME = Buffer.from('{"type":"candidate"');
// PeerJS servers relay `{type, src, dst, payload}` with the type in capitals.
const PEERJS_CANDIDATE_FRAME = Buffer.from('{"type":"CANDIDATE"');
const FOUNDATION = Buffer.from('candidate:');

/**
 * The sequence number carried by a relayed candidate frame, read from the raw bytes without
 * parsing the JSON (every server puts `type` first), or -1 for any other frame.
 */
export function candidateSeqOfFrame(frame) {
  if (
    frame.length < 40 ||
    (frame.compare(CANDIDATE_FRAME, 0, 19, 0, 19) !== 0 &&
      frame.compare(PEERJS_CANDIDATE_FRAME, 0, 19, 0, 19) !== 0)
  ) {
    return -1;
  }
  const at = frame.indexOf(FOUNDATION, 19);
  if (at < 0) return -1;
  let seq = 0;
  let i = at + FOUNDATION.length;
  let c = frame[i];
  if (c === undefined || c < 48 || c > 57) return -1;
  while (c >= 48 && c <= 57) {
    seq = seq * 10 + (c - 48);
    c = frame[++i];
  }
  return seq;
}

/**
 * Whether a relayed candidate frame carries exactly the candidate that was sent as `seq`: at
 * `candidate` in the tutorial and native dialects, at `payload.candidate` in PeerJS's, where
 * the rest of the payload (the connection's type and id) must come through as well.
 */
export function candidateIntact(frame, seq) {
  const message = JSON.parse(frame);
  let init = message.candidate;
  if (message.type === 'CANDIDATE') {
    const payload = message.payload;
    if (payload?.type !== 'media' || typeof payload.connectionId !== 'string') return false;
    init = payload.candidate;
  }
  return (
    init !== null &&
    typeof init === 'object' &&
    init.candidate === candidateLine(seq, init.usernameFragment) &&
    init.sdpMid === '0' &&
    init.sdpMLineIndex === 0
  );
}
