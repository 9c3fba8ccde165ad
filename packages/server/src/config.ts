/**
 * Flags and environment -> one frozen, typed configuration. Every flag `--some-flag` can also
 * be given as the environment variable `CALLWIRE_SOME_FLAG`; a flag on the command line wins.
 */
import { parseArgs } from 'node:util';
import { redisTarget } from './cluster/redis-link.js';
import { defaultDataDir } from './data-dir.js';
import { proxyEntryProblem } from './ws/client-address.js';

export type AuthMode = 'open' | 'password' | 'jwt';

/**
 * Who may meet by link (`/r/<room>`): anyone, as a guest with a marked name (`guests`); only
 * people who can sign in (`accounts`); nobody (`off`). In open mode everyone signs in by name,
 * so `guests` and `accounts` let the same people in.
 */
export type RoomsMode = 'guests' | 'accounts' | 'off';

export interface Config {
  readonly port: number;
  /** undefined = loopback only, on both 127.0.0.1 and ::1. */
  readonly host: string | undefined;
  readonly dataDir: string;
  readonly auth: AuthMode;
  readonly jwtSecret: string | undefined;
  readonly jwtPublicKey: string | undefined;
  readonly jwtAudience: string | undefined;
  readonly jwtIssuer: string | undefined;
  readonly argon2MemoryKib: number;
  readonly argon2TimeCost: number;
  readonly argon2Parallelism: number;
  readonly loginConcurrency: number;
  readonly loginThrottleMs: number;
  readonly userCheckIntervalMs: number;
  readonly sessionTokenTtlSeconds: number;
  readonly recordsRetentionDays: number;
  readonly redis: string | undefined;
  readonly store: 'sqlite' | 'redis';
  /** Cluster (with --redis): heartbeat key lifetime and refresh, name claim lifetime. */
  readonly nodeTtlMs: number;
  readonly clusterHeartbeatMs: number;
  readonly nameTtlMs: number;
  readonly tlsCert: string | undefined;
  readonly tlsKey: string | undefined;
  readonly tlsSelfSigned: boolean;
  readonly turnSecret: string | undefined;
  readonly turnUrls: readonly string[];
  readonly turnTtlSeconds: number;
  readonly stunUrls: readonly string[];
  readonly origins: readonly string[];
  /** Reverse proxies whose Forwarded / X-Forwarded-For is believed (addresses, CIDR ranges). */
  readonly trustedProxies: readonly string[];
  /** Open sockets per client address (per /64 for IPv6); 0 = no cap. */
  readonly maxConnectionsPerIp: number;
  /** A connection not signed in this long after it opened is closed (4010). */
  readonly loginTimeoutMs: number;
  readonly logLevel: string;
  /** undefined = choose by whether stdout is a terminal (the CLI decides). */
  readonly logFormat: 'plain' | 'json' | undefined;
  readonly presence: boolean;
  readonly rooms: RoomsMode;
  readonly presenceBroadcastBelow: number;
  /** Presence changes are gathered this long and sent as one write per recipient. */
  readonly presenceTickMs: number;
  readonly ringTimeoutMs: number;
  readonly pingIntervalMs: number;
  readonly idleTimeoutMs: number;
  readonly maxFrameBytes: number;
  readonly outboundCapBytes: number;
  readonly rateBurst: number;
  readonly ratePerSecond: number;
  readonly invitesPerMinute: number;
  readonly queueMax: number;
  /** Sessions one account may have at once (accounts only; open mode names stay unique). */
  readonly maxDevices: number;
  readonly resumeGraceMs: number;
  readonly shutdownTimeoutMs: number;
  readonly webRoot: string | undefined;
  /** The PeerJS dialect: off (undefined), or where and how it is served. */
  readonly peerjs: PeerjsConfig | undefined;
}

export interface PeerjsConfig {
  /** Mount path, as the PeerJS client's `path` option, normalized to "/…/". */
  readonly path: string;
  readonly key: string;
  readonly discovery: boolean;
  readonly expireMs: number;
}

/** Flag name -> [kind, default, help]. The order is the order of `--help`. */
export const FLAGS = {
  port: ['number', '9090', 'TCP port for HTTP and WebSocket (0 = any free port)'],
  host: ['string', '', 'Address to listen on (default: loopback only, 127.0.0.1 and ::1)'],
  'data-dir': ['string', '', 'Directory for the embedded store, keys and certificates (default: ./data in a clone of the repository, else ~/.local/share/callwire or $XDG_DATA_HOME/callwire; macOS ~/Library/Application Support/callwire; Windows %LOCALAPPDATA%\\callwire)'],
  auth: ['string', 'open', 'open (names only) | password (accounts: callwire users) | jwt (your backend signs tokens)'],
  'jwt-secret': ['string', '', 'HS256 secret for --auth jwt'],
  'jwt-public-key': ['string', '', 'RS256/ES256 public key file (PEM) for --auth jwt'],
  'jwt-audience': ['string', '', 'Required `aud` of tokens for --auth jwt'],
  'jwt-issuer': ['string', '', 'Required `iss` of tokens for --auth jwt'],
  redis: ['string', '', 'redis://... or redis-sentinel://host:port,host:port/<master> : join a cluster (and optionally store users there)'],
  store: ['string', 'sqlite', 'Accounts and call records: sqlite (in --data-dir) | redis (at --redis)'],
  'node-ttl-ms': ['number', '6000', 'Cluster: a node whose heartbeat is this old is dead'],
  'cluster-heartbeat-ms': ['number', '2000', 'Cluster: heartbeat and watchdog interval (at most half of --node-ttl-ms)'],
  'name-ttl-ms': ['number', '15000', 'Cluster: lifetime of a name claim, refreshed every third of it'],
  'tls-cert': ['string', '', 'TLS certificate file, PEM (serve https and wss on --port)'],
  'tls-key': ['string', '', 'TLS private key file'],
  tls: ['string', '', '"self-signed": create and keep a development certificate in the data dir'],
  'turn-secret': ['string', '', 'coturn static-auth-secret: issue TURN REST credentials'],
  'turn-urls': ['string', '', 'Comma-separated turn: / turns: URLs handed to clients'],
  'turn-ttl-seconds': ['number', '3600', 'Lifetime of issued TURN credentials'],
  'stun-urls': ['string', '', 'Comma-separated stun: URLs handed to clients'],
  origins: ['string', '', 'Comma-separated allowed page origins for WebSocket upgrades'],
  'trusted-proxies': ['string', '', 'Comma-separated addresses or CIDR ranges of reverse proxies whose Forwarded / X-Forwarded-For names the client (default: none, the TCP peer is the client)'],
  'max-connections-per-ip': ['number', '256', 'Open WebSocket connections per client address (per /64 for IPv6); more get HTTP 429 (0 = no cap)'],
  'login-timeout-ms': ['number', '10000', 'Close a connection (4010) that has not signed in this long after opening'],
  'log-level': ['string', 'info', 'fatal | error | warn | info | debug | trace | silent'],
  'log-format': ['string', '', 'plain (one readable line per event) | json (one JSON object per line); default: plain on a terminal, json otherwise'],
  presence: ['string', 'on', 'on | off: live presence events'],
  rooms: ['string', 'guests', 'Meet by link (/r/<room>): guests (anyone, a guest with a marked name, if not signed in) | accounts (only people who can sign in) | off'],
  'presence-broadcast-below': ['number', '1000', 'Send every presence change to everyone while fewer are online'],
  'presence-tick-ms': ['number', '25', 'Gather presence changes this long, then send each recipient one frame (or one write)'],
  'ring-timeout-ms': ['number', '45000', 'Unanswered calls end after this long'],
  'ping-interval-ms': ['number', '15000', 'Server WebSocket ping interval'],
  'idle-timeout-ms': ['number', '30000', 'A socket silent this long is terminated'],
  'max-frame-bytes': ['number', '65536', 'Largest accepted WebSocket frame'],
  'outbound-cap-bytes': ['number', '1048576', 'Close a client (4008) whose unread output passes this'],
  'rate-burst': ['number', '200', 'Per-connection message burst'],
  'rate-per-second': ['number', '50', 'Per-connection sustained messages per second'],
  'invites-per-minute': ['number', '10', 'Call invites per caller per minute'],
  'queue-max': ['number', '256', 'Signals queued per ringing call (and messages kept per session while it resumes)'],
  'max-devices': ['number', '10', 'Devices one account may be signed in on at once (password and jwt modes; open mode: 1)'],
  'resume-grace-ms': ['number', '20000', 'How long a dropped native session may resume (0 = never)'],
  'shutdown-timeout-ms': ['number', '30000', 'Longest drain on SIGTERM before exiting'],
  'web-root': ['string', '', 'Directory of the built web app (default: the bundled one)'],
  peerjs: ['string', 'on', 'on | off: serve PeerJS clients (WebSocket <peerjs-path>peerjs, HTTP <peerjs-path><key>/id)'],
  'peerjs-path': ['string', '/', "Mount path of the PeerJS dialect: the PeerJS client's `path` option"],
  'peerjs-key': ['string', 'peerjs', 'The key PeerJS clients give (their `key` option); others get INVALID-KEY'],
  'peerjs-discovery': ['string', 'off', 'on | off: GET <peerjs-path><key>/peers lists connected PeerJS ids'],
  'peerjs-expire-ms': ['number', '5000', 'A message to a PeerJS id not connected waits this long; then its sender gets EXPIRE'],
  'argon2-memory-kib': ['number', '19456', 'argon2id memory cost for password hashes (KiB)'],
  'argon2-time-cost': ['number', '2', 'argon2id iterations'],
  'argon2-parallelism': ['number', '1', 'argon2id lanes'],
  'login-concurrency': ['number', '2', 'Password hashes computed at the same time (more wait in a bounded queue)'],
  'login-throttle-ms': ['number', '1000', 'First delay after 5 failed logins to one account (doubles each failure)'],
  'user-check-interval-ms': ['number', '2000', 'How often sessions are checked against removed users'],
  'session-token-ttl-seconds': ['number', '900', 'Lifetime of the API token issued at login'],
  'records-retention-days': ['number', '90', 'Call records older than this are deleted'],
} as const;

export type FlagName = keyof typeof FLAGS;

export class ConfigError extends Error {
  override readonly name = 'ConfigError';
}

function envName(flag: string): string {
  return `CALLWIRE_${flag.replace(/-/g, '_').toUpperCase()}`;
}

const list = (s: string): string[] =>
  s
    .split(',')
    .map((x) => x.trim())
    .filter((x) => x.length > 0);

/** Parse `serve` flags. Throws ConfigError with a message fit for the terminal. */
export function parseConfig(
  argv: readonly string[],
  env: Readonly<Record<string, string | undefined>> = process.env,
): Config {
  const options: Record<string, { type: 'string' }> = {};
  for (const name of Object.keys(FLAGS)) options[name] = { type: 'string' };
  let values: Record<string, string | undefined>;
  try {
    ({ values } = parseArgs({ args: [...argv], options, strict: true, allowPositionals: false }) as {
      values: Record<string, string | undefined>;
    });
  } catch (err) {
    throw new ConfigError((err as Error).message);
  }
  const raw = (flag: FlagName): string => values[flag] ?? env[envName(flag)] ?? FLAGS[flag][1];
  const num = (flag: FlagName, min: number, max: number): number => {
    const text = raw(flag);
    const n = Number(text);
    if (!Number.isInteger(n) || n < min || n > max) {
      throw new ConfigError(`--${flag} must be a whole number from ${min} to ${max} (got "${text}")`);
    }
    return n;
  };
  const oneOf = <T extends string>(flag: FlagName, allowed: readonly T[]): T => {
    const v = raw(flag);
    if (!(allowed as readonly string[]).includes(v)) {
      throw new ConfigError(`--${flag} must be one of ${allowed.join(', ')} (got "${v}")`);
    }
    return v as T;
  };
  const opt = (flag: FlagName): string | undefined => raw(flag) || undefined;

  const tls = opt('tls');
  if (tls !== undefined && tls !== 'self-signed') {
    throw new ConfigError('--tls takes only "self-signed" (or give --tls-cert and --tls-key)');
  }
  if ((opt('tls-cert') === undefined) !== (opt('tls-key') === undefined)) {
    throw new ConfigError('--tls-cert and --tls-key go together');
  }
  if (tls !== undefined && opt('tls-cert') !== undefined) {
    throw new ConfigError('give either --tls self-signed or --tls-cert/--tls-key, not both');
  }
  const auth = oneOf('auth', ['open', 'password', 'jwt'] as const);
  if (auth === 'jwt' && !opt('jwt-secret') && !opt('jwt-public-key')) {
    throw new ConfigError('--auth jwt needs --jwt-secret or --jwt-public-key');
  }
  if (opt('jwt-secret') && opt('jwt-public-key')) {
    throw new ConfigError('give either --jwt-secret or --jwt-public-key, not both');
  }
  // HS256 is only as strong as its secret: RFC 7518 section 3.2 asks for at least 256 bits.
  const jwtSecret = opt('jwt-secret');
  if (jwtSecret !== undefined && Buffer.byteLength(jwtSecret) < 32) {
    throw new ConfigError('--jwt-secret must be at least 32 bytes (e.g. `openssl rand -base64 32`)');
  }
  const store = oneOf('store', ['sqlite', 'redis'] as const);
  const redis = opt('redis');
  if (store === 'redis' && redis === undefined) {
    throw new ConfigError('--store redis needs --redis');
  }
  if (redis !== undefined && redis.startsWith('redis-sentinel://')) {
    try {
      redisTarget(redis);
    } catch (e) {
      throw new ConfigError(`--redis: ${(e as Error).message}`);
    }
    // The store keeps its own connection, which speaks to one server only.
    if (store === 'redis') throw new ConfigError('--store redis needs a redis:// URL, not Sentinel');
  }
  const nodeTtlMs = num('node-ttl-ms', 200, 600_000);
  const clusterHeartbeatMs = num('cluster-heartbeat-ms', 50, 300_000);
  if (clusterHeartbeatMs * 2 > nodeTtlMs) {
    throw new ConfigError('--cluster-heartbeat-ms must be at most half of --node-ttl-ms');
  }
  const peerjs = peerjsConfig(
    oneOf('peerjs', ['on', 'off'] as const) === 'on',
    raw('peerjs-path'),
    raw('peerjs-key'),
    oneOf('peerjs-discovery', ['on', 'off'] as const) === 'on',
    num('peerjs-expire-ms', 50, 600_000),
  );
  const trustedProxies = list(raw('trusted-proxies'));
  for (const entry of trustedProxies) {
    const problem = proxyEntryProblem(entry);
    if (problem !== null) throw new ConfigError(`--trusted-proxies: ${problem}`);
  }
  const turnSecret = opt('turn-secret');
  const turnUrls = list(raw('turn-urls'));
  if ((turnSecret === undefined) !== (turnUrls.length === 0)) {
    throw new ConfigError('--turn-secret and --turn-urls go together');
  }

  return Object.freeze({
    port: num('port', 0, 65535),
    host: opt('host'),
    dataDir: opt('data-dir') ?? defaultDataDir(env),
    auth,
    jwtSecret,
    jwtPublicKey: opt('jwt-public-key'),
    jwtAudience: opt('jwt-audience'),
    jwtIssuer: opt('jwt-issuer'),
    redis: opt('redis'),
    store,
    nodeTtlMs,
    clusterHeartbeatMs,
    nameTtlMs: num('name-ttl-ms', 300, 3_600_000),
    tlsCert: opt('tls-cert'),
    tlsKey: opt('tls-key'),
    tlsSelfSigned: tls === 'self-signed',
    turnSecret,
    turnUrls,
    // Seconds are allowed down to 2 so tests can watch credentials being refreshed; the
    // refresh runs on the heartbeat sweep, so a TTL must stay well above --ping-interval-ms.
    turnTtlSeconds: num('turn-ttl-seconds', 2, 7 * 24 * 3600),
    stunUrls: list(raw('stun-urls')),
    origins: list(raw('origins')),
    trustedProxies,
    maxConnectionsPerIp: num('max-connections-per-ip', 0, 1_000_000),
    loginTimeoutMs: num('login-timeout-ms', 100, 3_600_000),
    logFormat: opt('log-format') === undefined ? undefined : oneOf('log-format', ['plain', 'json'] as const),
    logLevel: oneOf('log-level', ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const),
    presence: oneOf('presence', ['on', 'off'] as const) === 'on',
    rooms: oneOf('rooms', ['guests', 'accounts', 'off'] as const),
    presenceBroadcastBelow: num('presence-broadcast-below', 0, 1_000_000),
    presenceTickMs: num('presence-tick-ms', 0, 10_000),
    ringTimeoutMs: num('ring-timeout-ms', 100, 3_600_000),
    pingIntervalMs: num('ping-interval-ms', 50, 3_600_000),
    idleTimeoutMs: num('idle-timeout-ms', 100, 3_600_000),
    maxFrameBytes: num('max-frame-bytes', 1024, 16 * 1024 * 1024),
    outboundCapBytes: num('outbound-cap-bytes', 16 * 1024, 1024 * 1024 * 1024),
    rateBurst: num('rate-burst', 1, 1_000_000),
    ratePerSecond: num('rate-per-second', 1, 1_000_000),
    invitesPerMinute: num('invites-per-minute', 1, 1_000_000),
    queueMax: num('queue-max', 1, 100_000),
    maxDevices: num('max-devices', 1, 100),
    resumeGraceMs: num('resume-grace-ms', 0, 600_000),
    shutdownTimeoutMs: num('shutdown-timeout-ms', 100, 600_000),
    webRoot: opt('web-root'),
    peerjs,
    argon2MemoryKib: num('argon2-memory-kib', 1024, 4 * 1024 * 1024),
    argon2TimeCost: num('argon2-time-cost', 1, 100),
    argon2Parallelism: num('argon2-parallelism', 1, 64),
    loginConcurrency: num('login-concurrency', 1, 256),
    loginThrottleMs: num('login-throttle-ms', 10, 3_600_000),
    userCheckIntervalMs: num('user-check-interval-ms', 50, 3_600_000),
    sessionTokenTtlSeconds: num('session-token-ttl-seconds', 30, 24 * 3600),
    recordsRetentionDays: num('records-retention-days', 1, 36_500),
  });
}

/**
 * The PeerJS client turns its `path` into "/…/" (a leading and a trailing slash) and appends
 * `peerjs` for the WebSocket and `<key>/id` for HTTP: the same normalization here makes any
 * spelling the client accepts name the same mount.
 */
function peerjsConfig(
  on: boolean,
  rawPath: string,
  key: string,
  discovery: boolean,
  expireMs: number,
): PeerjsConfig | undefined {
  if (!on) return undefined;
  let path = rawPath === '' ? '/' : rawPath;
  if (!path.startsWith('/')) path = `/${path}`;
  if (!path.endsWith('/')) path = `${path}/`;
  if (/[?#\s%]|\/\//.test(path)) {
    throw new ConfigError(`--peerjs-path is not a plain URL path (got "${rawPath}")`);
  }
  if (!/^[A-Za-z0-9._~-]{1,64}$/.test(key)) {
    throw new ConfigError('--peerjs-key must be 1-64 letters, digits, ".", "_", "~" or "-"');
  }
  return Object.freeze({ path, key, discovery, expireMs });
}

export function helpText(): string {
  const lines = [
    'callwire: self-hosted one-to-one calls on WebRTC',
    '',
    'Usage:',
    '  callwire [serve] [flags]            run the server',
    '  callwire users add|remove|list|passwd NAME   manage accounts (password from stdin or a prompt;',
    '                                               same --data-dir / --store / --redis as the server)',
    '  callwire token NAME [--ttl-seconds 3600]     mint a development token for --auth jwt',
    '                                               (signed with --jwt-secret, or --jwt-private-key FILE)',
    '  callwire doctor URL [--json]                 can calls connect from this network? Signs in to',
    '                                               URL, tries its STUN and TURN (UDP, TCP, TLS); exit',
    '                                               0 works, 3 relay only, 4 blocked, 5 nothing to test',
    '  callwire --help | --version',
    '',
    'Flags (each also read from CALLWIRE_<FLAG>, e.g. CALLWIRE_PORT):',
  ];
  for (const [name, [, def, help]] of Object.entries(FLAGS)) {
    const d = def === '' ? '' : ` (default ${def})`;
    lines.push(`  --${name.padEnd(26)} ${help}${d}`);
  }
  return lines.join('\n');
}
