/**
 * A callwire node's membership of a cluster (`--redis URL`): several nodes behind one address,
 * any of which accepts any user, with Redis as the engine (names, presence, routing, liveness)
 * and nothing home-made beyond JSON messages on pub/sub channels.
 *
 * This is the facade the rest of the server sees, through small seams: the engine asks it to
 * find callees elsewhere and to forward shadow calls' commands (RemoteCalls), the hub hands it
 * status changes (PresenceSink), login claims names through it, the routers page the online
 * list through it, and the gateway lets it hold a session's frames while that session waits.
 */
import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import type { MediaValue } from '@callwire/protocol';
import type { Logger } from 'pino';
import type { Call } from '../calls/call.js';
import type { CallCommand } from '../calls/commands.js';
import type { Engine } from '../calls/engine.js';
import { assertNever } from '../calls/machine.js';
import type { Party } from '../calls/model.js';
import type { InviteTarget, RemoteCalls } from '../calls/remote.js';
import type { Admission, Directory, FrameHandler, Resumed } from '../directory.js';
import type { Hub } from '../hub.js';
import type { Stats } from '../metrics.js';
import type { Identity } from '../auth/authenticator.js';
import type { Resumer } from '../resume.js';
import type { Session } from '../ws/session.js';
import { Bus } from './bus.js';
import { FrameDeferral } from './frame-deferral.js';
import { HomeCalls } from './home-calls.js';
import { K, PARKED } from './keys.js';
import { Names } from './names.js';
import { NodeRegistry } from './node-registry.js';
import { PresenceRelay } from './presence-relay.js';
import { RedisLink } from './redis-link.js';
import { evict, Resync } from './resync.js';
import { ShadowCalls } from './shadow-calls.js';
import { isRefused, parseNodeText, type NodeMessage } from './wire.js';
import { Handoff } from './handoff.js';
import { Migration } from './migration.js';
import { resumeParked } from './remote-resume.js';
import { EXPIRE_PARKED } from './scripts.js';
import { Rooms } from './rooms.js';
import { Takeover } from './takeover.js';
import { PeerjsIds } from './peerjs-ids.js';
import { DeviceSync } from './device-sync.js';
import { RemoteMoves } from './remote-move.js';
import type { Devices } from '../devices.js';
import type { WriteBatch } from '../ws/write-batch.js';
import type { PeerjsRelay } from '../dialects/peerjs-relay.js';

export interface ClusterOptions {
  readonly url: string;
  readonly nodeTtlMs: number;
  readonly heartbeatMs: number;
  readonly nameTtlMs: number;
  readonly presence: boolean;
  /** Frames that may wait per session while it waits for a lookup; messages kept per parked party. */
  readonly queueMax: number;
  /** How many users a login reply lists. */
  readonly loginListMax: number;
  /**
   * Devices per account across the cluster (password and jwt modes); 1: a name is one session
   * (open mode, or one device per account).
   */
  readonly maxDevices: number;
}

export interface ClusterDeps {
  readonly hub: Hub;
  readonly engine: Engine;
  readonly stats: Stats;
  readonly log: Logger;
  readonly resumer: Resumer;
  /** The server's writes of this turn (shared with the gateway): corked while a batch is delivered. */
  readonly writes: WriteBatch;
  /** The identity a session signed in with (taken along when a drain hands it over). */
  readonly identityOf: (session: Session) => Identity | undefined;
}

export class Cluster implements RemoteCalls, Directory {
  readonly nodeId: string;
  private readonly log: Logger;
  private readonly link: RedisLink;
  private readonly bus: Bus;
  private readonly names: Names;
  private readonly registry: NodeRegistry;
  private readonly presence: PresenceRelay;
  private readonly home: HomeCalls;
  private readonly shadows: ShadowCalls;
  private readonly deferral: FrameDeferral;
  private readonly resync: Resync;
  private readonly migration: Migration;
  private readonly handoff: Handoff;
  private readonly rooms: Rooms;
  private readonly takeover: Takeover;
  private peerjs: PeerjsIds | undefined;
  private readonly deviceSync: DeviceSync;
  private readonly moves: RemoteMoves;
  /** Presumed dead and not yet in step again: nothing from other nodes is trusted. */
  private suspect = false;
  private timer: NodeJS.Timeout | undefined;
  private lastNameRefreshMs = 0;
  private closed = false;
  private joined = false;

  constructor(
    private readonly options: ClusterOptions,
    private readonly deps: ClusterDeps,
  ) {
    const host =
      hostname()
        .toLowerCase()
        .replace(/[^a-z0-9.-]/g, '')
        .slice(0, 40) || 'node';
    this.nodeId = `${host}-${randomBytes(4).toString('hex')}`;
    this.log = deps.log.child({ node: this.nodeId });
    const { hub, engine, stats } = deps;
    this.link = new RedisLink(
      options.url,
      [K.to(this.nodeId), K.presence],
      {
        up: () => this.linkUp(),
        down: () => this.registry.linkDown(),
        message: (channel, text) => this.onMessage(channel, text),
      },
      this.log,
    );
    this.bus = new Bus(this.link, this.nodeId, this.log, (rs) => this.home.ringFailed(rs));
    this.names = new Names(
      this.link,
      {
        nodeId: this.nodeId,
        nameTtlMs: options.nameTtlMs,
        presence: options.presence,
        maxDevices: options.maxDevices,
      },
      this.log,
    );
    this.deferral = new FrameDeferral(options.queueMax, this.log, stats);
    this.presence = new PresenceRelay(this.link, this.names, hub, this.nodeId, this.log);
    this.home = new HomeCalls({
      engine,
      stats,
      log: this.log,
      bus: this.bus,
      names: this.names,
      deferral: this.deferral,
      reachable: () => this.ready,
      handedOver: (callId) => this.handoff.handedOver(callId),
    });
    this.shadows = new ShadowCalls({
      book: engine.book,
      accept: (party, callId) => engine.accept(party, callId, undefined, undefined),
      hub,
      stats,
      bus: this.bus,
      locatingTarget: (s) => this.home.locatingTarget(s),
    });
    this.registry = new NodeRegistry(
      this.link,
      {
        nodeId: this.nodeId,
        nodeTtlMs: options.nodeTtlMs,
        heartbeatMs: options.heartbeatMs,
        presenceChannel: options.presence ? K.presence : '',
      },
      {
        presumedDead: () => this.presumedDead(),
        nodeDead: (id) => this.nodeDead(id),
        peers: () => this.peers(),
      },
      this.log,
    );
    this.resync = new Resync({
      rooms: () => this.rooms.refresh(),
      registry: this.registry,
      names: this.names,
      hub,
      home: this.home,
      shadows: this.shadows,
      bus: this.bus,
      log: this.log,
    });
    this.migration = new Migration({
      engine,
      hub,
      bus: this.bus,
      home: this.home,
      shadows: this.shadows,
      graceMs: deps.resumer.graceMs,
      queueMax: options.queueMax,
      deviceOf: (s) => this.names.deviceOf(s),
    });
    this.handoff = new Handoff({
      link: this.link,
      bus: this.bus,
      engine,
      hub,
      names: this.names,
      shadows: this.shadows,
      resumer: deps.resumer,
      identityOf: deps.identityOf,
      parkInPlace: (call, party) => this.migration.parkInPlace(call, party),
      log: this.log,
    });
    this.takeover = new Takeover({ bus: this.bus, hub, handoff: this.handoff, log: this.log });
    this.rooms = new Rooms({
      link: this.link,
      bus: this.bus,
      engine,
      hub,
      names: this.names,
      home: this.home,
      shadows: this.shadows,
      deferral: this.deferral,
      stats,
      log: this.log,
      nameTtlMs: options.nameTtlMs,
      reachable: () => this.ready,
    });
    this.deviceSync = new DeviceSync({
      link: this.link,
      bus: this.bus,
      nameTtlMs: options.nameTtlMs,
      log: this.log,
    });
    this.moves = new RemoteMoves({
      link: this.link,
      bus: this.bus,
      engine,
      hub,
      home: this.home,
      shadows: this.shadows,
      stats,
      log: this.log,
      reachable: () => this.ready,
    });
    engine.attachRemote(this);
    hub.attachCluster(this.presence);
  }

  /** With accounts, a person's devices on other nodes are listed and managed too. */
  attachDevices(devices: Devices): void {
    if (this.names.multi) this.deviceSync.attach(devices);
  }

  /** The PeerJS dialect is on: its ids are claimed cluster-wide and its frames cross nodes. */
  attachPeerjs(relay: PeerjsRelay): void {
    this.peerjs = new PeerjsIds({
      link: this.link,
      bus: this.bus,
      relay,
      nameTtlMs: this.options.nameTtlMs,
      ready: () => this.ready,
      log: this.log,
    });
    relay.attachNetwork(this.peerjs);
  }

  /** In the cluster and in step with it: cross-node calls, logins and lists work. */
  get ready(): boolean {
    return this.link.up && this.registry.isRegistered && !this.suspect && !this.resync.running;
  }

  /** Connect (in the background: a Redis that is down now is waited for). */
  start(): void {
    this.log.info({ redis: redactUrl(this.options.url) }, 'cluster: joining');
    this.link.start();
    this.registry.start();
    this.timer = setInterval(() => void this.tick(), this.options.heartbeatMs);
    this.timer.unref();
  }

  /** Leave the cluster: this node and whatever names it still holds go from Redis. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    clearInterval(this.timer);
    this.registry.stop();
    this.migration.close();
    this.moves.close();
    try {
      await withTimeout(this.registry.leave(), 2000);
    } catch (err) {
      this.log.debug(
        { err: (err as Error).message },
        'cluster: leave failed (names expire by themselves)',
      );
    }
    await this.link.close();
  }

  // ---- seams ---------------------------------------------------------------------------

  /** The gateway's frame handlers, able to make a session's frames wait while it waits. */
  wrap<C>(handler: FrameHandler<C>): FrameHandler<C> {
    return this.deferral.wrap(handler);
  }

  /**
   * Login: claim the name across the cluster, then admit the session to the hub. With a
   * presence-capable dialect the first page of the online list comes in the same round trip.
   * With accounts (`maxDevices` > 1) the session claims one of its account's devices instead,
   * on whichever nodes the others are.
   */
  async admit(session: Session, maxDevices: number): Promise<Admission> {
    const { hub } = this.deps;
    const multi = maxDevices > 1 && this.names.multi;
    if (!multi && hub.get(session.key) !== undefined) return { ok: false, code: 'name_taken' };
    if (!this.ready) return { ok: false, code: 'temporarily_unavailable' };
    const max = this.options.loginListMax;
    let claimed: Awaited<ReturnType<Names['claim']>>;
    let page: Awaited<ReturnType<PresenceRelay['page']>> | undefined;
    try {
      [claimed, page] = await Promise.all([
        this.names.claim(session),
        session.dialect.presence ? this.presence.page(undefined, max + 1, undefined) : undefined,
      ]);
    } catch (err) {
      // The claim may have been made even so (only its answer lost): give it back.
      this.names.release(session);
      this.log.debug({ err: (err as Error).message }, 'cluster: claim failed');
      return { ok: false, code: 'temporarily_unavailable' };
    }
    if (claimed !== 'held')
      return { ok: false, code: claimed === 'full' ? 'too_many_devices' : 'name_taken' };
    // The client left while we claimed, or (only if Redis lost a claim of ours) the name was
    // taken on this node meanwhile: keep what was first, give the claim back.
    if (
      session.state !== 'anonymous' ||
      session.ws.readyState !== 1 ||
      (!multi && hub.get(session.key) !== undefined)
    ) {
      this.names.release(session);
      return { ok: false, code: 'name_taken' };
    }
    this.names.keep(session);
    // The caller activates the session and sends its login reply in the same step, so that
    // nothing (another login's presence) can reach the session before its reply.
    const users = (page?.users ?? [])
      .filter((u) => u.key !== session.key)
      .slice(0, max)
      .map(({ name, status }) => ({ name, status }));
    return { ok: true, users, total: Math.max(page?.total ?? hub.size, hub.size) };
  }

  /** Give back the name of a session admitted but never activated (it left in between). */
  release(session: Session): void {
    this.names.release(session);
  }

  /**
   * Drain: hand resumable sessions and their calls over to the other nodes (handoff.ts).
   * Returns the sessions handed over: they are no longer this node's; just close their sockets.
   */
  async handOff(sessions: readonly Session[]): Promise<Set<Session>> {
    if (!this.ready) return new Set();
    try {
      return (await this.handoff.run(sessions)).handled;
    } catch (err) {
      this.log.warn(
        { err: (err as Error).message },
        'cluster: drain hand-over failed; sessions end here',
      );
      return new Set();
    }
  }

  /**
   * A resume token this node does not know: a session parked by a drained node, maybe. The
   * session is rebuilt here (with its call) and `fresh` becomes it; undefined when there is
   * no such session (the caller answers resume_failed).
   */
  resumeElsewhere(fresh: Session, key: string, token: string): Promise<Resumed | undefined> {
    return this.resume(fresh, key, token);
  }

  private async resume(fresh: Session, key: string, token: string): Promise<Resumed | undefined> {
    if (!this.ready) return undefined;
    const deps = {
      link: this.link,
      bus: this.bus,
      hub: this.deps.hub,
      book: this.deps.engine.book,
      names: this.names,
      shadows: this.shadows,
      nameTtlMs: this.options.nameTtlMs,
      takeOver: (callId: string, session: Session) => this.migration.takeOver(callId, session),
    };
    try {
      const parked = await resumeParked(deps, fresh, key, token);
      if (parked !== undefined || fresh.state !== 'anonymous') return parked;
      // Not parked: maybe alive on another node, which hands it over if the token is right
      // (with accounts: whichever node has the device that holds this token).
      const nodes = this.names.multi
        ? [...new Set((await this.names.devices(key)).map((d) => d.node))]
        : [(await this.names.locate(key)).record?.node];
      const asked = await Promise.all(
        nodes
          .filter((n): n is string => n !== undefined && n !== this.nodeId && n !== PARKED)
          .map((n) => this.takeover.ask(n, key, token)),
      );
      if (!asked.includes(true)) return undefined;
      return await resumeParked(deps, fresh, key, token);
    } catch (err) {
      this.log.debug({ err: (err as Error).message }, 'cluster: resume from another node failed');
      return undefined;
    }
  }

  /** `users` (native) across the cluster. */
  users(
    session: Session,
    query: string | undefined,
    limit: number,
    cursor: string | undefined,
    ref: string | undefined,
  ): void {
    if (!this.ready) return this.unavailable(session, ref);
    this.presence.page(query, limit, cursor).then(
      (p) =>
        session.send({
          t: 'users',
          users: p.users.map(({ name, status }) => ({ name, status })),
          total: p.total,
          cursor: p.cursor,
          ref,
        }),
      () => this.unavailable(session, ref),
    );
  }

  /** `list` (one2one) across the cluster: everyone else online, by name. */
  list(session: Session, max: number): void {
    if (!this.ready) return this.unavailable(session, undefined);
    this.presence.page(undefined, max + 1, undefined).then(
      (p) =>
        session.send({
          t: 'users',
          users: p.users
            .filter((u) => u.key !== session.key)
            .slice(0, max)
            .map(({ name, status }) => ({ name, status })),
          total: p.total,
        }),
      () => this.unavailable(session, undefined),
    );
  }

  private unavailable(session: Session, ref: string | undefined): void {
    this.deps.stats.error('temporarily_unavailable');
    session.send({ t: 'error', code: 'temporarily_unavailable', ref });
  }

  // ---- RemoteCalls (the engine's seam) -------------------------------------------------

  get devicesAcrossNodes(): boolean {
    return this.names.multi;
  }

  invite(
    caller: Party,
    target: InviteTarget,
    media: MediaValue | undefined,
    offer: unknown,
    ref: string | undefined,
  ): boolean {
    this.home.invite(caller, target, media, offer, ref);
    return true;
  }

  forward(call: Call, party: Party, command: CallCommand): void {
    this.shadows.forward(call, party, command);
  }

  move(device: Party, callId: string, ref: string | undefined): boolean {
    return this.moves.request(device, callId, ref);
  }

  isPlacing(party: Party): boolean {
    return this.home.locatingTarget(party) !== undefined;
  }

  callEnded(call: Call, wasConnected: boolean): void {
    this.home.callEnded(call, wasConnected);
  }

  join(
    party: Party,
    room: string,
    media: MediaValue | undefined,
    ref: string | undefined,
  ): boolean {
    this.rooms.join(party, room, media, ref);
    return true;
  }

  roomClosed(room: string): void {
    this.rooms.roomClosed(room);
  }

  // ---- inbound ------------------------------------------------------------------------

  private onMessage(channel: string, text: string): void {
    if (this.suspect) return;
    if (this.registry.checkFrozen()) {
      // Stopped for longer than our heartbeat lives: this may be stale, and we may be buried.
      this.presumedDead();
      return;
    }
    if (channel === K.presence) return this.presence.onMessage(text);
    const parsed = parseNodeText(text);
    if (!parsed.ok) {
      // The whole batch: its envelope cannot be trusted to say what is in it.
      const { code, from } = parsed;
      this.log.warn({ code, from, text: text.slice(0, 200) }, 'cluster: node batch refused');
      return;
    }
    const { msgs } = parsed;
    // A batch's frames for this node's sockets are written together: each socket written to
    // is corked until the end of this turn (ws/write-batch.ts), as for a burst read from one
    // client. A lone message is written at once.
    const { writes } = this.deps;
    const coalescing = writes.coalescing;
    writes.coalescing = msgs.length > 1;
    try {
      for (const msg of msgs) {
        if (isRefused(msg)) {
          const { refused: code, index, op } = msg;
          this.log.warn(
            { code, index, op, text: msgs.length === 1 ? text.slice(0, 200) : undefined },
            'cluster: malformed node message dropped',
          );
          continue;
        }
        try {
          this.dispatch(msg);
        } catch (err) {
          this.log.error({ err, op: msg.op }, 'cluster: message handler failed');
        }
      }
    } finally {
      writes.coalescing = coalescing;
    }
  }

  private dispatch(msg: NodeMessage): void {
    switch (msg.op) {
      case 'cmd':
        return this.home.command(msg);
      case 'ring':
        return this.shadows.ring(msg);
      case 'rang':
        return this.home.rang(msg);
      case 'adopt':
        return this.migration.adopt(msg);
      case 'park':
        return this.migration.park(msg);
      case 'moved':
        return this.migration.moved(msg);
      case 'ack':
        return this.handoff.ack(msg);
      case 'gone':
        return this.shadows.gone(msg.callId, msg.from);
      case 'takeover':
        return void this.takeover.requested(msg);
      case 'taken':
        return this.takeover.answered(msg);
      case 'join':
        return this.rooms.onJoin(msg);
      case 'joined':
        return this.rooms.joined(msg);
      case 'peerjs':
        return this.peerjs?.arrived(msg);
      case 'peerjs-taken':
        return this.peerjs?.taken(msg);
      case 'devices':
        return this.deviceSync.changed(msg);
      case 'device':
        return this.deviceSync.apply(msg);
      case 'move':
        return this.moves.requested(msg);
      case 'move-ok':
        return this.moves.moved(msg);
      case 'move-no':
        return this.moves.refused(msg);
      case 'event':
        break;
      default:
        return assertNever(msg);
    }
    const { e } = msg;
    const { hub, engine } = this.deps;
    // (With accounts the person may have several devices here: `dev` says which.)
    const device = (s: Session) => msg.dev === undefined || s.device?.id === msg.dev;
    if (e.t === 'error') {
      const to = hub.devices(msg.to).find(device);
      to?.send({ t: 'error', code: e.code, message: e.message, callId: msg.callId, ref: e.ref });
      return;
    }
    const call = msg.callId === undefined ? undefined : engine.book.get(msg.callId);
    if (call === undefined) return;
    // A home call routes to its party wherever that is; a shadow delivers to its local party.
    if (call.home === undefined) return this.home.event(msg, call);
    if (call.home !== msg.from) return;
    const session = hub
      .devices(msg.to)
      .find(
        (s) => device(s) && (call.caller === s || call.callee === s || call.ringing.includes(s)),
      );
    if (session !== undefined) this.shadows.event(e, call, session, msg.dev !== undefined);
  }

  // ---- liveness ------------------------------------------------------------------------

  private linkUp(): void {
    this.registry.linkUp();
    void this.resync.run(this.joined ? 'reconnected' : 'joined');
    this.joined = true;
  }

  private presumedDead(): void {
    if (this.suspect || this.closed) return;
    this.suspect = true;
    void this.resync.run('presumed-dead').finally(() => {
      this.suspect = false;
    });
  }

  private nodeDead(id: string): void {
    const ended = this.home.endWith(id) + this.shadows.endWith(id, false);
    if (ended > 0)
      this.log.warn({ dead: id, calls: ended }, 'cluster: ended calls with a dead node');
  }

  private *peers(): Generator<string> {
    yield* this.home.peers();
    yield* this.shadows.peers();
  }

  private async tick(): Promise<void> {
    if (!this.ready) return;
    try {
      await this.presence.refreshTotal();
      await EXPIRE_PARKED.run(
        this.link.cmd,
        [K.parked, K.online, K.status],
        [
          Date.now(),
          K.namePrefix,
          this.options.presence ? K.presence : '',
          K.devsPrefix,
          K.pstatPrefix,
        ],
      );
      const now = performance.now();
      if (now - this.lastNameRefreshMs < this.options.nameTtlMs / 3) return;
      this.lastNameRefreshMs = now;
      const lost = await this.names.refresh((s) => this.deps.hub.statusOf(s));
      await this.rooms.refresh();
      await this.peerjs?.refresh();
      for (const session of lost) evict(session);
      if (lost.length > 0)
        this.log.warn({ lost: lost.length }, 'cluster: names taken elsewhere; sessions closed');
    } catch (err) {
      this.log.debug({ err: (err as Error).message }, 'cluster: refresh failed');
    }
  }
}

function redactUrl(url: string): string {
  return url.replace(/\/\/[^@/]*@/, '//***@');
}

function withTimeout<T>(p: Promise<T>, ms: number): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const t = setTimeout(() => reject(new Error('timed out')), ms);
    p.then(
      (v) => {
        clearTimeout(t);
        resolve(v);
      },
      (err: unknown) => {
        clearTimeout(t);
        reject(err instanceof Error ? err : new Error(String(err)));
      },
    );
  });
}
