/**
 * Who is on the other end of a connection. Behind a reverse proxy the TCP peer is the proxy, and
 * the client's address is in `Forwarded` (RFC 7239) or `X-Forwarded-For`; but anybody can send
 * those headers, so they are believed only when the TCP peer is a proxy the operator named
 * (`--trusted-proxies`). The chain is read from the right (the hop nearest to us) past every
 * trusted proxy; the first address that is not one is the client. The per-address connection
 * cap and the per-address password throttle both use the result.
 */
import type { IncomingMessage } from 'node:http';
import { BlockList, isIP } from 'node:net';

export class ClientAddresses {
  private readonly trusted = new BlockList();
  private readonly any: boolean;

  /** @param proxies addresses or CIDR ranges (`10.0.0.0/8`, `fd00::/8`), already validated. */
  constructor(proxies: readonly string[]) {
    for (const entry of proxies) addTrusted(this.trusted, entry);
    this.any = proxies.length > 0;
  }

  /** The client's address: the TCP peer, or what trusted proxies in front of it say. */
  of(req: IncomingMessage): string {
    const peer = plain(req.socket.remoteAddress ?? '');
    if (!this.any || !this.isTrusted(peer)) return peer;
    const chain = forwardedChain(req);
    let client = peer;
    for (let i = chain.length - 1; i >= 0; i--) {
      const hop = plain(chain[i]!);
      // "unknown", an obfuscated name or garbage: nothing further left can be believed, so the
      // last hop we could vouch for is the answer.
      if (isIP(hop) === 0) return client;
      client = hop;
      if (!this.isTrusted(hop)) return hop;
    }
    return client;
  }

  private isTrusted(address: string): boolean {
    const family = isIP(address);
    if (family === 0) return false;
    return this.trusted.check(address, family === 4 ? 'ipv4' : 'ipv6');
  }
}

/** Why a `--trusted-proxies` entry is unusable, or null when it is an address or a CIDR range. */
export function proxyEntryProblem(entry: string): string | null {
  try {
    addTrusted(new BlockList(), entry);
    return null;
  } catch (err) {
    return (err as Error).message;
  }
}

function addTrusted(list: BlockList, entry: string): void {
  const [address = '', prefixText, extra] = entry.split('/');
  const family = isIP(address);
  if (family === 0 || extra !== undefined) {
    throw new TypeError(`"${entry}" is not an IP address or CIDR range`);
  }
  const type = family === 4 ? 'ipv4' : 'ipv6';
  if (prefixText === undefined) return list.addAddress(address, type);
  const prefix = Number(prefixText);
  if (!/^\d{1,3}$/.test(prefixText) || prefix > (family === 4 ? 32 : 128)) {
    throw new TypeError(`"${entry}" has a bad prefix length`);
  }
  list.addSubnet(address, prefix, type);
}

/**
 * The addresses a request went through, client first, as the proxies wrote them: `Forwarded`'s
 * `for=` parameters when that header is present (the standard one wins), else
 * `X-Forwarded-For`. Several headers of one name are one list, in order.
 */
function forwardedChain(req: IncomingMessage): string[] {
  const forwarded = req.headers.forwarded;
  if (forwarded !== undefined && forwarded !== '') {
    const hops: string[] = [];
    for (const element of forwarded.split(',')) {
      const param = element
        .split(';')
        .map((p) => p.trim())
        .find((p) => p.toLowerCase().startsWith('for='));
      // An element without `for=` is a hop we cannot place: keep its slot, as garbage.
      hops.push(param === undefined ? '' : param.slice(4));
    }
    return hops;
  }
  const xff = req.headers['x-forwarded-for'];
  const text = Array.isArray(xff) ? xff.join(',') : (xff ?? '');
  return text === '' ? [] : text.split(',');
}

/**
 * An address as `isIP` and the throttle want it: no quotes, brackets or port (`"[::1]:4711"`,
 * `1.2.3.4:80`), no zone, and an IPv4-mapped IPv6 address (what a dual-stack socket reports for
 * an IPv4 client) as the IPv4 address.
 */
function plain(raw: string): string {
  let a = raw.trim();
  if (a.startsWith('"') && a.endsWith('"') && a.length >= 2) a = a.slice(1, -1);
  if (a.startsWith('[')) {
    const end = a.indexOf(']');
    a = end === -1 ? a : a.slice(1, end);
  } else if (/^\d+\.\d+\.\d+\.\d+:\d+$/.test(a)) {
    a = a.slice(0, a.lastIndexOf(':'));
  }
  a = a.split('%', 1)[0]!;
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(a);
  return mapped ? mapped[1]! : a;
}
