/**
 * Presence across nodes. Each node records its own users' status in Redis (`status`, and the
 * `online` list kept with the name claims) and announces every change on the `presence`
 * channel; every other node hands those announcements to its local watchers, exactly as the
 * hub does for local changes. Whether a change goes to everyone or only to watchers depends on
 * how many are online in the whole cluster (cached, refreshed every heartbeat).
 *
 * The online list is paged straight from Redis: in name order with ZRANGEBYLEX, and filtered by
 * a substring with ZSCAN (O(N) like the single node's own search, done by Redis).
 */
import { nameKey, type UserEntryValue } from '@callwire/protocol';
import type { Logger } from 'pino';
import type { Hub, PresenceSink, PresenceStatus } from '../hub.js';
import type { Session } from '../ws/session.js';
import { afterKey, K, parseMember } from './keys.js';
import type { Names } from './names.js';
import type { RedisLink } from './redis-link.js';
import { PAGE } from './scripts.js';

export interface UserEntry extends UserEntryValue {
  readonly key: string;
}

export interface UserPage {
  readonly users: UserEntry[];
  readonly total: number;
  readonly cursor?: string;
}

/** Glob characters in a ZSCAN MATCH pattern are escaped: a query is a plain substring. */
const escapeGlob = (s: string) => s.replace(/[*?[\]\\]/g, (c) => `\\${c}`);

const STATUSES = new Set(['online', 'busy', 'offline']);

export class PresenceRelay implements PresenceSink {
  private total = 0;

  constructor(
    private readonly link: RedisLink,
    private readonly names: Names,
    private readonly hub: Hub,
    private readonly nodeId: string,
    private readonly log: Logger,
  ) {}

  /** The hub's sink: a local user's status changed. */
  changed(session: Session, status: PresenceStatus): void {
    if (status === 'offline') this.names.release(session);
    else this.names.setStatus(session, status);
  }

  left(session: Session): void {
    this.names.release(session, false);
  }

  onlineTotal(): number {
    return Math.max(this.total, this.hub.size);
  }

  async refreshTotal(): Promise<void> {
    if (this.link.up) this.total = await this.link.cmd.zcard(K.online);
  }

  /** An announcement from the presence channel. */
  onMessage(text: string): void {
    let m: { node?: unknown; name?: unknown; key?: unknown; status?: unknown };
    try {
      m = JSON.parse(text) as typeof m;
    } catch {
      return;
    }
    // Already delivered here by the hub itself (a correction, with node '', is for every node:
    // a person whose last device here left is still online on another node).
    if (m.node === this.nodeId) return;
    if (
      typeof m.name !== 'string' ||
      typeof m.key !== 'string' ||
      !STATUSES.has(m.status as string)
    ) {
      this.log.warn({ text: text.slice(0, 200) }, 'cluster: malformed presence message dropped');
      return;
    }
    this.hub.deliver(m.name, m.key, m.status as PresenceStatus);
  }

  /** One page of the cluster's online list: sorted by name, optionally filtered. */
  async page(
    query: string | undefined,
    limit: number,
    cursor: string | undefined,
  ): Promise<UserPage> {
    const needle = query ? nameKey(query.normalize('NFKC')) : '';
    const after = cursor ? nameKey(cursor.normalize('NFKC')) : '';
    if (needle === '') {
      const r = (await PAGE.run(
        this.link.cmd,
        [K.online, K.status],
        [after ? afterKey(after) : '-', limit + 1],
      )) as Array<string | number>;
      const users: UserEntry[] = [];
      for (let i = 1; i + 1 < r.length; i += 2) {
        const { key, display } = parseMember(String(r[i]));
        users.push({ key, name: display, status: String(r[i + 1]) === 'busy' ? 'busy' : 'online' });
      }
      return this.cut(users, Number(r[0]), limit);
    }
    const found = new Map<string, string>();
    let scan = '0';
    do {
      const [next, items] = await this.link.cmd.zscan(
        K.online,
        scan,
        'MATCH',
        `*${escapeGlob(needle)}*`,
        'COUNT',
        1000,
      );
      scan = next;
      for (let i = 0; i < items.length; i += 2) {
        const { key, display } = parseMember(items[i]!);
        if (key.includes(needle)) found.set(key, display);
      }
    } while (scan !== '0');
    const keys = [...found.keys()].sort();
    const start = after ? keys.findIndex((k) => k > after) : 0;
    const slice = start < 0 ? [] : keys.slice(start, start + limit + 1);
    const statuses = slice.length > 0 ? await this.link.cmd.hmget(K.status, ...slice) : [];
    const users = slice.map((key, i) => ({
      key,
      name: found.get(key)!,
      status: statuses[i] === 'busy' ? ('busy' as const) : ('online' as const),
    }));
    return this.cut(users, keys.length, limit);
  }

  private cut(users: UserEntry[], total: number, limit: number): UserPage {
    if (users.length <= limit) return { users, total };
    users.length = limit;
    return { users, total, cursor: users[limit - 1]!.name };
  }
}
