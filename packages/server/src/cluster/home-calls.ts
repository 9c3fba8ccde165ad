/**
 * The caller's side of a call across nodes: the call lives here (its home), with the callee
 * stood in for by a RemoteParty. This module finds callees on other nodes, applies what the
 * callee's node forwards (accept, decline, hangup, signals while ringing, disconnect), delivers
 * what the callee sends straight to the caller once the call is connected, and ends the calls
 * whose callee's node died.
 *
 * Placing a call takes two steps: find the callee's node (the name record in Redis), then ask
 * that node to `ring` (it alone knows whether its user is busy, and keeps them for this call).
 * Only its answer makes the engine place the call, so the caller hears exactly what it would
 * on one node: `ringing`, or at once `busy` / `unavailable`.
 */
import { randomUUID } from 'node:crypto';
import type { MediaValue } from '@callwire/protocol';
import type { Logger } from 'pino';
import type { Call } from '../calls/call.js';
import { assertNever } from '../calls/machine.js';
import { TRAVEL, attach } from '../calls/travel.js';
import type { Engine } from '../calls/engine.js';
import type { Party } from '../calls/model.js';
import type { InviteTarget } from '../calls/remote.js';
import type { Stats } from '../metrics.js';
import type { Bus } from './bus.js';
import type { FrameDeferral } from './frame-deferral.js';
import { PARKED, type NameRecord } from './keys.js';
import type { Names } from './names.js';
import { RemoteParty } from './remote-party.js';
import type { NodeMessageOf, RingResult } from './wire.js';

type EventMessage = NodeMessageOf<'event'>;
type CommandMessage = NodeMessageOf<'cmd'>;
type RangMessage = NodeMessageOf<'rang'>;

/** How long the callee's node may take to answer `ring` before the invite fails. */
const RING_REPLY_MS = 3000;

/** A callee's node's answer to `ring`: and with accounts, which of its devices ring. */
interface RingAnswer {
  readonly result: RingResult;
  readonly devs?: readonly string[] | undefined;
}

/** Where a person is: a node, and the device there (accounts). */
type Located = NameRecord & { readonly dev: string | undefined };

interface PendingRing {
  readonly resolve: (result: RingAnswer) => void;
  readonly reject: (err: Error) => void;
  readonly timer: NodeJS.Timeout;
}

export interface HomeDeps {
  readonly engine: Engine;
  readonly stats: Stats;
  readonly log: Logger;
  readonly bus: Bus;
  readonly names: Names;
  readonly deferral: FrameDeferral;
  /** The cluster can reach other nodes right now. */
  readonly reachable: () => boolean;
  /** Where a call this node handed over while draining went (handoff.ts). */
  readonly handedOver: (callId: string) => string | undefined;
}

export class HomeCalls {
  /** Remote callees of calls homed here (pruned as their calls end). */
  private readonly remotes = new Set<RemoteParty>();
  /** Callers whose invite is being placed on another node, and whom they call. */
  private readonly locating = new Map<Party, string>();
  private readonly rings = new Map<string, PendingRing>();

  constructor(private readonly deps: HomeDeps) {}

  /** Whom `session` is calling on another node right now, if anyone. */
  locatingTarget(party: Party): string | undefined {
    return this.locating.get(party);
  }

  /**
   * Find the callee's node (with accounts: every node with one of their devices), have each
   * ring, then place the call (or refuse it) in the engine, which rings the devices found
   * elsewhere together with those here.
   */
  invite(
    caller: Party,
    target: InviteTarget,
    media: MediaValue | undefined,
    offer: unknown,
    ref: string | undefined,
  ): void {
    const { engine, deferral, bus, log } = this.deps;
    const { key } = target;
    if (!this.deps.reachable()) return this.unreachable(caller, ref);
    deferral.defer(caller);
    this.locating.set(caller, key);
    const callId = randomUUID();
    // Nodes where a ring may have reserved the callee (until the call is placed here).
    const reserved = new Set<string>();
    const place = async (): Promise<void> => {
      const found = await this.find(key);
      // A record naming this node is a login still in progress here (its devices here are
      // the engine's to find). A parked one belongs to a session between nodes: away.
      const byNode = new Map<string, Located[]>();
      for (const r of found) {
        if (r.node === bus.nodeId || r.node === PARKED) continue;
        byNode.set(r.node, [...(byNode.get(r.node) ?? []), r]);
      }
      for (const node of byNode.keys()) reserved.add(node);
      const answers = await Promise.allSettled(
        [...byNode.keys()].map((node) => this.ring(node, key, callId, caller, media)),
      );
      const failed = answers.filter((a) => a.status === 'rejected');
      if (failed.length > 0 && failed.length === answers.length) throw failed[0]!.reason;
      const callees: RemoteParty[] = [];
      let busy = false;
      [...byNode].forEach(([node, records], i) => {
        const a = answers[i]!;
        if (a.status === 'rejected' || a.value.result !== 'ok') {
          reserved.delete(node);
          busy ||= a.status === 'fulfilled' && a.value.result === 'busy';
          return;
        }
        const first = records[0]!;
        const devs = this.deps.names.multi ? (a.value.devs ?? []) : [undefined];
        for (const dev of devs) {
          const r = records.find((x) => x.dev === dev) ?? first;
          callees.push(new RemoteParty(node, key, r.display, r.dialect, bus.toRemote, dev));
        }
      });
      this.locating.delete(caller);
      const display = found[0]?.display ?? target.display;
      engine.placeFound(caller, { key, display }, callees, busy, media, offer, ref, callId);
      for (const rs of callees) {
        if (rs.call === null) continue;
        this.remotes.add(rs);
        reserved.delete(rs.node);
      }
    };
    place()
      .catch((err: unknown) => {
        log.debug({ err: (err as Error).message }, 'cluster: invite across nodes failed');
        if (caller.state === 'active') this.unreachable(caller, ref);
      })
      .finally(() => {
        this.locating.delete(caller);
        // Reserved there but never placed here (the caller left, or could not wait): free them.
        for (const node of reserved) this.release(node, key, callId, caller.name);
        deferral.resume(caller);
      });
  }

  /** Where the person `key` is: their name's node, or (accounts) each device's node. */
  private async find(key: string): Promise<Located[]> {
    const { names } = this.deps;
    if (names.multi) return names.devices(key);
    const { record } = await names.locate(key);
    return record === undefined ? [] : [{ ...record, dev: undefined }];
  }

  /** Ask `node` to ring `key` for this call; resolves with its answer. */
  private ring(
    node: string,
    key: string,
    callId: string,
    caller: Party,
    media: MediaValue | undefined,
  ) {
    return new Promise<RingAnswer>((resolve, reject) => {
      const { bus, names } = this.deps;
      const id = `${callId}\n${node}`;
      const settle = (result: RingAnswer | Error) => {
        const pending = this.rings.get(id);
        if (pending === undefined) return;
        this.rings.delete(id);
        clearTimeout(pending.timer);
        if (result instanceof Error) pending.reject(result);
        else pending.resolve(result);
      };
      const fail = (why: string) => settle(new Error(why));
      // Nobody listens on that node's channel: a node that died (its name records not yet
      // cleaned up) has no users any more; a live one is only reconnecting to Redis.
      const nobody = () =>
        void names.nodeAlive(node).then(
          (alive) => settle(alive ? new Error('callee node not listening') : { result: 'gone' }),
          () => fail('callee node unreachable'),
        );
      const timer = setTimeout(() => fail('no answer from the callee node'), RING_REPLY_MS);
      this.rings.set(id, { resolve, reject, timer });
      const sent = bus.send(
        node,
        {
          op: 'ring',
          from: bus.nodeId,
          to: key,
          callId,
          callerKey: caller.key,
          caller: caller.name,
          media: media ?? { audio: true, video: true },
        },
        (why) => (why === 'nobody' ? nobody() : fail('callee node unreachable')),
      );
      if (!sent) fail('link down');
    });
  }

  /** The callee's node answered `ring`. */
  rang(msg: RangMessage): void {
    const id = `${msg.callId}\n${msg.from}`;
    const pending = this.rings.get(id);
    if (pending === undefined) return;
    this.rings.delete(id);
    clearTimeout(pending.timer);
    pending.resolve({ result: msg.result, devs: msg.devs });
  }

  /** Undo a reservation on the callee's node: the call will not happen. */
  private release(node: string, key: string, callId: string, callerName: string): void {
    this.deps.bus.sendEventually(node, {
      op: 'event',
      from: this.deps.bus.nodeId,
      to: key,
      callId,
      e: {
        t: 'ended',
        callId,
        peerName: callerName,
        role: 'callee',
        reason: 'cancelled',
        missed: false,
        self: false,
        wasConnected: false,
      },
    });
  }

  /**
   * A call homed here ended. A callee on another node that was never rung still holds the
   * call there (reserved by `ring`): it is released without a word to them.
   */
  callEnded(call: Call, wasConnected: boolean): void {
    const parties = new Set([call.caller, call.callee, ...call.ringing]);
    const nodes = new Set<string>();
    for (const party of parties) {
      if (!(party instanceof RemoteParty)) continue;
      this.remotes.delete(party);
      if (party !== call.caller && !party.parked) nodes.add(party.node);
    }
    // Once per node: its shadow of the call goes, with every device it kept.
    if (call.calleeNotified || wasConnected) return;
    for (const node of nodes) this.release(node, call.callee.key, call.id, call.caller.name);
  }

  /** A remote party of a call that became homed here (a drained node handed it over). */
  track(rs: RemoteParty): void {
    this.remotes.add(rs);
  }

  private unreachable(session: Party, ref: string | undefined, callId?: string): void {
    this.deps.stats.error('temporarily_unavailable');
    session.send({ t: 'error', code: 'temporarily_unavailable', callId, ref });
  }

  /**
   * A command from the node of a remote party, for a call homed here. A call this node handed
   * over while draining goes on elsewhere: what still arrives for it here follows it there.
   */
  command(msg: CommandMessage): void {
    const { engine, bus } = this.deps;
    const movedTo = this.deps.handedOver(msg.callId);
    if (movedTo !== undefined) {
      bus.send(movedTo, msg);
      return;
    }
    const call = engine.book.get(msg.callId);
    const party =
      call === undefined || call.home !== undefined
        ? undefined
        : this.partyOf(call, msg.by, msg.from, msg.dev);
    const c = msg.c;
    if (call === undefined || party === undefined) {
      // Not (or no longer) a call of that party: answer as the engine would have.
      if (c.k !== 'disconnect' && c.k !== 'report') this.replyError(msg, c.ref);
      return;
    }
    // A party gone for good also leaves its room; anything else is the party's command to its
    // call, applied as the engine applies a local party's.
    if (c.k === 'disconnect') return engine.disconnect(party);
    engine.apply(party, call, c);
  }

  /**
   * The party `key` of a home call, if `node` speaks for it: the node its proxy points at (or
   * pointed at before it was parked), or this node itself for a local party whose command
   * came back the long way (through the node that handed the call over).
   */
  private partyOf(
    call: Call,
    key: string,
    node: string,
    dev: string | undefined,
  ): Party | undefined {
    // (With accounts, several devices of the callee ring: the one that asked is named by `dev`;
    // once one answered, the others are no longer the call's.)
    const sameDevice = (d: string | undefined) => dev === undefined || d === undefined || d === dev;
    for (const p of new Set([call.caller, call.callee, ...call.ringing])) {
      if (p.key !== key) continue;
      if (p instanceof RemoteParty) {
        if ((p.node === node || p.formerNode === node) && sameDevice(p.dev)) return p;
      } else if (node === this.deps.bus.nodeId && sameDevice(p.device?.id)) return p;
    }
    return undefined;
  }

  private replyError(msg: CommandMessage, ref: string | undefined): void {
    this.deps.bus.send(msg.from, {
      op: 'event',
      from: this.deps.bus.nodeId,
      to: msg.by,
      ...(msg.dev === undefined ? {} : { dev: msg.dev }),
      callId: msg.callId,
      e: { t: 'error', code: 'not_in_call', ref },
    });
  }

  /**
   * What a remote party sent within a connected call (a signal) or its session's state, for
   * the other party: on this node, or on a third one (a call handed over while draining).
   */
  event(msg: EventMessage, call: Call): void {
    const target =
      call.caller.key === msg.to
        ? call.caller
        : call.callee.key === msg.to
          ? call.callee
          : undefined;
    if (target === undefined) return;
    const sender = target === call.caller ? call.callee : call.caller;
    if (
      this.partyOf(call, sender.key, msg.from, undefined) !== sender ||
      !(sender instanceof RemoteParty)
    )
      return;
    const e = msg.e;
    const effect = TRAVEL[e.t].effect;
    switch (effect) {
      case 'none':
        // Signals are relayed only within a connected call, as the engine would (an ended
        // call drops them).
        if (e.t === 'signal') {
          if (call.state !== 'connected') return;
          this.deps.stats.relayed++;
        }
        target.send(attach(e, call, target));
        return;
      // The rest is what a home says to a party, never what a party's node says to a home.
      case 'rings':
      case 'connects':
      case 'ends':
      case 'local':
        return;
      default:
        return assertNever(effect);
    }
  }

  /** The callee's node could not be told the call rings: end it rather than ring forever. */
  ringFailed(rs: RemoteParty): void {
    if (rs.call !== null && rs.call.state === 'ringing') this.deps.engine.disconnect(rs);
  }

  /** End the calls with a party on `node` (dead), or every call across nodes. */
  endWith(node: string | undefined): number {
    let ended = 0;
    for (const rs of [...this.remotes]) {
      if (rs.call === null) {
        this.remotes.delete(rs);
        continue;
      }
      // A parked party is not on any node: its grace timer decides (migration.ts).
      if (node !== undefined && (rs.parked || rs.node !== node)) continue;
      this.remotes.delete(rs);
      this.deps.engine.disconnect(rs);
      ended++;
    }
    return ended;
  }

  *peers(): Generator<string> {
    for (const rs of this.remotes) {
      if (rs.call === null) this.remotes.delete(rs);
      else if (!rs.parked) yield rs.node;
    }
  }
}
