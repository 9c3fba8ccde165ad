/**
 * What the relay carries: session descriptions and ICE candidates. The server relays them byte
 * for byte (SDP carries the DTLS fingerprint that authenticates the media), so it cannot clean
 * them up; what it can do is refuse anything that is not shaped like SDP or a candidate, so the
 * relay is not a free channel for arbitrary text between two users. The checks are schema
 * patterns, so the server, the SDK and the JSON schema all apply the same rule.
 */
import { Type, type Static } from '@sinclair/typebox';
import { LIMITS } from './limits.js';

/** 60,000 characters: an SDP with many m-lines fits, and so does the 64 KiB frame around it. */
export const SDP_MAX_CHARS = LIMITS.sdpChars;

/**
 * 1,024 characters. A browser candidate line is 100-250 characters; the longest a peer may
 * legitimately send (a 256-character ufrag per RFC 8839 and an IPv6 raddr) stays under 600.
 */
export const CANDIDATE_MAX_CHARS = LIMITS.candidateChars;

/**
 * SDP (RFC 8866 section 5): the first line is `v=0`, and every line is `<type>=<value>` with a
 * one-letter type, separated by CRLF (LF tolerated, as some stacks write it), with an optional
 * final line break. The line structure is what we can check without parsing; values are the
 * endpoints' business.
 */
export const SDP_PATTERN = '^v=0(?:\\r?\\n[a-z]=[^\\r\\n]*)*(?:\\r?\\n)?$';

// RFC 8839 section 5.1 grammar pieces. ice-char = ALPHA / DIGIT / "+" / "/"; token is RFC
// 8866's; a connection address is an IPv4 or IPv6 literal or an FQDN (browsers hide host
// addresses behind mDNS `<uuid>.local` names); extension names and values are visible ASCII.
const FOUNDATION = '[A-Za-z0-9+/]{1,32}';
const TOKEN = "[!#-'*+\\-.0-9A-Z^-~]+";
const ADDRESS = '[0-9A-Za-z.:%_-]+';
const PORT = '[0-9]{1,5}';
const EXTENSION = '[!-~]+ [!-~]+';

/**
 * An ICE candidate attribute as `RTCIceCandidate.candidate` spells it (no `a=` prefix):
 * `candidate:<foundation> <component> <transport> <priority> <address> <port> typ <type>
 * [raddr <address>] [rport <port>] *(<extension name> <extension value>)`, or the empty
 * string that marks the end of candidates.
 */
export const CANDIDATE_PATTERN =
  `^(?:candidate:${FOUNDATION} [0-9]{1,3} ${TOKEN} [0-9]{1,10} ${ADDRESS} ${PORT} typ ${TOKEN}` +
  `(?: raddr ${ADDRESS})?(?: rport ${PORT})?(?: ${EXTENSION})*)?$`;

const Sdp = Type.String({ minLength: 3, maxLength: SDP_MAX_CHARS, pattern: SDP_PATTERN });

/** An offer: `{type:"offer", sdp}` as browsers serialize it, or the bare SDP string. */
export const OfferDescription = Type.Union([
  Type.Object({ type: Type.Literal('offer'), sdp: Sdp }),
  Sdp,
]);

/** An answer: `{type:"answer"|"pranswer", sdp}`, or the bare SDP string. */
export const AnswerDescription = Type.Union([
  Type.Object({ type: Type.Union([Type.Literal('answer'), Type.Literal('pranswer')]), sdp: Sdp }),
  Sdp,
]);

/**
 * Either kind of session description. Messages use {@link OfferDescription} or
 * {@link AnswerDescription}, so an answer sent as an offer is refused; this is the type of
 * "some description" for code that handles both.
 */
export const SessionDescription = Type.Union([OfferDescription, AnswerDescription]);

/** An RTCIceCandidateInit; `null` (the tutorial's end of candidates) is allowed too. */
export const IceCandidate = Type.Union([
  Type.Object({
    candidate: Type.String({ maxLength: CANDIDATE_MAX_CHARS, pattern: CANDIDATE_PATTERN }),
    sdpMid: Type.Optional(Type.Union([Type.String({ maxLength: 64 }), Type.Null()])),
    sdpMLineIndex: Type.Optional(
      Type.Union([Type.Integer({ minimum: 0, maximum: 1024 }), Type.Null()]),
    ),
    usernameFragment: Type.Optional(Type.Union([Type.String({ maxLength: 256 }), Type.Null()])),
  }),
  Type.Null(),
]);

export type SessionDescriptionValue = Static<typeof SessionDescription>;
export type IceCandidateValue = Static<typeof IceCandidate>;
