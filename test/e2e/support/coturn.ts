import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import dgram from 'node:dgram';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { freePort } from './ports.js';

/** Debian's coturn (`apt-get install -y coturn`). */
export const turnserverPath = process.env['CALLWIRE_TURNSERVER'] ?? '/usr/bin/turnserver';

export interface Coturn {
  readonly port: number;
  /** The `static-auth-secret`: give the same one to callwire as `--turn-secret`. */
  readonly secret: string;
  readonly realm: string;
  /** `turn:127.0.0.1:<port>?transport=udp`, as callwire's `--turn-urls` takes it. */
  readonly url: string;
  /** Everything coturn printed so far (its log goes to stdout), for failure messages. */
  readonly output: readonly string[];
  /** SIGTERM, then SIGKILL if it lingers; removes its files. Idempotent. */
  stop(): Promise<void>;
}

const running = new Set<ChildProcess>();
process.once('exit', () => {
  for (const child of running) child.kill('SIGKILL');
});

export interface CoturnOptions {
  /** Address relays are allocated on (default 127.0.0.1); it must exist in the namespace. */
  relayIp?: string;
  /**
   * Default true: two relays on 127.0.0.1 are loopback peers of each other. Tests only:
   * docs/DEPLOY.md's production configuration denies them.
   */
  allowLoopbackPeers?: boolean;
  /** Configuration-file lines (e.g. DEPLOY.md's), used with the flags below instead of `-n`. */
  config?: string;
  /** Addresses to listen on (default 127.0.0.1); the first must answer STUN over UDP. */
  listeningIps?: readonly string[];
  /** Further relay addresses (another address family). */
  extraRelayIps?: readonly string[];
  /** Default: a free port. */
  port?: number;
  /** `turns:` on `port` with this certificate (PEM files); without it coturn runs with no TLS. */
  tls?: { cert: string; key: string; port: number };
  startTimeoutMs?: number;
}

/**
 * A private coturn with REST-API credentials (`use-auth-secret`), the way callwire is meant
 * to be deployed, listening on 127.0.0.1 only. It must run inside the suite's loopback-only
 * network namespace. Resolves once it answers a STUN Binding request on its port.
 */
export async function startCoturn(options: CoturnOptions = {}): Promise<Coturn> {
  if (!existsSync(turnserverPath)) {
    throw new Error(`turnserver not found at ${turnserverPath}: apt-get install -y coturn`);
  }
  const listeningIps = options.listeningIps ?? ['127.0.0.1'];
  const host = listeningIps[0] ?? '127.0.0.1';
  const port = options.port ?? (await freePort());
  // Hex, so the secret never starts with '-' (which a command line would take for a flag).
  const secret = randomBytes(24).toString('hex');
  const realm = 'callwire.test';
  // Its pid file, (unused) user database and configuration go to a private folder, not /var
  // and /etc.
  const workDir = mkdtempSync(path.join(os.tmpdir(), 'callwire-coturn-'));
  let configArgs = ['-n'];
  if (options.config !== undefined) {
    const file = path.join(workDir, 'turnserver.conf');
    writeFileSync(file, options.config);
    configArgs = ['-c', file];
  }
  const child = spawn(
    turnserverPath,
    [
      ...configArgs,
      `--listening-port=${port}`,
      ...listeningIps.map((ip) => `--listening-ip=${ip}`),
      `--relay-ip=${options.relayIp ?? '127.0.0.1'}`,
      ...(options.extraRelayIps ?? []).map((ip) => `--relay-ip=${ip}`),
      '--use-auth-secret',
      `--static-auth-secret=${secret}`,
      `--realm=${realm}`,
      ...(options.tls === undefined
        ? ['--no-tls']
        : [
            `--cert=${options.tls.cert}`,
            `--pkey=${options.tls.key}`,
            `--tls-listening-port=${options.tls.port}`,
          ]),
      '--no-dtls',
      ...(options.allowLoopbackPeers === false ? [] : ['--allow-loopback-peers']),
      '--no-cli',
      '--log-file=stdout',
      `--pidfile=${path.join(workDir, 'turnserver.pid')}`,
      `--userdb=${path.join(workDir, 'turndb')}`,
    ],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  running.add(child);
  const output: string[] = [];
  createInterface({ input: child.stdout }).on('line', (line) => output.push(line));
  createInterface({ input: child.stderr }).on('line', (line) => output.push(`stderr: ${line}`));
  let exitInfo: string | undefined;
  const exited = new Promise<void>((resolve) =>
    child.once('exit', (code, signal) => {
      running.delete(child);
      exitInfo = `turnserver exited with ${signal ?? code}`;
      resolve();
    }),
  );

  let stopping: Promise<void> | undefined;
  const stop = (): Promise<void> => {
    stopping ??= (async () => {
      if (exitInfo === undefined) {
        child.kill('SIGTERM');
        const killTimer = setTimeout(() => child.kill('SIGKILL'), 5000);
        await exited;
        clearTimeout(killTimer);
      }
      rmSync(workDir, { recursive: true, force: true });
    })();
    return stopping;
  };

  try {
    await waitForStun(host, port, options.startTimeoutMs ?? 10_000, () => exitInfo);
  } catch (error) {
    await stop();
    throw new Error(`coturn did not start\n${output.slice(-40).join('\n')}`, { cause: error });
  }
  const urlHost = host.includes(':') ? `[${host}]` : host;
  return { port, secret, realm, url: `turn:${urlHost}:${port}?transport=udp`, output, stop };
}

/**
 * Sends STUN Binding requests (RFC 5389) over UDP until one is answered: coturn prints no
 * line when its listeners are up, but an answer means it serves requests on the port.
 */
async function waitForStun(
  host: string,
  port: number,
  timeoutMs: number,
  exited: () => string | undefined,
): Promise<void> {
  const socket = dgram.createSocket(host.includes(':') ? 'udp6' : 'udp4');
  const transactionId = randomBytes(12);
  const request = Buffer.alloc(20);
  request.writeUInt16BE(0x0001, 0); // Binding request
  request.writeUInt16BE(0, 2); // no attributes
  request.writeUInt32BE(0x2112a442, 4); // magic cookie
  transactionId.copy(request, 8);
  try {
    await new Promise<void>((resolve, reject) => {
      const deadline = Date.now() + timeoutMs;
      const finish = (error?: Error): void => {
        clearInterval(timer);
        if (error === undefined) resolve();
        else reject(error);
      };
      const timer = setInterval(() => {
        const exit = exited();
        if (exit !== undefined) return finish(new Error(exit));
        if (Date.now() > deadline)
          return finish(new Error(`no STUN answer within ${timeoutMs} ms`));
        socket.send(request, port, host);
      }, 50);
      socket.on('message', (message) => {
        // A Binding success response (0x0101) to our transaction.
        const ours = message.length >= 20 && message.subarray(8, 20).equals(transactionId);
        if (ours && message.readUInt16BE(0) === 0x0101) finish();
      });
      socket.on('error', (error) => finish(error));
    });
  } finally {
    socket.close();
  }
}
