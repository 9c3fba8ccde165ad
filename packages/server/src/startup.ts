/**
 * What the CLI tells people when it starts: the URLs to open, and, when it cannot start, one
 * sentence that says why and what to do (rather than a stack trace or a JSON log line).
 */
import { accessSync, constants, mkdirSync, statSync } from 'node:fs';
import { networkInterfaces } from 'node:os';
import type { Config } from './config.js';

/** A start-up failure whose message is already the sentence to print. */
export class StartupError extends Error {
  override readonly name = 'StartupError';
}

/** Create the data directory if needed and make sure callwire can write there. */
export function checkDataDir(dir: string): void {
  try {
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    if (!statSync(dir).isDirectory()) throw Object.assign(new Error(), { code: 'ENOTDIR' });
    accessSync(dir, constants.R_OK | constants.W_OK);
  } catch (err) {
    throw new StartupError(
      `cannot use the data directory ${dir}: ${reason(err)}; choose another with --data-dir.`,
      { cause: err },
    );
  }
}

function reason(err: unknown): string {
  switch ((err as NodeJS.ErrnoException).code) {
    case 'ENOENT':
      return 'no such file or directory';
    case 'EACCES':
    case 'EPERM':
      return 'permission denied';
    case 'EEXIST':
    case 'ENOTDIR':
      return 'a file is in the way (it is not a directory)';
    case 'EISDIR':
      return 'it is a directory, not a file';
    case 'EROFS':
      return 'the file system is read-only';
    default:
      return (err as Error).message;
  }
}

/** The one sentence (without the `callwire: ` prefix) for an error that stopped the start. */
export function describeStartupError(err: unknown, config: Config): string {
  if (err instanceof StartupError) return err.message;
  const e = err as NodeJS.ErrnoException;
  const where = config.host ?? 'localhost';
  if (e.code === 'EADDRINUSE') {
    return `port ${config.port} on ${where} is already in use; stop the program using it or choose another --port.`;
  }
  if (e.code === 'EACCES' && (e.syscall === 'listen' || e.syscall === 'bind')) {
    return `no permission to listen on port ${config.port} (ports below 1024 need privileges); choose another --port.`;
  }
  if (e.code === 'EADDRNOTAVAIL' || e.code === 'ENOTFOUND') {
    return `cannot listen on --host ${where}: it is not an address of this machine.`;
  }
  if (e.path !== undefined && (e.path === config.tlsCert || e.path === config.tlsKey)) {
    const what = e.path === config.tlsCert ? 'certificate' : 'key';
    return `cannot read the TLS ${what} ${e.path}: ${reason(err)}.`;
  }
  if (config.tlsCert !== undefined && /PEM|ASN1|OSSL|private key/i.test(`${e.code} ${e.message}`)) {
    return `${config.tlsCert} and ${config.tlsKey} must be a PEM certificate and its private key (${e.message}).`;
  }
  if (e.path !== undefined) return `cannot use ${e.path}: ${reason(err)}.`;
  return `cannot start: ${e.message ?? String(err)}.`;
}

export interface StartInfo {
  readonly port: number;
  readonly addresses: readonly string[];
  readonly secure: boolean;
  /** SHA-256 fingerprint of a self-signed certificate, for people to compare in the browser. */
  readonly fingerprint?: string | undefined;
  readonly version: string;
}

/** The URLs to open: localhost for loopback, and every LAN address when bound to all of them. */
export function startUrls(info: Pick<StartInfo, 'port' | 'addresses' | 'secure'>): string[] {
  const hosts = new Set<string>();
  for (const address of info.addresses) {
    if (address === '127.0.0.1' || address === '::1' || address === 'localhost') {
      hosts.add('localhost');
    } else if (address === '0.0.0.0' || address === '::') {
      hosts.add('localhost');
      for (const list of Object.values(networkInterfaces())) {
        for (const nic of list ?? []) {
          if (nic.internal) continue;
          if (nic.family === 'IPv4') hosts.add(nic.address);
          else if (address === '::' && !nic.address.startsWith('fe80')) hosts.add(nic.address);
        }
      }
    } else {
      hosts.add(address);
    }
  }
  const scheme = info.secure ? 'https' : 'http';
  return [...hosts].map((h) => `${scheme}://${h.includes(':') ? `[${h}]` : h}:${info.port}/`);
}

/** The lines printed once the server listens. */
export function startText(info: StartInfo): string {
  const [first, ...more] = startUrls(info);
  let text = `callwire ${info.version} is running: open ${first}`;
  if (more.length > 0) text += ` (or ${more.join(', ')})`;
  text += '\n';
  if (info.fingerprint !== undefined) {
    text +=
      `The TLS certificate is self-signed: browsers will warn; accept it only if it shows the ` +
      `SHA-256 fingerprint ${info.fingerprint}\n`;
  }
  return text;
}
