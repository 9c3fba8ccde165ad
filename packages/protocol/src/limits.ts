/** The protocol version a native client announces at login. */
export const PROTOCOL_VERSION = 1;

/**
 * Limits a schema can express; the frame limit itself is enforced by the transport. The SDP and
 * candidate bounds are explained in sdp.ts, which uses these.
 */
export const LIMITS = {
  frameBytes: 64 * 1024,
  sdpChars: 60_000,
  candidateChars: 1_024,
  nameRawChars: 256,
  refChars: 64,
  passwordChars: 1_024,
  tokenChars: 8_192,
  queryChars: 64,
  usersPageMax: 100,
  watchMax: 500,
  deviceLabelChars: 64,
} as const;

/**
 * Malformed frames (answered `bad_json`, `bad_message` or `unknown_type`) are strikes against
 * their connection: at `strikes` strikes it is closed with 1008. A strike is forgiven every
 * `forgiveMs`, so a client with a bug that sends a bad frame now and then is never cut off,
 * while one that keeps sending garbage is, whatever good frames it sends in between.
 */
export const MALFORMED_POLICY = {
  strikes: 16,
  forgiveMs: 4000,
} as const;
