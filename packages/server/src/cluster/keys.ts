/**
 * Where the cluster keeps things in Redis. Every key and channel starts with `callwire:` so
 * that one ACL rule (`~callwire:*  &callwire:*`, docs/DEPLOY.md) covers them all.
 *
 *   node:<id>       heartbeat, JSON {startedAtMs}, expires unless refreshed (PX nodeTtlMs)
 *   nodes           SET of node ids that registered and were not yet cleaned up
 *   name:<key>      `<nodeId>|<dialect>|<display>`: who holds a name (PX nameTtlMs, refreshed);
 *                   open mode, where a name is one device
 *   devs:<key>      HASH device id -> `<nodeId>|<dialect>|<display>` (or `parked|...`): the
 *                   devices an account is signed in on (password and jwt modes), on any node;
 *                   the whole hash PX nameTtlMs, refreshed by every node that holds one
 *   devinfo:<key>   HASH device id -> JSON: how each device of the account looks in the
 *                   devices list (label, sign-in time, its call), as its node last recorded
 *   pstat:<key>     HASH node id -> online | busy: the person's status as each node that holds
 *                   one of their devices sees it (busy anywhere is busy)
 *   names:<nodeId>  HASH name key -> display: what a node holds (for the cleanup after it dies)
 *   online          ZSET score 0, members `<key>\n<display>`: the online list in name order
 *   status          HASH name key -> online | busy
 *   parked          ZSET `<key>\n<display>` by deadline: names of sessions waiting to resume on
 *                   another node after theirs was drained (the name is `parked|...` meanwhile)
 *   resume:<hash>   such a session's state, by the SHA-256 of its resume token (PX grace)
 *   room:<name>     `<nodeId>|<key>`: the node where someone waits in a meet-by-link room
 *                   (PX nameTtlMs, refreshed while they wait or talk there)
 *   peerjs:<id>     `<nodeId>|<token digest>`: the node where a PeerJS id is connected
 *                   (PX nameTtlMs, refreshed while it is)
 *   to:<nodeId>     channel: messages for one node (calls across nodes)
 *   presence        channel: status changes, for every node's watchers
 */
import type { DialectName } from '../dialects/dialect.js';

const P = 'callwire:';

export const K = {
  node: (id: string) => `${P}node:${id}`,
  nodes: `${P}nodes`,
  name: (key: string) => `${P}name:${key}`,
  devs: (key: string) => `${P}devs:${key}`,
  devsPrefix: `${P}devs:`,
  pstat: (key: string) => `${P}pstat:${key}`,
  devinfo: (key: string) => `${P}devinfo:${key}`,
  pstatPrefix: `${P}pstat:`,
  namePrefix: `${P}name:`,
  names: (id: string) => `${P}names:${id}`,
  online: `${P}online`,
  status: `${P}status`,
  parked: `${P}parked`,
  room: (name: string) => `${P}room:${name}`,
  peerjs: (id: string) => `${P}peerjs:${id}`,
  peerjsPrefix: `${P}peerjs:`,
  resume: (tokenHash: string) => `${P}resume:${tokenHash}`,
  to: (id: string) => `${P}to:${id}`,
  presence: `${P}presence`,
} as const;

/** The `online` member of a name: sorts by key, carries the display name. */
export const onlineMember = (key: string, display: string) => `${key}\n${display}`;

/** The `parked` member of a device of an account: its key, display name and device id. */
export const parkedDeviceMember = (key: string, display: string, dev: string) =>
  `${key}\n${display}\n${dev}`;

/** Split an `online` member back into key and display name. */
export function parseMember(member: string): { key: string; display: string } {
  const nl = member.indexOf('\n');
  return nl < 0
    ? { key: member, display: member }
    : { key: member.slice(0, nl), display: member.slice(nl + 1) };
}

/**
 * Members of key `k` lie in [`k\n`, `k\x0B`): names never contain control characters, so no
 * other key falls in between. `(k\x0B` is therefore "every key after k".
 */
export const afterKey = (key: string) => `(${key}\x0B`;

export interface NameRecord {
  readonly node: string;
  readonly dialect: DialectName;
  readonly display: string;
}

export const nameValue = (r: NameRecord) => `${r.node}|${r.dialect}|${r.display}`;

/** The holder of a parked name (its session resumes on whichever node its client reaches). */
export const PARKED = 'parked';

export function parseNameValue(value: string): NameRecord | undefined {
  const a = value.indexOf('|');
  const b = value.indexOf('|', a + 1);
  if (a < 0 || b < 0) return undefined;
  const dialect = value.slice(a + 1, b);
  if (dialect !== 'native' && dialect !== 'tutorial' && dialect !== 'one2one') return undefined;
  return { node: value.slice(0, a), dialect, display: value.slice(b + 1) };
}
