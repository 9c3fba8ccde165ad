import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import dgram from 'node:dgram';
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { promisify } from 'node:util';
import { chromium, type Browser } from 'playwright-core';
import { chromiumPath, fakeMediaFlags } from './chromium.js';
import { Cleanup } from './cleanup.js';
import { assertLoopbackOnlyNetwork } from './ports.js';
import { turnserverPath } from './coturn.js';

const run = promisify(execFile);

/**
 * Two hosts that can reach each other only through a NAT, built from network namespaces inside
 * the suite's own loopback-only namespace (shared/TESTING.md):
 *
 *     netns A 10.1.0.2 ─┐                       ┌─ this namespace ("the internet")
 *                        ├─ netns R (router) ───┤   100.64.0.1: callwire, coturn, the page
 *     netns B 10.2.0.2 ─┘  MASQUERADE           └─ R's public side is 100.64.0.2
 *                          --random-fully
 *
 * R forwards A and B to the public side only, through a symmetric NAT (a new random port for
 * every destination), and never between A and B; with both behind the same NAT and no
 * hairpinning, their host and server-reflexive candidates cannot reach each other, so a call
 * between them connects only through TURN. The addresses exist only inside these namespaces.
 */
export const PUBLIC_IP = '100.64.0.1';

export interface NatLab {
  readonly a: string;
  readonly b: string;
  readonly router: string;
  /** Chromium running inside `netns`, driven over its pipe like any other. */
  launchChromium(netns: string, extraFlags: readonly string[]): Promise<Browser>;
  /** Drop the UDP traffic of one host at the router (media and TURN; signaling is TCP). */
  breakPath(netns: string): Promise<void>;
  restorePath(netns: string): Promise<void>;
  /** Delete the namespaces (their links go with them) and the wrapper scripts. Idempotent. */
  close(): Promise<void>;
}

async function ip(...args: string[]): Promise<void> {
  await run('ip', args);
}

async function inNs(netns: string, ...command: string[]): Promise<void> {
  await run('ip', ['netns', 'exec', netns, ...command]);
}

export async function createNatLab(): Promise<NatLab> {
  // Everything below changes the network: only ever inside a namespace made for the suite.
  assertLoopbackOnlyNetwork();
  const id = `${process.pid.toString(36)}${randomBytes(2).toString('hex')}`;
  const a = `cw-a-${id}`;
  const b = `cw-b-${id}`;
  const router = `cw-r-${id}`;
  const publicLink = `cwp${id}`.slice(0, 15);
  const cleanup = new Cleanup();
  const scripts = mkdtempSync(path.join(os.tmpdir(), 'callwire-netns-'));
  cleanup.add('wrapper scripts', () => rmSync(scripts, { recursive: true, force: true }));
  const hostSide: Record<string, string> = { [a]: 'ia', [b]: 'ib' };
  try {
    for (const netns of [router, a, b]) {
      await ip('netns', 'add', netns);
      cleanup.add(`netns ${netns}`, () => ip('netns', 'del', netns));
      await ip('-n', netns, 'link', 'set', 'lo', 'up');
    }
    await ip('link', 'add', publicLink, 'type', 'veth', 'peer', 'name', 'pub', 'netns', router);
    await ip('addr', 'add', `${PUBLIC_IP}/24`, 'dev', publicLink);
    await ip('link', 'set', publicLink, 'up');
    await ip('-n', router, 'addr', 'add', '100.64.0.2/24', 'dev', 'pub');
    await ip('-n', router, 'link', 'set', 'pub', 'up');
    for (const [netns, side, subnet] of [
      [a, 'ia', '10.1.0'],
      [b, 'ib', '10.2.0'],
    ] as const) {
      await ip(
        '-n',
        router,
        'link',
        'add',
        side,
        'type',
        'veth',
        'peer',
        'name',
        'eth0',
        'netns',
        netns,
      );
      await ip('-n', router, 'addr', 'add', `${subnet}.1/24`, 'dev', side);
      await ip('-n', router, 'link', 'set', side, 'up');
      await ip('-n', netns, 'addr', 'add', `${subnet}.2/24`, 'dev', 'eth0');
      await ip('-n', netns, 'link', 'set', 'eth0', 'up');
      await ip('-n', netns, 'route', 'add', 'default', 'via', `${subnet}.1`);
    }
    await inNs(router, 'sysctl', '-qw', 'net.ipv4.ip_forward=1');
    await inNs(
      router,
      'iptables',
      '-t',
      'nat',
      '-A',
      'POSTROUTING',
      '-o',
      'pub',
      '-j',
      'MASQUERADE',
      '--random-fully',
    );
    await inNs(router, 'iptables', '-A', 'FORWARD', '-i', 'ia', '-o', 'ib', '-j', 'DROP');
    await inNs(router, 'iptables', '-A', 'FORWARD', '-i', 'ib', '-o', 'ia', '-j', 'DROP');
    // Like a home router: from the internet only replies to what the hosts sent get in, and
    // anything else is dropped without a word (no ICMP "port unreachable" back to the sender).
    await inNs(
      router,
      'iptables',
      '-A',
      'FORWARD',
      '-i',
      'pub',
      '-m',
      'conntrack',
      '--ctstate',
      'ESTABLISHED,RELATED',
      '-j',
      'ACCEPT',
    );
    await inNs(router, 'iptables', '-A', 'FORWARD', '-i', 'pub', '-j', 'DROP');
    await inNs(router, 'iptables', '-A', 'INPUT', '-i', 'pub', '-p', 'udp', '-j', 'DROP');
    // The public side routes everything else to the router, as the internet would: coturn
    // relaying a check to a host's private address then sends it into the void (where the
    // router drops it) rather than failing with "network unreachable", which makes coturn
    // close the whole allocation.
    await ip('route', 'add', 'default', 'via', '100.64.0.2', 'dev', publicLink);
  } catch (error) {
    await cleanup.run();
    throw new Error('cannot build the NAT namespaces (needs root, iproute2 and iptables)', {
      cause: error,
    });
  }

  const udpRule = (netns: string, op: '-I' | '-D'): Promise<void>[] => {
    const side = hostSide[netns];
    if (side === undefined) throw new Error(`not a host of this lab: ${netns}`);
    return [
      inNs(router, 'iptables', op, 'FORWARD', '-i', side, '-p', 'udp', '-j', 'DROP'),
      inNs(router, 'iptables', op, 'FORWARD', '-o', side, '-p', 'udp', '-j', 'DROP'),
    ];
  };

  return {
    a,
    b,
    router,
    async launchChromium(netns, extraFlags) {
      // Playwright talks to Chromium over inherited pipes, which `ip netns exec` keeps.
      const wrapper = path.join(scripts, `chromium-${netns}`);
      writeFileSync(wrapper, `#!/bin/sh\nexec ip netns exec '${netns}' '${chromiumPath}' "$@"\n`);
      chmodSync(wrapper, 0o755);
      return chromium.launch({
        executablePath: wrapper,
        args: [...fakeMediaFlags, ...extraFlags],
        timeout: 30_000,
      });
    },
    async breakPath(netns) {
      await Promise.all(udpRule(netns, '-I'));
    },
    async restorePath(netns) {
      await Promise.all(udpRule(netns, '-D'));
    },
    close: () => cleanup.run(),
  };
}

export interface PublicCoturn {
  readonly url: string;
  readonly secret: string;
  readonly output: readonly string[];
  stop(): Promise<void>;
}

/**
 * coturn on the public side of the lab (support/coturn.ts listens on loopback only, which the
 * hosts behind the NAT cannot reach), with REST-API credentials as callwire issues them.
 */
export async function startPublicCoturn(port: number): Promise<PublicCoturn> {
  const secret = randomBytes(24).toString('hex');
  const workDir = mkdtempSync(path.join(os.tmpdir(), 'callwire-coturn-nat-'));
  const child: ChildProcess = spawn(
    turnserverPath,
    [
      '-n',
      `--listening-port=${port}`,
      `--listening-ip=${PUBLIC_IP}`,
      `--relay-ip=${PUBLIC_IP}`,
      '--use-auth-secret',
      `--static-auth-secret=${secret}`,
      '--realm=callwire.test',
      '--no-tls',
      '--no-dtls',
      '--no-cli',
      '--log-file=stdout',
      `--pidfile=${path.join(workDir, 'turnserver.pid')}`,
      `--userdb=${path.join(workDir, 'turndb')}`,
    ],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  const output: string[] = [];
  createInterface({ input: child.stdout! }).on('line', (line) => output.push(line));
  createInterface({ input: child.stderr! }).on('line', (line) => output.push(`stderr: ${line}`));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  let stopping: Promise<void> | undefined;
  const stop = (): Promise<void> => {
    stopping ??= (async () => {
      if (child.exitCode === null && child.signalCode === null) {
        child.kill('SIGTERM');
        const timer = setTimeout(() => child.kill('SIGKILL'), 5_000);
        await exited;
        clearTimeout(timer);
      }
      rmSync(workDir, { recursive: true, force: true });
    })();
    return stopping;
  };
  try {
    await stunAnswered(port);
  } catch (error) {
    await stop();
    throw new Error(`coturn did not start\n${output.slice(-30).join('\n')}`, { cause: error });
  }
  return { url: `turn:${PUBLIC_IP}:${port}?transport=udp`, secret, output, stop };
}

/** A STUN Binding request (RFC 5389) answered on the port means coturn serves it. */
async function stunAnswered(port: number, timeoutMs = 10_000): Promise<void> {
  const socket = dgram.createSocket('udp4');
  const id = randomBytes(12);
  const request = Buffer.alloc(20);
  request.writeUInt16BE(0x0001, 0);
  request.writeUInt32BE(0x2112a442, 4);
  id.copy(request, 8);
  try {
    await new Promise<void>((resolve, reject) => {
      const deadline = Date.now() + timeoutMs;
      const timer = setInterval(() => {
        if (Date.now() > deadline) {
          clearInterval(timer);
          reject(new Error(`no STUN answer within ${timeoutMs} ms`));
          return;
        }
        socket.send(request, port, PUBLIC_IP);
      }, 50);
      socket.on('message', (message) => {
        if (message.length >= 20 && message.subarray(8, 20).equals(id)) {
          clearInterval(timer);
          resolve();
        }
      });
    });
  } finally {
    socket.close();
  }
}
