import { execFile } from 'node:child_process';
import { X509Certificate, createHash, randomBytes } from 'node:crypto';
import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { chromium, type Browser } from 'playwright-core';
import { chromiumPath, fakeMediaFlags } from './chromium.js';
import { Cleanup } from './cleanup.js';
import { assertLoopbackOnlyNetwork } from './ports.js';

const run = promisify(execFile);

/**
 * Hosts on hostile networks, each in its own network namespace inside the suite's
 * loopback-only one, which plays "the internet" and holds the TURN server and the callwire
 * server on addresses of their own:
 *
 *     host 1 (eth0 11.1.0.2, 2a00:ca11:1::2) ─┐
 *     host 2 (eth0 11.2.0.2, ...)             ├─ this namespace: TURN 11.0.0.1 / 2a00:ca11::1
 *     ...                                     ┘                  callwire 11.0.0.2 / 2a00:ca11::2
 *
 * IPv4 is not forwarded between hosts: two IPv4 hosts reach each other only through the TURN
 * server, as two people behind different firewalls would. IPv6 is routed, so two hosts with
 * IPv6 can connect directly. What a host's network lets through is enforced by iptables rules
 * on this namespace's side of its link, so blocked packets vanish on the way (no error comes
 * back, as with a real firewall), and the browser sees what it would see in that network.
 *
 * The addresses lie outside every range docs/DEPLOY.md's coturn configuration denies, so the
 * suite runs that configuration unchanged. They exist only inside these namespaces.
 */
export const TURN_V4 = '11.0.0.1';
export const TURN_V6 = '2a00:ca11::1';
export const SERVER_V4 = '11.0.0.2';
export const SERVER_V6 = '2a00:ca11::2';
export const TURN_TLS_PORT = 443;

/**
 * - `open`: dual-stack, nothing blocked.
 * - `no-udp`: IPv4; all UDP dropped, and TCP 443 to the TURN host too, so it reaches TURN
 *   only over TCP 3478.
 * - `tls443`: IPv4; nothing gets out but TCP to the callwire host (the web and signaling) and
 *   TCP 443 to the TURN host.
 * - `blocked`: IPv4; nothing gets out but TCP to the callwire host.
 * - `ipv6-only`: no IPv4 address at all.
 */
export type NetworkKind = 'open' | 'no-udp' | 'tls443' | 'blocked' | 'ipv6-only';

export interface LabHost {
  readonly kind: NetworkKind;
  readonly netns: string;
  /** The host's own addresses (none for a family it does not have). */
  readonly v4: string | undefined;
  readonly v6: string | undefined;
  /** Chromium inside the host's namespace, trusting the lab's TURN certificate. */
  launchChromium(extraFlags?: readonly string[]): Promise<Browser>;
}

export interface HostileLab {
  addHost(kind: NetworkKind): Promise<LabHost>;
  /** The TURN server's test certificate and key (PEM files), for coturn's `turns:` port. */
  readonly cert: string;
  readonly key: string;
  close(): Promise<void>;
}

async function cmd(file: string, ...args: string[]): Promise<void> {
  await run(file, args);
}

/** iptables and ip6tables with the same rule (rules that name no address). */
async function both(...args: string[]): Promise<void> {
  await cmd('iptables', ...args);
  await cmd('ip6tables', ...args);
}

export async function createHostileLab(): Promise<HostileLab> {
  assertLoopbackOnlyNetwork();
  const id = `${process.pid.toString(36)}${randomBytes(2).toString('hex')}`;
  const chain = `CWLAB${id}`.slice(0, 28);
  const cleanup = new Cleanup();
  const dir = mkdtempSync(path.join(os.tmpdir(), 'callwire-hostile-'));
  cleanup.add('lab files', () => rmSync(dir, { recursive: true, force: true }));
  const cert = path.join(dir, 'turn-cert.pem');
  const key = path.join(dir, 'turn-key.pem');
  let hosts = 0;
  try {
    for (const address of [`${TURN_V4}/32`, `${SERVER_V4}/32`]) {
      await cmd('ip', 'addr', 'add', address, 'dev', 'lo');
      cleanup.add(`address ${address}`, () => cmd('ip', 'addr', 'del', address, 'dev', 'lo'));
    }
    for (const address of [`${TURN_V6}/128`, `${SERVER_V6}/128`]) {
      await cmd('ip', '-6', 'addr', 'add', address, 'dev', 'lo', 'nodad');
      cleanup.add(`address ${address}`, () => cmd('ip', '-6', 'addr', 'del', address, 'dev', 'lo'));
    }
    await cmd('sysctl', '-qw', 'net.ipv6.conf.all.forwarding=1');
    cleanup.add('ipv6 forwarding', () => cmd('sysctl', '-qw', 'net.ipv6.conf.all.forwarding=0'));
    // One chain of this lab's rules, hooked into INPUT, OUTPUT and FORWARD: removing it
    // leaves the suite's namespace as it was for the suites that run after this one.
    await both('-N', chain);
    cleanup.add('iptables chain', async () => {
      for (const hook of ['INPUT', 'OUTPUT', 'FORWARD']) await both('-D', hook, '-j', chain);
      await both('-F', chain);
      await both('-X', chain);
    });
    for (const hook of ['INPUT', 'OUTPUT', 'FORWARD']) await both('-I', hook, '-j', chain);
    // The TURN server's certificate: self-signed for its address, trusted by the lab's
    // browsers through its key's hash (Chromium checks a TURNS certificate like a website's,
    // and a TURN allocation that fails the check fails without a word).
    await cmd(
      'openssl',
      'req',
      '-x509',
      '-newkey',
      'ec',
      '-pkeyopt',
      'ec_paramgen_curve:P-256',
      '-nodes',
      '-days',
      '2',
      '-subj',
      '/CN=turn.callwire.test',
      '-addext',
      `subjectAltName=IP:${TURN_V4},IP:${TURN_V6}`,
      '-keyout',
      key,
      '-out',
      cert,
    );
  } catch (error) {
    await cleanup.run();
    throw new Error('cannot build the lab (needs root, iproute2, iptables and openssl)', {
      cause: error,
    });
  }
  const spki = createHash('sha256')
    .update(
      new X509Certificate(readFileSync(cert)).publicKey.export({ type: 'spki', format: 'der' }),
    )
    .digest('base64');

  /** Rules on this namespace's end (`link`) of a host's link: what its network lets through. */
  async function firewall(kind: NetworkKind, link: string): Promise<void> {
    const from = ['-A', chain, '-i', link];
    const to = ['-A', chain, '-o', link];
    switch (kind) {
      case 'open':
      case 'ipv6-only':
        return;
      case 'no-udp':
        await both(...from, '-p', 'udp', '-j', 'DROP');
        await both(...to, '-p', 'udp', '-j', 'DROP');
        await cmd(
          'iptables',
          ...from,
          '-p',
          'tcp',
          '-d',
          TURN_V4,
          '--dport',
          `${TURN_TLS_PORT}`,
          '-j',
          'DROP',
        );
        return;
      case 'tls443':
      case 'blocked': {
        const established = ['-m', 'conntrack', '--ctstate', 'ESTABLISHED,RELATED', '-j', 'ACCEPT'];
        await cmd('iptables', ...from, '-p', 'tcp', '-d', SERVER_V4, '-j', 'ACCEPT');
        if (kind === 'tls443')
          await cmd(
            'iptables',
            ...from,
            '-p',
            'tcp',
            '-d',
            TURN_V4,
            '--dport',
            `${TURN_TLS_PORT}`,
            '-j',
            'ACCEPT',
          );
        await both(...from, ...established);
        await both(...from, '-j', 'DROP');
        await both(...to, ...established);
        await both(...to, '-j', 'DROP');
        return;
      }
    }
  }

  return {
    cert,
    key,
    async addHost(kind) {
      const n = ++hosts;
      const netns = `cw-h${n}-${id}`;
      const link = `cwh${n}${id}`.slice(0, 15);
      const v4 = kind === 'ipv6-only' ? undefined : `11.${n}.0.2`;
      const v6 = kind === 'open' || kind === 'ipv6-only' ? `2a00:ca11:${n}::2` : undefined;
      await cmd('ip', 'netns', 'add', netns);
      cleanup.add(`netns ${netns}`, () => cmd('ip', 'netns', 'del', netns));
      await cmd('ip', '-n', netns, 'link', 'set', 'lo', 'up');
      await cmd('ip', 'link', 'add', link, 'type', 'veth', 'peer', 'name', 'eth0', 'netns', netns);
      await cmd('ip', 'link', 'set', link, 'up');
      await cmd('ip', '-n', netns, 'link', 'set', 'eth0', 'up');
      if (v4 !== undefined) {
        await cmd('ip', 'addr', 'add', `11.${n}.0.1/24`, 'dev', link);
        await cmd('ip', '-n', netns, 'addr', 'add', `${v4}/24`, 'dev', 'eth0');
        await cmd('ip', '-n', netns, 'route', 'add', 'default', 'via', `11.${n}.0.1`);
      }
      if (v6 !== undefined) {
        await cmd('ip', '-6', 'addr', 'add', `2a00:ca11:${n}::1/64`, 'dev', link, 'nodad');
        await cmd('ip', '-n', netns, '-6', 'addr', 'add', `${v6}/64`, 'dev', 'eth0', 'nodad');
        await cmd('ip', '-n', netns, '-6', 'route', 'add', 'default', 'via', `2a00:ca11:${n}::1`);
      }
      await firewall(kind, link);
      return {
        kind,
        netns,
        v4,
        v6,
        async launchChromium(extraFlags = []) {
          // Playwright talks to Chromium over inherited pipes, which `ip netns exec` keeps.
          const wrapper = path.join(dir, `chromium-${netns}`);
          writeFileSync(
            wrapper,
            `#!/bin/sh\nexec ip netns exec '${netns}' '${chromiumPath}' "$@"\n`,
          );
          chmodSync(wrapper, 0o755);
          return chromium.launch({
            executablePath: wrapper,
            args: [
              ...fakeMediaFlags,
              `--ignore-certificate-errors-spki-list=${spki}`,
              ...extraFlags,
            ],
            timeout: 30_000,
          });
        },
      };
    },
    close: () => cleanup.run(),
  };
}
