/**
 * Meet-by-link rooms across nodes. Two people who open the same link may reach different nodes
 * (no sticky sessions), so a room is claimed in Redis (`room:<name>`, holding the node where
 * its first person waits). The second person's node asks that node to `join`: the waiter's
 * node starts the call there (its home, the waiter is the caller, as on one node) and answers
 * `joined` with the call's id before anything else about it, so the joiner's node has its
 * shadow of the call ready for the `accepted` that follows. A third person hears `full`.
 *
 * A room whose node is gone, or whose waiter left, is claimed afresh by whoever comes next.
 */
import { randomUUID } from 'node:crypto';
import type { MediaValue } from '@callwire/protocol';
import type { Logger } from 'pino';
import type { Engine } from '../calls/engine.js';
import type { Party } from '../calls/model.js';
import type { Hub } from '../hub.js';
import type { Stats } from '../metrics.js';
import type { Bus } from './bus.js';
import type { FrameDeferral } from './frame-deferral.js';
import type { HomeCalls } from './home-calls.js';
import { K } from './keys.js';
import type { Names } from './names.js';
import type { RedisLink } from './redis-link.js';
import { RemoteParty } from './remote-party.js';
import { REFRESH, ROOM_CLAIM, ROOM_RELEASE } from './scripts.js';
import type { ShadowCalls } from './shadow-calls.js';
import type { NodeMessageOf } from './wire.js';

type JoinMessage = NodeMessageOf<'join'>;
type JoinedMessage = NodeMessageOf<'joined'>;

const DEFAULT_MEDIA: MediaValue = { audio: true, video: true };
/** How long the waiter's node may take to answer `join`. */
const JOIN_REPLY_MS = 3000;

export interface RoomsDeps {
  readonly link: RedisLink;
  readonly bus: Bus;
  readonly engine: Engine;
  readonly hub: Hub;
  readonly names: Names;
  readonly home: HomeCalls;
  readonly shadows: ShadowCalls;
  readonly deferral: FrameDeferral;
  readonly stats: Stats;
  readonly log: Logger;
  readonly nameTtlMs: number;
  readonly reachable: () => boolean;
}

export class Rooms {
  /** Rooms claimed by this node: name -> the value it claimed them with. */
  private readonly claimed = new Map<string, string>();
  private readonly replies = new Map<string, (msg: JoinedMessage | undefined) => void>();

  constructor(private readonly deps: RoomsDeps) {}

  /** The engine's seam: nobody waits in `room` on this node. */
  join(
    session: Party,
    room: string,
    media: MediaValue | undefined,
    ref: string | undefined,
  ): void {
    const { deferral, log } = this.deps;
    if (!this.deps.reachable()) return this.unavailable(session, ref);
    deferral.defer(session);
    this.enter(session, room, media ?? DEFAULT_MEDIA, ref, 0)
      .catch((err: unknown) => {
        log.debug({ err: (err as Error).message, room }, 'cluster: joining a room failed');
        if (session.state === 'active') this.unavailable(session, ref);
      })
      .finally(() => deferral.resume(session));
  }

  private async enter(
    session: Party,
    room: string,
    media: MediaValue,
    ref: string | undefined,
    attempt: number,
    replace = '',
  ): Promise<void> {
    const { link, bus, engine, names } = this.deps;
    const ours = `${bus.nodeId}|${session.key}`;
    const r = String(
      await ROOM_CLAIM.run(link.cmd, [K.room(room)], [ours, this.deps.nameTtlMs, replace]),
    );
    const free = () => session.state === 'active' && session.call === null && session.room === null;
    if (r === 'mine') {
      if (!free()) return this.roomClosed(room, ours);
      this.claimed.set(room, ours);
      // Someone may have come here meanwhile (a join from this very node waits locally).
      return engine.waitInRoom(session, room, ref);
    }
    const node = r.slice(0, r.indexOf('|'));
    if (node === bus.nodeId) {
      // Someone here claimed it meanwhile: the engine joins them (or says full) as on one node.
      if (engine.roomWaiter(room) !== undefined) return engine.join(session, room, media, ref);
      // Claimed by this node but nobody is in it any more: a leftover, taken over.
      return this.enter(session, room, media, ref, attempt + 1, r);
    }
    let shadowed = false;
    const answer = await this.ask(
      node,
      {
        op: 'join',
        from: bus.nodeId,
        room,
        key: session.key,
        name: session.name,
        dialect: session.dialect.name,
        media,
        ref,
      },
      // At once, as the answer arrives: the call's `accepted` may be in the same read.
      (a) => {
        if (a.result !== 'call' || !free()) return;
        this.shadowOf(session, room, media, node, a);
        shadowed = true;
      },
    );
    if (answer === undefined && (await names.nodeAlive(node))) {
      throw new Error('the room node does not answer');
    }
    if (answer === undefined || answer.result === 'gone') {
      if (attempt >= 2) throw new Error('the room keeps changing hands');
      return this.enter(session, room, media, ref, attempt + 1, r);
    }
    if (answer.result !== 'call') {
      this.deps.stats.error('room_full');
      session.send({ t: 'error', code: 'room_full', ref });
      return;
    }
    // A call started there (its shadow was made here as the answer came), unless this session
    // left meanwhile: then the call there ends as a disconnect.
    if (!shadowed) {
      bus.sendEventually(node, {
        op: 'cmd',
        from: bus.nodeId,
        by: session.key,
        callId: answer.callId,
        c: { k: 'disconnect' },
      });
    }
  }

  private shadowOf(
    session: Party,
    room: string,
    media: MediaValue,
    node: string,
    answer: Extract<JoinedMessage, { result: 'call' }>,
  ): void {
    const { bus, engine, hub, shadows } = this.deps;
    const caller = new RemoteParty(node, answer.caller.key, answer.caller.name, 'native', bus.toRemote);
    const call = engine.book.open({
      id: answer.callId,
      caller,
      callee: session,
      state: 'ringing',
      media,
      calleeNotified: true,
      createdAtMs: Date.now(),
      room,
      home: node,
    });
    shadows.track(call);
    hub.publish(session, 'busy');
  }

  /** Send a `join` and wait for its answer (undefined when none comes in time). */
  private ask(
    node: string,
    msg: JoinMessage,
    onAnswer: (answer: JoinedMessage) => void,
  ): Promise<JoinedMessage | undefined> {
    return new Promise((resolve) => {
      const k = `${msg.room}\n${msg.key}`;
      const done = (answer: JoinedMessage | undefined) => {
        if (this.replies.get(k) !== done) return;
        this.replies.delete(k);
        clearTimeout(timer);
        if (answer !== undefined) onAnswer(answer);
        resolve(answer);
      };
      const timer = setTimeout(() => done(undefined), JOIN_REPLY_MS);
      this.replies.set(k, done);
      if (!this.deps.bus.send(node, msg, () => done(undefined))) done(undefined);
    });
  }

  /** Another node's answer to our `join`. */
  joined(msg: JoinedMessage): void {
    this.replies.get(`${msg.room}\n${msg.key}`)?.(msg);
  }

  /** Someone on another node joins a room of this node. */
  onJoin(msg: JoinMessage): void {
    const { engine, bus, home } = this.deps;
    const at = { op: 'joined', from: bus.nodeId, room: msg.room, key: msg.key } as const;
    const waiting = engine.roomWaiter(msg.room);
    if (waiting === 'full') return void bus.send(msg.from, { ...at, result: 'full' });
    if (waiting === undefined || waiting.key === msg.key) {
      return void bus.send(msg.from, { ...at, result: 'gone' });
    }
    const callId = randomUUID();
    const joiner = new RemoteParty(msg.from, msg.key, msg.name, msg.dialect, bus.toRemote);
    // The answer goes first: the joiner's node makes its shadow before `accepted` arrives.
    bus.send(msg.from, {
      ...at,
      result: 'call',
      callId,
      caller: { key: waiting.key, name: waiting.name },
    });
    engine.startRoomCall(waiting, joiner, msg.room, msg.media, msg.ref, callId);
    home.track(joiner);
  }

  /** The engine's seam: a room of this node is empty again. */
  roomClosed(room: string, value = this.claimed.get(room)): void {
    this.claimed.delete(room);
    if (value === undefined || !this.deps.link.up) return; // the claim expires by itself
    ROOM_RELEASE.run(this.deps.link.cmd, [K.room(room)], [value]).catch(() => undefined);
  }

  /** Keep this node's rooms claimed (with the names' refresh); claim them again after a resync. */
  async refresh(): Promise<void> {
    const rooms = [...this.claimed];
    if (rooms.length === 0) return;
    const r = (await REFRESH.run(
      this.deps.link.cmd,
      rooms.map(([room]) => K.room(room)),
      [this.deps.nameTtlMs, ...rooms.map(([, value]) => value)],
    )) as number[];
    const lost = rooms.filter((_, i) => r[i] === 0);
    await Promise.all(
      lost.map(([room, value]) =>
        ROOM_CLAIM.run(this.deps.link.cmd, [K.room(room)], [value, this.deps.nameTtlMs, '']),
      ),
    );
  }

  private unavailable(session: Party, ref: string | undefined): void {
    this.deps.stats.error('temporarily_unavailable');
    session.send({ t: 'error', code: 'temporarily_unavailable', ref });
  }
}
