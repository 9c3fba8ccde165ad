/**
 * Structured logs (pino). What the server logs is chosen at each call site from plain fields;
 * the redaction list is a second line of defence so that SDP, candidates and secrets never
 * reach a log even if a whole message object is passed by mistake.
 */
import pino, { type Logger } from 'pino';

export const REDACT_PATHS = [
  'offer',
  'answer',
  'candidate',
  'sdp',
  'sdpOffer',
  'sdpAnswer',
  'password',
  'token',
  'resumeToken',
  'secret',
  '*.offer',
  '*.answer',
  '*.candidate',
  '*.sdp',
  '*.sdpOffer',
  '*.sdpAnswer',
  '*.password',
  '*.token',
  '*.resumeToken',
  '*.secret',
  'req.headers.authorization',
  'req.headers.cookie',
];

export function createLogger(level: string, destination?: pino.DestinationStream): Logger {
  return pino(
    { level, base: { service: 'callwire' }, redact: { paths: REDACT_PATHS, censor: '[redacted]' } },
    destination ?? pino.destination({ dest: 1, sync: false }),
  );
}
