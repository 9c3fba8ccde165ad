/**
 * Transport security. With `--tls-cert/--tls-key` (PEM files) or `--tls self-signed` the one
 * port serves https and wss only: a plaintext request fails the TLS handshake and is dropped,
 * never answered in the clear. Responses then carry HSTS.
 *
 * `--tls self-signed` is for development and for phones on the LAN, which need a secure
 * context for camera and microphone: callwire makes an ECDSA P-256 certificate for localhost,
 * 127.0.0.1, ::1, this machine's hostname (and `<hostname>.local`) and its LAN addresses,
 * keeps it in `<data-dir>/tls/`, and reuses it until it nears expiry or the names change (so
 * a device that accepted it once keeps working). Its SHA-256 fingerprint is logged, so it can
 * be compared with what the phone shows before accepting it.
 */
import { X509Certificate, createPrivateKey } from 'node:crypto';
import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { hostname, networkInterfaces } from 'node:os';
import { join } from 'node:path';
import { generate } from 'selfsigned';
import type { Config } from './config.js';

export const HSTS = 'max-age=31536000';

const DAY_MS = 24 * 3600 * 1000;
const VALID_DAYS = 365;
/** Make a new certificate when the kept one has less than this left. */
const RENEW_BEFORE_MS = 14 * DAY_MS;

export interface TlsMaterial {
  readonly key: string;
  readonly cert: string;
  readonly selfSigned: boolean;
  /** Colon-separated SHA-256 of the certificate. */
  readonly fingerprint256: string;
  readonly certFile: string;
}

export function tlsEnabled(config: Pick<Config, 'tlsCert' | 'tlsSelfSigned'>): boolean {
  return config.tlsCert !== undefined || config.tlsSelfSigned;
}

/** The names a development certificate must cover on this machine. */
export function selfSignedNames(): { dns: string[]; ips: string[] } {
  const dns = new Set(['localhost']);
  const host = hostname().toLowerCase();
  if (/^[a-z0-9.-]+$/.test(host) && host !== 'localhost') {
    dns.add(host);
    if (!host.includes('.')) dns.add(`${host}.local`);
  }
  const ips = new Set(['127.0.0.1', '::1']);
  for (const list of Object.values(networkInterfaces())) {
    for (const a of list ?? []) {
      // Link-local IPv6 needs a zone id, which a URL (and so a browser) cannot use well.
      if (!a.internal && !(a.family === 'IPv6' && a.address.toLowerCase().startsWith('fe80')))
        ips.add(a.address);
    }
  }
  return { dns: [...dns], ips: [...ips] };
}

/** Key and certificate for the server, or undefined when TLS is off. */
export async function loadTls(config: Config): Promise<TlsMaterial | undefined> {
  if (config.tlsCert !== undefined && config.tlsKey !== undefined) {
    const cert = readFileSync(config.tlsCert, 'utf8');
    const key = readFileSync(config.tlsKey, 'utf8');
    const x509 = new X509Certificate(cert);
    if (!x509.checkPrivateKey(createPrivateKey(key))) {
      throw new Error(`${config.tlsKey} is not the private key of ${config.tlsCert}`);
    }
    return {
      key,
      cert,
      selfSigned: false,
      fingerprint256: x509.fingerprint256,
      certFile: config.tlsCert,
    };
  }
  if (!config.tlsSelfSigned) return undefined;
  return selfSigned(join(config.dataDir, 'tls'));
}

async function selfSigned(dir: string): Promise<TlsMaterial> {
  const certFile = join(dir, 'self-signed-cert.pem');
  const keyFile = join(dir, 'self-signed-key.pem');
  const names = selfSignedNames();
  const kept = readKept(certFile, keyFile, names);
  if (kept !== undefined) return kept;

  const now = Date.now();
  const pems = await generate([{ name: 'commonName', value: 'callwire development certificate' }], {
    keyType: 'ec',
    curve: 'P-256',
    algorithm: 'sha256',
    notBeforeDate: new Date(now - 60_000),
    notAfterDate: new Date(now + VALID_DAYS * DAY_MS),
    extensions: [
      { name: 'basicConstraints', cA: false, critical: true },
      { name: 'keyUsage', digitalSignature: true, critical: true },
      { name: 'extKeyUsage', serverAuth: true },
      {
        name: 'subjectAltName',
        altNames: [
          ...names.dns.map((value) => ({ type: 2 as const, value })),
          ...names.ips.map((ip) => ({ type: 7 as const, ip })),
        ],
      },
    ],
  });
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  // Write both, then rename: a reader sees either the old pair or the new one. A reader that
  // catches one of each finds they do not match and makes its own.
  const tag = `${process.pid}.${now}`;
  writeFileSync(`${keyFile}.${tag}`, pems.private, { mode: 0o600 });
  writeFileSync(`${certFile}.${tag}`, pems.cert, { mode: 0o644 });
  renameSync(`${keyFile}.${tag}`, keyFile);
  renameSync(`${certFile}.${tag}`, certFile);
  const x509 = new X509Certificate(pems.cert);
  return {
    key: pems.private,
    cert: pems.cert,
    selfSigned: true,
    fingerprint256: x509.fingerprint256,
    certFile,
  };
}

function readKept(
  certFile: string,
  keyFile: string,
  names: { dns: string[]; ips: string[] },
): TlsMaterial | undefined {
  let cert: string;
  let key: string;
  try {
    cert = readFileSync(certFile, 'utf8');
    key = readFileSync(keyFile, 'utf8');
  } catch {
    return undefined;
  }
  try {
    const x509 = new X509Certificate(cert);
    if (Date.parse(x509.validTo) - Date.now() < RENEW_BEFORE_MS) return undefined;
    if (!x509.checkPrivateKey(createPrivateKey(key))) return undefined;
    const covered =
      names.dns.every((n) => x509.checkHost(n, { wildcards: false }) !== undefined) &&
      names.ips.every((ip) => x509.checkIP(ip) !== undefined);
    if (!covered) return undefined;
    return { key, cert, selfSigned: true, fingerprint256: x509.fingerprint256, certFile };
  } catch {
    return undefined;
  }
}
