/**
 * "Move call here" across nodes (accounts). A person's devices may be on different nodes, so
 * the device that asks may not hold the call at all. Its node finds the node of the device in
 * the call (`devs:<key>` and `devinfo:<key>`, as the devices list does) and asks it (`move`);
 * a node that only holds a copy passes the request to the call's home. The home alone moves
 * the call, as one node does (`Engine.handOver`): the new device becomes a RemoteParty there,
 * the device it leaves hears `ended` (moved), the peer hears `restart`. Before any of that the
 * home answers `move-ok`, on the same channel as everything it sends the new device later, so
 * the mover's node has its copy of the call (a shadow homed there) before the peer's new offer
 * arrives, and tells its device `accepted`.
 *
 * Refused, with a coded error to the device that asked: a call the person is not in
 * (`not_in_call`), one not connected (`invalid_state`), and, `temporarily_unavailable`, one
 * whose home cannot be reached, whose device is parked in a drain, or whose peer is on the
 * mover's own node while the call is driven elsewhere (a node holds one copy of a call).
 */
import type { DeviceEntryValue } from '@callwire/protocol';
import type { Logger } from 'pino';
import { peerOf, roleOf } from '../calls/call.js';
import type { Engine } from '../calls/engine.js';
import type { Party } from '../calls/model.js';
import type { Hub } from '../hub.js';
import type { Stats } from '../metrics.js';
import type { Bus } from './bus.js';
import type { HomeCalls } from './home-calls.js';
import { K, PARKED, parseNameValue } from './keys.js';
import type { RedisLink } from './redis-link.js';
import { RemoteParty } from './remote-party.js';
import type { ShadowCalls } from './shadow-calls.js';
import type { NodeMessageOf } from './wire.js';

type MoveMessage = NodeMessageOf<'move'>;
type MoveCode = NodeMessageOf<'move-no'>['code'];

/** How long a device waits for the call's home to answer before it hears it is unavailable. */
const MOVE_REPLY_MS = 5000;

export interface RemoteMoveDeps {
  readonly link: RedisLink;
  readonly bus: Bus;
  readonly engine: Engine;
  readonly hub: Hub;
  readonly home: HomeCalls;
  readonly shadows: ShadowCalls;
  readonly stats: Stats;
  readonly log: Logger;
  /** The cluster can reach other nodes right now. */
  readonly reachable: () => boolean;
}

interface Asking {
  readonly device: Party;
  readonly ref: string | undefined;
  readonly timer: NodeJS.Timeout;
}

export class RemoteMoves {
  /** Devices of this node waiting for an answer, by `<callId>\n<dev>`. */
  private readonly asking = new Map<string, Asking>();

  constructor(private readonly deps: RemoteMoveDeps) {}

  /** `device` (here) asks for a call driven elsewhere; false: not a device that can (open mode). */
  request(device: Party, callId: string, ref: string | undefined): boolean {
    const dev = device.device?.id;
    if (dev === undefined) return false;
    const k = `${callId}\n${dev}`;
    if (this.asking.has(k)) {
      this.fail(device, 'invalid_state', callId, ref);
      return true;
    }
    if (!this.deps.reachable()) {
      this.fail(device, 'temporarily_unavailable', callId, ref);
      return true;
    }
    const timer = setTimeout(() => {
      if (this.asking.delete(k)) this.fail(device, 'temporarily_unavailable', callId, ref);
    }, MOVE_REPLY_MS);
    timer.unref();
    this.asking.set(k, { device, ref, timer });
    const copy = this.deps.engine.book.get(callId);
    if (copy !== undefined && copy.home !== undefined) {
      this.ask(copy.home, device, dev, callId, ref);
    } else {
      this.locate(device.key, callId).then(
        (node) => {
          if (!this.asking.has(k)) return;
          if (node === undefined) return this.answered(k, 'not_in_call');
          this.ask(node, device, dev, callId, ref);
        },
        () => this.answered(k, 'temporarily_unavailable'),
      );
    }
    return true;
  }

  /** A device on another node asks for a call this node holds (or holds a copy of). */
  requested(msg: MoveMessage): void {
    const { engine, bus, home, log } = this.deps;
    const self = bus.nodeId;
    const no = (code: MoveCode) =>
      bus.send(msg.mover, {
        op: 'move-no',
        from: self,
        callId: msg.callId,
        key: msg.key,
        dev: msg.dev,
        code,
        ref: msg.ref,
      });
    const call = engine.book.get(msg.callId);
    if (call === undefined) return void no('not_in_call');
    if (call.home !== undefined) {
      // A copy: its home decides (passed on once; a home that points elsewhere again is stale).
      if (msg.from !== msg.mover) return void no('temporarily_unavailable');
      const onward = { ...msg, from: self };
      if (!bus.send(call.home, onward, () => no('temporarily_unavailable'))) {
        no('temporarily_unavailable');
      }
      return;
    }
    const from = [call.caller, call.callee].find((p) => p.key === msg.key);
    const isMover = (p: Party) =>
      p instanceof RemoteParty && p.node === msg.mover && p.dev === msg.dev;
    if (from === undefined || isMover(from)) return void no('not_in_call');
    if (call.state !== 'connected') return void no('invalid_state');
    const peer = peerOf(call, from);
    // A device whose node is being drained, or a peer on the mover's own node (that node would
    // need a second copy of the call): not now.
    const parked = from instanceof RemoteParty && from.parked;
    const peerThere = peer instanceof RemoteParty && peer.node === msg.mover;
    if (parked || peerThere) return void no('temporarily_unavailable');
    // First the call, for the mover's node to make its copy; then what the call sends its new
    // device (one channel from here to there: in this order).
    bus.send(msg.mover, {
      op: 'move-ok',
      from: self,
      callId: call.id,
      key: msg.key,
      dev: msg.dev,
      role: roleOf(call, from)!,
      media: call.media,
      createdAtMs: call.createdAtMs,
      answeredAtMs: call.answeredAtMs,
      peer: { key: peer.key, name: peer.name },
      ref: msg.ref,
    });
    const rs = new RemoteParty(msg.mover, msg.key, msg.name, msg.dialect, bus.toRemote, msg.dev);
    home.track(rs);
    engine.handOver(call, from, rs);
    log.info({ callId: call.id, to: msg.mover }, 'call moved to a device on another node');
  }

  /** The call's home moved the call to a device of this node: make its copy, tell the device. */
  moved(msg: NodeMessageOf<'move-ok'>): void {
    const { engine, hub, bus, shadows } = this.deps;
    const k = `${msg.callId}\n${msg.dev}`;
    const asking = this.asking.get(k);
    if (asking !== undefined) {
      clearTimeout(asking.timer);
      this.asking.delete(k);
    }
    const device = hub.devices(msg.key).find((s) => s.device?.id === msg.dev);
    if (
      device === undefined ||
      device.state !== 'active' ||
      device.call !== null ||
      device.room !== null ||
      engine.book.get(msg.callId) !== undefined
    ) {
      // It left, or took another call, while the move crossed: the call ends as its leaving
      // would end it.
      bus.sendEventually(msg.from, {
        op: 'cmd',
        from: bus.nodeId,
        by: msg.key,
        dev: msg.dev,
        callId: msg.callId,
        c: { k: 'disconnect' },
      });
      return;
    }
    const peer = new RemoteParty(msg.from, msg.peer.key, msg.peer.name, 'native', bus.toRemote);
    const call = engine.book.open({
      id: msg.callId,
      caller: msg.role === 'caller' ? device : peer,
      callee: msg.role === 'caller' ? peer : device,
      state: 'connected',
      media: msg.media,
      calleeNotified: true,
      createdAtMs: msg.createdAtMs,
      answeredAtMs: msg.answeredAtMs,
      home: msg.from,
    });
    shadows.track(call);
    device.send({ t: 'accepted', call, role: msg.role, ref: asking?.ref ?? msg.ref });
    hub.refresh(device);
  }

  /** The call could not be moved to a device of this node. */
  refused(msg: NodeMessageOf<'move-no'>): void {
    this.answered(`${msg.callId}\n${msg.dev}`, msg.code);
  }

  close(): void {
    for (const { timer } of this.asking.values()) clearTimeout(timer);
    this.asking.clear();
  }

  private ask(
    node: string,
    device: Party,
    dev: string,
    callId: string,
    ref: string | undefined,
  ): void {
    const { bus } = this.deps;
    const k = `${callId}\n${dev}`;
    const msg = {
      op: 'move',
      from: bus.nodeId,
      mover: bus.nodeId,
      callId,
      key: device.key,
      name: device.name,
      dialect: device.dialect.name,
      dev,
      ref,
    } as const;
    if (!bus.send(node, msg, () => this.answered(k, 'temporarily_unavailable'))) {
      this.answered(k, 'temporarily_unavailable');
    }
  }

  /** The node of the person's device that is in `callId` (from its devices' records). */
  private async locate(key: string, callId: string): Promise<string | undefined> {
    const { link, bus } = this.deps;
    const [devs, info] = await Promise.all([
      link.cmd.hgetall(K.devs(key)),
      link.cmd.hgetall(K.devinfo(key)),
    ]);
    for (const [id, text] of Object.entries(info)) {
      let entry: DeviceEntryValue;
      try {
        entry = JSON.parse(text) as DeviceEntryValue;
      } catch {
        continue;
      }
      if (entry.call?.callId !== callId) continue;
      const value = devs[id];
      const node = value === undefined ? undefined : parseNameValue(value)?.node;
      if (node !== undefined && node !== PARKED && node !== bus.nodeId) return node;
    }
    return undefined;
  }

  private answered(k: string, code: MoveCode): void {
    const asking = this.asking.get(k);
    if (asking === undefined) return;
    clearTimeout(asking.timer);
    this.asking.delete(k);
    this.fail(asking.device, code, k.slice(0, k.indexOf('\n')), asking.ref);
  }

  private fail(device: Party, code: MoveCode, callId: string, ref: string | undefined): void {
    this.deps.stats.error(code);
    device.send({
      t: 'error',
      code,
      callId,
      ref,
      ...(code === 'temporarily_unavailable'
        ? { message: 'This call cannot be moved here right now.' }
        : {}),
    });
  }
}
