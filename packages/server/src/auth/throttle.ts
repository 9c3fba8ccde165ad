/**
 * Failed-login throttling. After `threshold` failures for one key (an account on one client
 * network, a client network, or an account from anywhere), each further attempt must wait `baseMs * 2^(failures - threshold)`, capped
 * at `maxMs`: guessing gets exponentially slower, while the real owner is never locked out for
 * good (the delay is capped, and a key is forgotten `forgetMs` after its last failure).
 * Attempts made while a key must wait are refused without hashing and do not count.
 *
 * Account keys are tracked whether or not the account exists, so throttling reveals nothing
 * about which names are accounts. Memory is bounded: the oldest keys go first.
 */
import { isIPv4, isIPv6 } from 'node:net';

export interface ThrottleRule {
  readonly threshold: number;
  readonly baseMs: number;
  readonly maxMs: number;
  readonly forgetMs: number;
}

interface Entry {
  failures: number;
  lockedUntilMs: number;
  lastFailureMs: number;
}

export class Throttle {
  private readonly entries = new Map<string, Entry>();

  constructor(
    private readonly rule: ThrottleRule,
    private readonly maxEntries = 100_000,
  ) {}

  get size(): number {
    return this.entries.size;
  }

  /** Milliseconds before `key` may try again; 0 when it may try now. */
  waitMs(key: string, nowMs: number): number {
    const e = this.live(key, nowMs);
    return e === undefined ? 0 : Math.max(0, e.lockedUntilMs - nowMs);
  }

  fail(key: string, nowMs: number): void {
    const e = this.live(key, nowMs) ?? { failures: 0, lockedUntilMs: 0, lastFailureMs: nowMs };
    e.failures++;
    e.lastFailureMs = nowMs;
    const over = e.failures - this.rule.threshold;
    if (over >= 0)
      e.lockedUntilMs =
        nowMs + Math.min(this.rule.maxMs, this.rule.baseMs * 2 ** Math.min(over, 30));
    // Re-insert so the Map's order is least recently failed first.
    this.entries.delete(key);
    this.entries.set(key, e);
    if (this.entries.size > this.maxEntries) {
      const oldest = this.entries.keys().next().value;
      if (oldest !== undefined) this.entries.delete(oldest);
    }
  }

  succeed(key: string): void {
    this.entries.delete(key);
  }

  /** Drop forgotten keys (called from a timer). */
  sweep(nowMs: number): void {
    for (const [key, e] of this.entries) {
      if (nowMs - e.lastFailureMs < this.rule.forgetMs) break; // the rest failed more recently
      this.entries.delete(key);
    }
  }

  private live(key: string, nowMs: number): Entry | undefined {
    const e = this.entries.get(key);
    if (
      e !== undefined &&
      nowMs - e.lastFailureMs >= this.rule.forgetMs &&
      nowMs >= e.lockedUntilMs
    ) {
      this.entries.delete(key);
      return undefined;
    }
    return e;
  }
}

/** The key of one account tried from one client network (a name cannot contain a newline). */
export function pairKey(accountKey: string, network: string): string {
  return `${network}\n${accountKey}`;
}

/**
 * The network a client address belongs to, for per-IP throttling: an IPv4 address itself
 * (IPv4-mapped IPv6 included), an IPv6 address's /64 (one subscriber usually holds a whole
 * /64, so counting single IPv6 addresses would be no limit at all).
 */
export function networkKey(address: string): string {
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(address);
  if (mapped) return mapped[1]!;
  if (isIPv4(address) || !isIPv6(address)) return address;
  const [head = '', tail] = address.toLowerCase().split('%', 1)[0]!.split('::') as [
    string,
    string | undefined,
  ];
  const left = head === '' ? [] : head.split(':');
  const right = tail === undefined || tail === '' ? [] : tail.split(':');
  const groups =
    tail === undefined
      ? left
      : [...left, ...Array<string>(8 - left.length - right.length).fill('0'), ...right];
  return `${groups
    .slice(0, 4)
    .map((g) => g.padStart(4, '0'))
    .join(':')}::/64`;
}
