/**
 * An account's devices on several nodes (password and jwt modes): each node records how its own
 * devices of an account look (`devinfo:<key>`: label, sign-in time, the call each is in) when
 * they change, and tells the nodes of the account's other devices (`devices`), which push the
 * whole list to their devices again. The list of devices itself is `devs:<key>` (names.ts): an
 * entry of devinfo whose device is no longer there is not listed. A device on another node is
 * renamed or signed out by its own node (`device`), which alone holds its session.
 */
import type { DeviceEntryValue } from '@callwire/protocol';
import type { Logger } from 'pino';
import type { DeviceAction, DeviceNetwork, Devices } from '../devices.js';
import type { Bus } from './bus.js';
import { K, PARKED, parseNameValue } from './keys.js';
import type { RedisLink } from './redis-link.js';
import type { NodeMessageOf } from './wire.js';

export interface DeviceSyncDeps {
  readonly link: RedisLink;
  readonly bus: Bus;
  readonly nameTtlMs: number;
  readonly log: Logger;
}

export class DeviceSync implements DeviceNetwork {
  /** The devices of each account this node last recorded (to remove those gone). */
  private readonly recorded = new Map<string, Set<string>>();
  private devices: Devices | undefined;

  constructor(private readonly deps: DeviceSyncDeps) {}

  attach(devices: Devices): void {
    this.devices = devices;
    devices.attachNetwork(this);
  }

  shared(key: string, entries: DeviceEntryValue[]): void {
    void this.record(key, entries).catch((err: unknown) =>
      this.deps.log.debug({ err: (err as Error).message }, 'cluster: devices not recorded'),
    );
  }

  private async record(key: string, entries: DeviceEntryValue[]): Promise<void> {
    const { link, bus } = this.deps;
    if (!link.up) return;
    const before = this.recorded.get(key) ?? new Set<string>();
    const now = new Set(entries.map((e) => e.id));
    if (now.size === 0) this.recorded.delete(key);
    else this.recorded.set(key, now);
    const pipe = link.cmd.pipeline();
    const gone = [...before].filter((id) => !now.has(id));
    if (gone.length > 0) pipe.hdel(K.devinfo(key), ...gone);
    for (const e of entries)
      pipe.hset(K.devinfo(key), e.id, JSON.stringify({ ...e, current: false }));
    if (entries.length > 0) pipe.pexpire(K.devinfo(key), this.deps.nameTtlMs * 20);
    pipe.hvals(K.devs(key));
    const results = (await pipe.exec()) ?? [];
    const values = (results[results.length - 1]?.[1] ?? []) as string[];
    const nodes = new Set(
      values.map((v) => parseNameValue(v)?.node).filter((n) => n !== undefined),
    );
    for (const node of nodes) {
      if (node === bus.nodeId || node === PARKED) continue;
      bus.send(node, { op: 'devices', from: bus.nodeId, key });
    }
  }

  async others(key: string): Promise<DeviceEntryValue[]> {
    const { link, bus } = this.deps;
    if (!link.up) return [];
    const [devs, info] = await Promise.all([
      link.cmd.hgetall(K.devs(key)),
      link.cmd.hgetall(K.devinfo(key)),
    ]);
    const out: DeviceEntryValue[] = [];
    for (const [id, value] of Object.entries(devs)) {
      const node = parseNameValue(value)?.node;
      if (node === undefined || node === bus.nodeId || node === PARKED) continue;
      const recorded = info[id];
      out.push(
        recorded === undefined
          ? {
              id,
              label: `Device ${id.slice(0, 4)}`,
              current: false,
              signedInAt: new Date(0).toISOString(),
            }
          : (JSON.parse(recorded) as DeviceEntryValue),
      );
    }
    return out;
  }

  async manage(key: string, id: string, action: DeviceAction): Promise<boolean> {
    const { link, bus } = this.deps;
    const value = await link.cmd.hget(K.devs(key), id);
    const node = value === null ? undefined : parseNameValue(value)?.node;
    if (node === undefined || node === bus.nodeId || node === PARKED) return false;
    return bus.send(node, {
      op: 'device',
      from: bus.nodeId,
      key,
      dev: id,
      action: action.k,
      ...(action.k === 'rename' ? { label: action.label } : {}),
    });
  }

  /** Another node's devices of `key` changed. */
  changed(msg: NodeMessageOf<'devices'>): void {
    this.devices?.othersChanged(msg.key);
  }

  /** Another node renames or signs out one of this node's devices. */
  apply(msg: NodeMessageOf<'device'>): void {
    if (msg.action === 'signout') this.devices?.signOut(msg.key, msg.dev);
    else if (msg.label !== undefined) this.devices?.rename(msg.key, msg.dev, msg.label);
  }
}
