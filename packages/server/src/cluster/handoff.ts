/**
 * Draining a cluster node (SIGTERM) without ending its calls. Before the gateway tells its
 * clients to reconnect, the node hands over what they will want back:
 *
 * - each connected call homed here goes to another node (`adopt`): the node of the other
 *   party when that is elsewhere, else any live node; its parties from here are parked there;
 * - each shadow here (the call is homed elsewhere) has its home park the party (`park`);
 * - each resumable session is parked in Redis under its resume token (hashed) with its name
 *   kept as `parked|...`, so that its client, reconnecting through the load balancer to any
 *   node, resumes there (remote-resume.ts) and finds its call going on.
 *
 * The node waits for each adopt/park to be acknowledged: whatever the other node sent before
 * its ack has then arrived here and reached the client, and nothing more will come, so no
 * message is lost in the switch. Commands that still arrive here for a handed-over call are
 * passed on to its new home. Sessions that cannot resume (tutorial and one2one clients, or
 * native ones that did not ask to) and calls still ringing end as they always did.
 */
import { createHash } from 'node:crypto';
import type { Identity } from '../auth/authenticator.js';
import type { Call } from '../calls/call.js';
import type { Engine } from '../calls/engine.js';
import type { Device, Party } from '../calls/model.js';
import type { Hub } from '../hub.js';
import type { Resumer } from '../resume.js';
import { Session } from '../ws/session.js';
import type { Bus } from './bus.js';
import { K, PARKED, nameValue, onlineMember, parkedDeviceMember } from './keys.js';
import type { Names } from './names.js';
import type { RedisLink } from './redis-link.js';
import { RemoteParty } from './remote-party.js';
import { PARK } from './scripts.js';
import type { ShadowCalls } from './shadow-calls.js';
import type { NodeMessageOf, PartyDto } from './wire.js';
import type { Logger } from 'pino';

/** How long a drain waits for the other nodes to acknowledge what it hands over. */
const ACK_WAIT_MS = 1500;

/** What a parked session brings to the node it resumes on. */
export interface ParkedSession {
  readonly key: string;
  readonly name: string;
  readonly identity?: Pick<Identity, 'mode' | 'epoch' | 'expiresAtMs'>;
  /** The device of an account it was (password and jwt modes): its entry in devs:<key>. */
  readonly dev?: string;
  readonly device?: Omit<Device, 'id'>;
  /** What was kept for it while it was away on the drained node (encoded, in order). */
  readonly backlog?: string[];
  readonly call?: {
    readonly id: string;
    readonly role: 'caller' | 'callee';
    readonly media: Call['media'];
    readonly createdAtMs: number;
    readonly answeredAtMs?: number;
    /** The node that is the call's home now. */
    readonly home: string;
    readonly peer: { readonly key: string; readonly name: string };
  };
}

/** Where a leaving session's call goes on, noted before anything about the call changes. */
interface Placement {
  readonly call: Call;
  readonly home: string;
  readonly role: 'caller' | 'callee';
  readonly peer: Party;
}

export const tokenHash = (token: string) => createHash('sha256').update(token).digest('base64url');

export interface HandoffDeps {
  readonly link: RedisLink;
  readonly bus: Bus;
  readonly engine: Engine;
  readonly hub: Hub;
  readonly names: Names;
  readonly shadows: ShadowCalls;
  readonly resumer: Resumer;
  readonly identityOf: (session: Session) => Identity | undefined;
  /** Keep a home call here with `party` parked in it (migration.ts). */
  readonly parkInPlace: (call: Call, party: Session) => void;
  readonly log: Logger;
}

export class Handoff {
  /** Calls handed over: callId -> their new home. */
  private readonly moved = new Map<string, string>();
  private readonly acks = new Map<string, () => void>();

  constructor(private readonly deps: HandoffDeps) {}

  handedOver(callId: string): string | undefined {
    return this.moved.get(callId);
  }

  ack(msg: NodeMessageOf<'ack'>): void {
    const k = `${msg.from}\n${msg.callId}`;
    this.acks.get(k)?.();
    this.acks.delete(k);
  }

  /**
   * Hand over what can be. `handled`: sessions that are no longer this node's (the gateway
   * just closes their sockets); `stored`: those whose client can resume on another node.
   *
   * With `keep` (one session taken over by the node its client reached, see takeover), a call
   * whose other party stays on this node stays here too: the leaving party is parked in it.
   */
  async run(
    sessions: readonly Session[],
    options: { prefer?: string; keep?: boolean } = {},
  ): Promise<{ handled: Set<Session>; stored: Set<Session> }> {
    const { resumer, log, bus } = this.deps;
    const handled = new Set<Session>();
    const stored = new Set<Session>();
    if (!resumer.enabled) return { handled, stored };
    const live = await this.liveNodes();
    if (live.length === 0) return { handled, stored };
    const candidates = new Set(sessions.filter((s) => this.canPark(s)));
    const waits: Array<Promise<void>> = [];
    const moves = new Map<string, { call: Call; home: string; inPlace: boolean }>();
    const where = new Map<Session, Placement>();
    for (const s of candidates) {
      const call = s.call;
      if (call === null) {
        handled.add(s);
        continue;
      }
      let move = moves.get(call.id);
      if (move === undefined) {
        if (call.home !== undefined) {
          waits.push(
            this.send(call.home, {
              op: 'park',
              from: bus.nodeId,
              callId: call.id,
              key: s.key,
              away: s.state === 'away',
            }),
          );
          move = { call, home: call.home, inPlace: false };
        } else {
          const staying = [call.caller, call.callee].some(
            (p) => p instanceof Session && !candidates.has(p),
          );
          if (staying && options.keep === true) move = { call, home: bus.nodeId, inPlace: true };
          else {
            const home = this.adopt(call, candidates, live, waits, options.prefer);
            if (home !== undefined) move = { call, home, inPlace: false };
          }
        }
        if (move === undefined) continue; // cannot be handed over: it ends as it always did
        moves.set(call.id, move);
      }
      const peer = call.caller === s ? call.callee : call.caller;
      where.set(s, { call, home: move.home, role: call.caller === s ? 'caller' : 'callee', peer });
      handled.add(s);
    }
    await Promise.race([
      Promise.all(waits),
      new Promise((r) => setTimeout(r, ACK_WAIT_MS).unref()),
    ]);

    // Everything the others sent before acknowledging has arrived: the calls leave this node
    // (or, kept here, have a parked party instead of the one leaving).
    for (const { call, home, inPlace } of moves.values()) {
      if (inPlace) {
        for (const p of [call.caller, call.callee])
          if (p instanceof Session && handled.has(p)) this.deps.parkInPlace(call, p);
        continue;
      }
      if (call.home !== undefined) this.deps.shadows.forget(call);
      else {
        this.deps.engine.book.detach(call);
        this.moved.set(call.id, home);
      }
    }
    // A session that cannot be stored (Redis failed just now) cannot resume elsewhere: its
    // client logs in afresh, and its handed-over call ends when the grace period is over.
    const list = [...handled];
    const results = await Promise.all(
      list.map((s) => this.store(s, where.get(s)).catch(() => false)),
    );
    list.forEach((s, i) => {
      if (results[i]) stored.add(s);
      this.leave(s);
    });
    log.info(
      { sessions: stored.size, calls: moves.size },
      'cluster: sessions and calls handed over',
    );
    return { handled, stored };
  }

  private canPark(s: Session): boolean {
    if (s.state !== 'active' && s.state !== 'away') return false;
    if (s.dialect.name !== 'native' || s.resumeToken === null || s.room !== null) return false;
    if (!this.deps.names.owns(s)) return false;
    return s.call === null || (s.call.state === 'connected' && s.call.room === undefined);
  }

  /** Give a home call to another node; undefined when it cannot go (a party cannot resume). */
  private adopt(
    call: Call,
    candidates: Set<Session>,
    live: string[],
    waits: Array<Promise<void>>,
    prefer: string | undefined,
  ): string | undefined {
    const dto = (p: Party): PartyDto | undefined => {
      if (p instanceof RemoteParty) {
        return {
          key: p.key,
          name: p.name,
          dialect: p.dialect.name,
          ...(p.dev === undefined ? {} : { dev: p.dev }),
          node: p.parked ? null : p.node,
          away: p.parked,
        };
      }
      const dev = p instanceof Session ? this.deps.names.deviceOf(p) : undefined;
      return p instanceof Session && candidates.has(p)
        ? {
            key: p.key,
            name: p.name,
            dialect: p.dialect.name,
            ...(dev === undefined ? {} : { dev }),
            node: null,
            away: p.state === 'away',
          }
        : undefined;
    };
    const caller = dto(call.caller);
    const callee = dto(call.callee);
    if (caller === undefined || callee === undefined) return undefined;
    const preferred = prefer !== undefined && live.includes(prefer) ? prefer : undefined;
    const home =
      caller.node ?? callee.node ?? preferred ?? live[Math.floor(Math.random() * live.length)]!;
    waits.push(
      this.send(home, {
        op: 'adopt',
        from: this.deps.bus.nodeId,
        callId: call.id,
        media: call.media,
        createdAtMs: call.createdAtMs,
        answeredAtMs: call.answeredAtMs,
        caller,
        callee,
      }),
    );
    return home;
  }

  /** Send, and resolve when the receiver acknowledges (or at once if it cannot be sent). */
  private send(node: string, msg: NodeMessageOf<'adopt' | 'park'>): Promise<void> {
    return new Promise<void>((resolve) => {
      this.acks.set(`${node}\n${msg.callId}`, resolve);
      if (!this.deps.bus.send(node, msg, () => resolve())) resolve();
    });
  }

  private async liveNodes(): Promise<string[]> {
    const { link, bus } = this.deps;
    const ids = (await link.cmd.smembers(K.nodes)).filter((id) => id !== bus.nodeId);
    if (ids.length === 0) return [];
    const pipe = link.cmd.pipeline();
    for (const id of ids) pipe.exists(K.node(id));
    const results = (await pipe.exec()) ?? [];
    return ids.filter((_, i) => results[i]?.[0] === null && results[i]?.[1] === 1);
  }

  /** Park the session in Redis for its client to resume elsewhere. */
  private async store(s: Session, at: Placement | undefined): Promise<boolean> {
    const { link, bus, resumer } = this.deps;
    const graceMs = Math.max(
      1000,
      s.state === 'away' ? s.awayUntilMs - Date.now() : resumer.graceMs,
    );
    const identity = this.deps.identityOf(s);
    const peer = at?.peer;
    const dev = this.deps.names.deviceOf(s);
    const state: ParkedSession = {
      key: s.key,
      name: s.name,
      ...(dev !== undefined && s.device !== undefined
        ? {
            dev,
            device: {
              label: s.device.label,
              aware: s.device.aware,
              callWaiting: s.device.callWaiting,
              signedInAtMs: s.device.signedInAtMs,
            },
          }
        : {}),
      ...(identity !== undefined
        ? {
            identity: {
              mode: identity.mode,
              epoch: identity.epoch,
              expiresAtMs: identity.expiresAtMs,
            },
          }
        : {}),
      ...(s.backlog !== null && s.backlog.length > 0 ? { backlog: s.backlog } : {}),
      ...(at !== undefined && peer !== undefined
        ? {
            call: {
              id: at.call.id,
              role: at.role,
              media: at.call.media,
              createdAtMs: at.call.createdAtMs,
              ...(at.call.answeredAtMs !== undefined ? { answeredAtMs: at.call.answeredAtMs } : {}),
              home: at.home,
              peer: { key: peer.key, name: peer.name },
            },
          }
        : {}),
    };
    const ours = nameValue({ node: bus.nodeId, dialect: s.dialect.name, display: s.name });
    const parkedValue = nameValue({ node: PARKED, dialect: s.dialect.name, display: s.name });
    const r = await PARK.run(
      link.cmd,
      [
        K.name(s.key),
        K.names(bus.nodeId),
        K.parked,
        K.resume(tokenHash(s.resumeToken!)),
        K.devs(s.key),
      ],
      [
        ours,
        parkedValue,
        graceMs,
        Date.now() + graceMs,
        s.key,
        dev === undefined ? onlineMember(s.key, s.name) : parkedDeviceMember(s.key, s.name, dev),
        JSON.stringify(state),
        dev ?? '',
      ],
    );
    return r === 1;
  }

  /** The session is no longer this node's (parked in Redis, or about to be closed anyway). */
  private leave(s: Session): void {
    const { hub, resumer } = this.deps;
    // (Its name is parked now: the release that leaving the hub makes leaves it alone.)
    hub.remove(s);
    resumer.forget(s);
    s.state = 'closed';
  }
}
