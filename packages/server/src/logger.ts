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

const LEVELS: Record<number, string> = {
  10: 'TRACE',
  20: 'DEBUG',
  30: 'INFO',
  40: 'WARN',
  50: 'ERROR',
  60: 'FATAL',
};
/** Fields every record carries; the plain format leaves them out. */
const QUIET = new Set(['level', 'time', 'msg', 'pid', 'hostname', 'service']);

/** One pino JSON record as a line for people: `12:00:01 INFO  listening port=9090`. */
export function plainLine(json: string): string {
  let rec: Record<string, unknown>;
  try {
    rec = JSON.parse(json) as Record<string, unknown>;
  } catch {
    return json;
  }
  const time = typeof rec.time === 'number' ? new Date(rec.time).toISOString().slice(11, 19) : '';
  const level = (LEVELS[rec.level as number] ?? String(rec.level)).padEnd(5);
  const fields = Object.entries(rec)
    .filter(([k, v]) => !QUIET.has(k) && v !== undefined)
    .map(([k, v]) => `${k}=${typeof v === 'string' && !/\s/.test(v) ? v : JSON.stringify(v)}`);
  return [time, level, typeof rec.msg === 'string' ? rec.msg : '', ...fields].join(' ').trimEnd() + '\n';
}

/**
 * A pino destination that prints each record as a plain line (for a terminal). Writes are
 * synchronous, like a terminal expects, so the last lines before an exit are not lost.
 */
export function plainDestination(out: NodeJS.WritableStream): pino.DestinationStream {
  return {
    write(chunk: string) {
      for (const line of chunk.split('\n')) if (line !== '') out.write(plainLine(line));
    },
  };
}
