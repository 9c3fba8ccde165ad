/**
 * Which nodes are alive. Each node keeps a key `node:<id>` that expires unless refreshed
 * (heartbeat), and every node runs a watchdog: a node whose key is gone is dead. One survivor
 * buries it (its names leave the online list, an offline presence goes out for each), and
 * every node ends its own calls with it.
 *
 * A node can also learn that it was itself presumed dead: its heartbeat finds the key gone
 * (`SET XX` answers nil), or its own timers ran late by more than the key's lifetime (it was
 * stopped, e.g. SIGSTOP, or blocked). It must then not trust what it holds: see resync.ts.
 */
import type { Logger } from 'pino';
import { K } from './keys.js';
import type { RedisLink } from './redis-link.js';
import { BURY } from './scripts.js';

export interface RegistryOptions {
  readonly nodeId: string;
  readonly nodeTtlMs: number;
  readonly heartbeatMs: number;
  /** Publish offline presence for the names of a buried node ('' = presence off). */
  readonly presenceChannel: string;
}

export interface RegistryHandlers {
  /** This node's heartbeat lapsed: the others treat it (or will) as dead. */
  presumedDead(why: 'expired' | 'frozen'): void;
  /** Another node is dead: end the calls this node has with it. */
  nodeDead(id: string): void;
  /** Node ids this node has calls with (checked even if they left the node set). */
  peers(): Iterable<string>;
}

export class NodeRegistry {
  private readonly startedAtMs = Date.now();
  private lastTickMs = performance.now();
  /** When the link last came up; survivors wait a full TTL after that before burying anyone. */
  private upSinceMs: number | undefined;
  private registered = false;
  private ticking = false;
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly link: RedisLink,
    private readonly options: RegistryOptions,
    private readonly handlers: RegistryHandlers,
    private readonly log: Logger,
  ) {}

  get isRegistered(): boolean {
    return this.registered;
  }

  start(): void {
    this.lastTickMs = performance.now();
    this.timer = setInterval(() => void this.tick(), this.options.heartbeatMs);
    this.timer.unref();
  }

  stop(): void {
    clearInterval(this.timer);
    this.registered = false;
  }

  /**
   * The event loop did not run for longer than the heartbeat key lives: whatever arrives now
   * may be stale, and the others may have buried this node meanwhile.
   */
  frozen(now = performance.now()): boolean {
    return now - this.lastTickMs > this.options.nodeTtlMs;
  }

  /**
   * True once per freeze: the caller must resync as a node presumed dead. The clock restarts
   * and the node counts as unregistered until it has joined again.
   */
  checkFrozen(): boolean {
    const now = performance.now();
    if (!this.frozen(now)) return false;
    this.log.warn(
      { frozenMs: Math.round(now - this.lastTickMs) },
      'cluster: this node was frozen past its heartbeat expiry',
    );
    this.lastTickMs = now;
    this.registered = false;
    return true;
  }

  linkUp(): void {
    this.upSinceMs = performance.now();
  }

  linkDown(): void {
    this.upSinceMs = undefined;
    this.registered = false;
  }

  /** (Re-)announce this node: heartbeat key and membership of the node set. */
  async register(): Promise<void> {
    const { nodeId, nodeTtlMs } = this.options;
    await this.link.cmd
      .multi()
      .set(K.node(nodeId), this.value(), 'PX', nodeTtlMs)
      .sadd(K.nodes, nodeId)
      .exec();
    this.registered = true;
  }

  /** Shutting down: take this node and its remaining names out of Redis. */
  async leave(): Promise<void> {
    if (!this.link.up) return;
    this.registered = false;
    await this.bury(this.options.nodeId, 'leave');
  }

  private value(): string {
    return JSON.stringify({ startedAtMs: this.startedAtMs });
  }

  private async tick(): Promise<void> {
    if (this.checkFrozen()) return this.handlers.presumedDead('frozen');
    this.lastTickMs = performance.now();
    if (!this.link.up || !this.registered || this.ticking) return;
    this.ticking = true;
    try {
      const { nodeId, nodeTtlMs } = this.options;
      const ok = await this.link.cmd.set(K.node(nodeId), this.value(), 'PX', nodeTtlMs, 'XX');
      if (ok === null) {
        if (!this.registered) return;
        this.log.warn('cluster: this node was presumed dead (heartbeat key gone)');
        this.registered = false;
        this.handlers.presumedDead('expired');
        return;
      }
      await this.watch();
    } catch (err) {
      this.log.debug({ err: (err as Error).message }, 'cluster: heartbeat failed');
    } finally {
      this.ticking = false;
    }
  }

  /** The watchdog: find nodes whose heartbeat is gone. */
  private async watch(): Promise<void> {
    const ids = new Set(await this.link.cmd.smembers(K.nodes));
    for (const id of this.handlers.peers()) ids.add(id);
    ids.delete(this.options.nodeId);
    if (ids.size === 0) return;
    const list = [...ids];
    const pipe = this.link.cmd.pipeline();
    for (const id of list) pipe.exists(K.node(id));
    const results = (await pipe.exec()) ?? [];
    // Right after Redis came back, the others may not have re-registered yet: give them a TTL.
    const settled =
      this.upSinceMs !== undefined && performance.now() - this.upSinceMs >= this.options.nodeTtlMs;
    for (let i = 0; i < list.length; i++) {
      const [err, exists] = results[i] ?? [null, 1];
      if (err !== null || exists !== 0 || !settled) continue;
      const id = list[i]!;
      const gone = await this.bury(id, 'dead');
      if (gone >= 0) this.log.warn({ dead: id, names: gone }, 'cluster: node dead; buried it');
      this.handlers.nodeDead(id);
    }
  }

  private async bury(id: string, mode: 'dead' | 'leave'): Promise<number> {
    const r = await BURY.run(
      this.link.cmd,
      [K.nodes, K.names(id), K.online, K.status, K.node(id)],
      [id, K.namePrefix, this.options.presenceChannel, mode, K.devsPrefix, K.pstatPrefix],
    );
    return typeof r === 'number' ? r : -1;
  }
}
