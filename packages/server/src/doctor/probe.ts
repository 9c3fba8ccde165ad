/**
 * What `callwire doctor` checks from the machine it runs on, the way a browser would: a STUN
 * Binding over UDP (is UDP open, what address is seen) and a TURN Allocate with the issued
 * credentials over UDP, TCP and TLS (RFC 5766 section 6; the first request is answered 401
 * with a realm and nonce, the second carries the long-term credential). An allocation that
 * succeeds is released at once (Refresh with lifetime 0) so it does not count against coturn's
 * per-user quota.
 */
import dgram from 'node:dgram';
import net from 'node:net';
import tls from 'node:tls';
import type { TurnTransport } from '@callwire/protocol';
import {
  ATTR,
  METHOD,
  REQUESTED_UDP,
  decode,
  encodeRequest,
  errorCode,
  longTermKey,
  messageLength,
  newTransactionId,
  xorAddress,
  type StunMessage,
} from './stun.js';

export interface ProbeTarget {
  host: string;
  port: number;
}

export interface ProbeOptions {
  timeoutMs: number;
  /** Extra CA certificates (PEM) for `turns:`; the system's are used too. */
  ca?: string | undefined;
}

export type ProbeResult = { ok: true; address: string | null } | { ok: false; error: string };

/** A request/response channel to one server over one transport. */
interface Channel {
  send(message: Buffer): void;
  /** The next message whose transaction id matches. */
  response(transactionId: Buffer): Promise<StunMessage>;
  close(): void;
}

/** Split `[v6]:port` and `host:port`. */
export function splitTarget(target: string): ProbeTarget {
  const m = /^(?:\[([^\]]+)\]|([^:]+)):(\d+)$/.exec(target);
  if (m === null) throw new TypeError(`not host:port: ${target}`);
  return { host: m[1] ?? m[2]!, port: Number(m[3]) };
}

function withTimeout<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no answer within ${ms} ms (${what})`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

/** Collects decoded messages and hands them to whoever waits for their transaction. */
class Inbox {
  readonly #messages: StunMessage[] = [];
  readonly #waiters = new Set<{ id: Buffer; resolve: (m: StunMessage) => void }>();
  #failed: Error | null = null;
  readonly #rejects = new Set<(e: Error) => void>();

  push(message: StunMessage): void {
    for (const waiter of this.#waiters) {
      if (waiter.id.equals(message.transactionId)) {
        this.#waiters.delete(waiter);
        waiter.resolve(message);
        return;
      }
    }
    this.#messages.push(message);
  }

  fail(error: Error): void {
    this.#failed ??= error;
    for (const reject of this.#rejects) reject(error);
  }

  wait(id: Buffer): Promise<StunMessage> {
    const queued = this.#messages.findIndex((m) => m.transactionId.equals(id));
    if (queued >= 0) return Promise.resolve(this.#messages.splice(queued, 1)[0]!);
    if (this.#failed !== null) return Promise.reject(this.#failed);
    return new Promise((resolve, reject) => {
      this.#waiters.add({ id, resolve });
      this.#rejects.add(reject);
    });
  }
}

async function udpChannel(target: ProbeTarget): Promise<Channel> {
  const socket = dgram.createSocket(net.isIPv6(target.host) ? 'udp6' : 'udp4');
  const inbox = new Inbox();
  socket.on('message', (data) => {
    const message = decode(data);
    if (message !== null) inbox.push(message);
  });
  socket.on('error', (error) => inbox.fail(error));
  let last: Buffer | undefined;
  // UDP loses packets: resend the last request until it is answered (RFC 5389 section 7.2.1,
  // with a fixed interval: the probe's whole budget is a few seconds anyway).
  const resend = setInterval(() => {
    if (last !== undefined) socket.send(last, target.port, target.host);
  }, 500);
  return {
    send(message) {
      last = message;
      socket.send(message, target.port, target.host);
    },
    response: (id) => inbox.wait(id),
    close() {
      clearInterval(resend);
      socket.close();
    },
  };
}

async function streamChannel(
  target: ProbeTarget,
  secure: boolean,
  options: ProbeOptions,
): Promise<Channel> {
  const socket: net.Socket = await new Promise((resolve, reject) => {
    const s = secure
      ? tls.connect({
          host: target.host,
          port: target.port,
          // SNI takes names, not addresses.
          ...(net.isIP(target.host) === 0 ? { servername: target.host } : {}),
          ...(options.ca !== undefined ? { ca: [...tls.rootCertificates, options.ca] } : {}),
        })
      : net.connect({ host: target.host, port: target.port });
    s.once(secure ? 'secureConnect' : 'connect', () => resolve(s));
    s.once('error', reject);
  });
  const inbox = new Inbox();
  let buffered = Buffer.alloc(0);
  socket.on('data', (chunk: Buffer) => {
    // STUN over a stream is one message after another, each as long as its header says.
    buffered = Buffer.concat([buffered, chunk]);
    for (let length = messageLength(buffered); length !== null && buffered.length >= length;) {
      const message = decode(buffered.subarray(0, length));
      buffered = buffered.subarray(length);
      if (message !== null) inbox.push(message);
      length = messageLength(buffered);
    }
  });
  socket.on('error', (error) => inbox.fail(error));
  socket.on('close', () => inbox.fail(new Error('the server closed the connection')));
  return {
    send: (message) => void socket.write(message),
    response: (id) => inbox.wait(id),
    close: () => socket.destroy(),
  };
}

async function request(
  channel: Channel,
  method: number,
  attributes: ReadonlyArray<readonly [number, Buffer]>,
  key?: Buffer,
): Promise<StunMessage> {
  const id = newTransactionId();
  channel.send(encodeRequest(method, id, attributes, key));
  return channel.response(id);
}

/** STUN Binding over UDP: the address this machine is seen at. */
export async function stunBinding(
  target: ProbeTarget,
  options: ProbeOptions,
): Promise<ProbeResult> {
  let channel: Channel | undefined;
  try {
    channel = await udpChannel(target);
    const open = channel;
    const answer = await withTimeout(request(open, METHOD.binding, []), options.timeoutMs, 'STUN');
    if (answer.kind !== 'success') return { ok: false, error: `STUN error ${errorCode(answer)}` };
    const address = xorAddress(answer.attributes.get(ATTR.xorMappedAddress), answer.transactionId);
    return { ok: true, address };
  } catch (error) {
    return { ok: false, error: (error as Error).message };
  } finally {
    channel?.close();
  }
}

/** A TURN allocation over `transport` with REST-API credentials; released on success. */
export async function turnAllocate(
  target: ProbeTarget,
  transport: TurnTransport,
  username: string,
  password: string,
  options: ProbeOptions,
): Promise<ProbeResult> {
  let channel: Channel | undefined;
  try {
    const steps = async (): Promise<ProbeResult> => {
      channel =
        transport === 'udp'
          ? await udpChannel(target)
          : await streamChannel(target, transport === 'tls', options);
      const first = await request(channel, METHOD.allocate, [
        [ATTR.requestedTransport, REQUESTED_UDP],
      ]);
      if (first.kind === 'success') return released(channel, first, undefined, []);
      const realm = first.attributes.get(ATTR.realm)?.toString('utf8');
      const nonce = first.attributes.get(ATTR.nonce);
      if (errorCode(first) !== 401 || realm === undefined || nonce === undefined)
        return { ok: false, error: `TURN error ${errorCode(first)} without a challenge` };
      const key = longTermKey(username, realm, password);
      const auth: Array<readonly [number, Buffer]> = [
        [ATTR.username, Buffer.from(username, 'utf8')],
        [ATTR.realm, Buffer.from(realm, 'utf8')],
        [ATTR.nonce, nonce],
      ];
      const second = await request(
        channel,
        METHOD.allocate,
        [[ATTR.requestedTransport, REQUESTED_UDP], ...auth],
        key,
      );
      if (second.kind !== 'success') {
        const code = errorCode(second);
        const why = code === 401 ? ' (the credentials were refused: check --turn-secret)' : '';
        return { ok: false, error: `TURN error ${code}${why}` };
      }
      return released(channel, second, key, auth);
    };
    return await withTimeout(steps(), options.timeoutMs, `TURN over ${transport}`);
  } catch (error) {
    return { ok: false, error: (error as Error).message };
  } finally {
    channel?.close();
  }
}

async function released(
  channel: Channel,
  success: StunMessage,
  key: Buffer | undefined,
  auth: ReadonlyArray<readonly [number, Buffer]>,
): Promise<ProbeResult> {
  const relayed = xorAddress(success.attributes.get(ATTR.xorRelayedAddress), success.transactionId);
  // Best effort, unanswered is fine: the allocation would expire on its own.
  const zero = Buffer.alloc(4);
  const id = newTransactionId();
  channel.send(encodeRequest(METHOD.refresh, id, [[ATTR.lifetime, zero], ...auth], key));
  await Promise.race([channel.response(id), new Promise((r) => setTimeout(r, 200))]).catch(
    () => undefined,
  );
  return { ok: true, address: relayed };
}
