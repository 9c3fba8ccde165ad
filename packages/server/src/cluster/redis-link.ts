/**
 * The node's three connections to Redis: one for commands (names, heartbeats, scripts), one
 * that only publishes (so everything this node sends to another leaves in order, on one
 * connection, never stuck behind a long script), and one subscriber. The link is `up` when all
 * three are ready and the subscriber listens on this node's channels.
 *
 * Nothing is queued while Redis is away: commands fail at once (`enableOfflineQueue: false`),
 * commands in flight when a connection drops fail rather than being sent again after the
 * reconnect (which could deliver a message twice), and ioredis keeps reconnecting in the
 * background for as long as the process lives.
 */
import { Redis, type RedisOptions } from 'ioredis';
import type { Logger } from 'pino';

export interface LinkHandlers {
  /** Every connection is ready and subscribed (again). */
  up(): void;
  /** A connection went away; cross-node work fails fast until `up`. */
  down(): void;
  message(channel: string, text: string): void;
}

/**
 * Where Redis is. `redis://`, `rediss://` and `unix://` URLs name one server; a Sentinel
 * deployment is named as `redis-sentinel://[[user]:password@]host:port[,host:port...]/<master>`,
 * and then every connection asks the Sentinels which server is the primary, and asks again
 * after a failover. The password, if any, is the data nodes' (Sentinels are reached without
 * one).
 */
export function redisTarget(url: string): RedisOptions & { readonly url?: string } {
  if (!url.startsWith('redis-sentinel://')) return { url };
  const match = /^redis-sentinel:\/\/(?:([^:@/]*)(?::([^@/]*))?@)?([^/@]+)\/([^/?#]+)\/?$/.exec(url);
  if (match === null) throw new TypeError('expected redis-sentinel://host:port[,host:port...]/<master>');
  const [, user, password, hosts = '', name = ''] = match;
  const sentinels = hosts.split(',').map((hostPort) => {
    const at = /^(\[[^\]]+\]|[^:]+):(\d{1,5})$/.exec(hostPort);
    const port = Number(at?.[2]);
    if (at === null || !(port > 0 && port < 65536)) {
      throw new TypeError(`a Sentinel must be host:port, not "${hostPort}"`);
    }
    return { host: at[1]!.replace(/^\[|\]$/g, ''), port };
  });
  return {
    sentinels,
    name: decodeURIComponent(name),
    ...(user ? { username: decodeURIComponent(user) } : {}),
    ...(password !== undefined ? { password: decodeURIComponent(password) } : {}),
    // Ask the Sentinels again soon after losing the primary: a failover takes seconds.
    sentinelRetryStrategy: (attempt: number) => Math.min(100 * attempt, 1000),
  };
}

/** Reconnect quickly (the cluster must be whole again within seconds of Redis returning). */
const retryStrategy = (attempt: number) => Math.min(50 * 2 ** Math.min(attempt, 5), 1000);

export class RedisLink {
  readonly cmd: Redis;
  readonly pub: Redis;
  private readonly sub: Redis;
  private subscribed = false;
  private isUp = false;
  private closed = false;
  private warned = false;

  constructor(
    url: string,
    private readonly channels: readonly string[],
    private readonly handlers: LinkHandlers,
    private readonly log: Logger,
  ) {
    const options: RedisOptions = {
      lazyConnect: true,
      enableOfflineQueue: false,
      maxRetriesPerRequest: 0,
      autoResendUnfulfilledCommands: false,
      autoResubscribe: false,
      connectTimeout: 2000,
      retryStrategy,
    };
    const { url: single, ...target } = redisTarget(url);
    const open = (extra: RedisOptions) =>
      single !== undefined
        ? new Redis(single, { ...options, ...extra })
        : new Redis({ ...target, ...options, ...extra });
    this.cmd = open({ commandTimeout: 3000 });
    // No auto-pipelining: the bus already sends one PUBLISH per node per turn, at the end of the
    // turn; ioredis's own pipeline would hold it for one more turn (another setImmediate).
    this.pub = open({ commandTimeout: 3000 });
    this.sub = open({});
    for (const conn of [this.cmd, this.pub, this.sub]) {
      conn.on('ready', () => this.connectionReady(conn));
      conn.on('close', () => this.connectionLost(conn));
      conn.on('error', (err: Error) => {
        if (this.warned || this.closed) return;
        this.warned = true;
        this.log.warn({ err: err.message }, 'cluster: redis unreachable; retrying');
      });
    }
    this.sub.on('message', (channel: string, text: string) => this.handlers.message(channel, text));
  }

  get up(): boolean {
    return this.isUp;
  }

  /** Start connecting; never fails (a Redis that is down now is retried in the background). */
  start(): void {
    for (const conn of [this.cmd, this.pub, this.sub]) conn.connect().catch(() => undefined);
  }

  publish(channel: string, text: string): Promise<number> {
    return this.pub.publish(channel, text);
  }

  async close(): Promise<void> {
    this.closed = true;
    this.isUp = false;
    for (const conn of [this.cmd, this.pub, this.sub]) conn.disconnect(false);
  }

  private connectionReady(conn: Redis): void {
    if (this.closed) return;
    if (conn === this.sub) {
      this.sub.subscribe(...this.channels).then(
        () => {
          if (this.sub.status !== 'ready' || this.closed) return;
          this.subscribed = true;
          this.check();
        },
        (err: unknown) =>
          this.log.warn({ err: (err as Error).message }, 'cluster: subscribe failed'),
      );
      return;
    }
    this.check();
  }

  private connectionLost(conn: Redis): void {
    if (conn === this.sub) this.subscribed = false;
    if (!this.isUp || this.closed) return;
    this.isUp = false;
    this.log.warn('cluster: redis connection lost; cross-node calls fail fast until it returns');
    this.handlers.down();
  }

  private check(): void {
    if (this.isUp || this.closed) return;
    if (this.cmd.status !== 'ready' || this.pub.status !== 'ready' || !this.subscribed) return;
    this.isUp = true;
    this.warned = false;
    this.handlers.up();
  }
}
