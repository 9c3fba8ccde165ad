/**
 * PeerJS ids across the cluster (the relay's `PeerjsNetwork`): an id is claimed in Redis as
 * `peerjs:<id>` = `<node>|<token digest>` before its socket hears OPEN, refreshed with the
 * names while it is connected, and given back when it closes. A frame for an id connected on
 * another node is published to that node, which hands it to its relay.
 *
 * A reconnect with the same id and token (`peer.reconnect()`) may reach any node: the claim
 * moves there, and the node that had the id is told to close its old socket. A node that dies
 * without giving its ids back loses them when their claims expire (`--name-ttl-ms`), as a
 * meet-by-link room does.
 */
import type { Logger } from 'pino';
import type { PeerjsNetwork, PeerjsRelay } from '../dialects/peerjs-relay.js';
import type { Bus } from './bus.js';
import { K } from './keys.js';
import type { RedisLink } from './redis-link.js';
import { PEERJS_CLAIM, REFRESH, ROOM_RELEASE } from './scripts.js';
import type { NodeMessageOf } from './wire.js';

export interface PeerjsIdsDeps {
  readonly link: RedisLink;
  readonly bus: Bus;
  readonly relay: PeerjsRelay;
  readonly nameTtlMs: number;
  readonly ready: () => boolean;
  readonly log: Logger;
}

const CHUNK = 1000;

export class PeerjsIds implements PeerjsNetwork {
  /** The ids connected here, with the value their claims hold. */
  private readonly claims = new Map<string, string>();

  constructor(private readonly deps: PeerjsIdsDeps) {}

  get ready(): boolean {
    return this.deps.ready();
  }

  async claim(id: string, digest: string): Promise<'ok' | 'taken'> {
    const { link, bus, nameTtlMs } = this.deps;
    const ours = `${bus.nodeId}|${digest}`;
    const was = await PEERJS_CLAIM.run(link.cmd, [K.peerjs(id)], [ours, nameTtlMs]);
    if (was === 0) return 'taken';
    this.claims.set(id, ours);
    const node = typeof was === 'string' && was !== '' ? was.slice(0, was.indexOf('|')) : '';
    // Taken over from another node (same token): its old socket goes.
    if (node !== '' && node !== bus.nodeId) {
      bus.send(node, { op: 'peerjs-taken', from: bus.nodeId, id, digest });
    }
    return 'ok';
  }

  release(id: string, digest: string): void {
    const ours = `${this.deps.bus.nodeId}|${digest}`;
    if (this.claims.get(id) === ours) this.claims.delete(id);
    // Only if still ours: an id taken over elsewhere is that node's now (the same
    // compare-and-delete as a room's release).
    if (this.deps.link.up) {
      ROOM_RELEASE.run(this.deps.link.cmd, [K.peerjs(id)], [ours]).catch(() => undefined);
    }
  }

  async deliver(id: string, texts: readonly string[]): Promise<boolean> {
    const { link, bus } = this.deps;
    const value = await link.cmd.get(K.peerjs(id));
    if (value === null) return false;
    const node = value.slice(0, value.indexOf('|'));
    if (node === bus.nodeId) {
      // Claimed here, connected here a moment ago or in a moment: the relay has it wait.
      this.deps.relay.arrived(id, texts);
      return true;
    }
    return bus.send(node, { op: 'peerjs', from: bus.nodeId, id, texts: [...texts] });
  }

  async ids(): Promise<string[]> {
    const found: string[] = [];
    const prefix = K.peerjsPrefix;
    let cursor = '0';
    do {
      const [next, keys] = await this.deps.link.cmd.scan(
        cursor,
        'MATCH',
        `${prefix.replace(/[*?[\]\\]/g, '\\$&')}*`,
        'COUNT',
        CHUNK,
      );
      cursor = next;
      for (const k of keys) found.push(k.slice(prefix.length));
    } while (cursor !== '0');
    return found;
  }

  /** Frames from another node for an id here. */
  arrived(msg: NodeMessageOf<'peerjs'>): void {
    this.deps.relay.arrived(msg.id, msg.texts);
  }

  /** Another node took `id` over with its token. */
  taken(msg: NodeMessageOf<'peerjs-taken'>): void {
    if (this.claims.get(msg.id) === `${this.deps.bus.nodeId}|${msg.digest}`) this.claims.delete(msg.id);
    this.deps.relay.takenOver(msg.id, msg.digest);
  }

  /** Keep this node's ids claimed (with the names' refresh); claim lost ones again. */
  async refresh(): Promise<void> {
    const { link, nameTtlMs } = this.deps;
    const claims = [...this.claims];
    for (let i = 0; i < claims.length; i += CHUNK) {
      const chunk = claims.slice(i, i + CHUNK);
      const r = (await REFRESH.run(
        link.cmd,
        chunk.map(([id]) => K.peerjs(id)),
        [nameTtlMs, ...chunk.map(([, value]) => value)],
      )) as number[];
      // Gone (Redis restarted or the claim expired while we were away): claim it again.
      // Held by another token now: that peer is the id's owner; ours was closed or will be.
      await Promise.all(
        chunk
          .filter((_, j) => r[j] === 0)
          .map(([id, value]) =>
            PEERJS_CLAIM.run(link.cmd, [K.peerjs(id)], [value, nameTtlMs]).catch(() => undefined),
          ),
      );
    }
  }
}
