/**
 * Where users are: on this node only (`LocalDirectory`), or anywhere in a cluster
 * (cluster/cluster.ts). This is the login path's and the routers' one seam to other nodes, as
 * calls/remote.ts is the engine's: claiming a name, resuming a session that was on another
 * node, paging the online list, waiting for the cluster, handing sessions over on drain.
 * Nothing outside cluster/ asks whether there is a cluster.
 */
import type { ErrorCode, UserEntryValue } from '@callwire/protocol';
import type { Identity } from './auth/authenticator.js';
import type { Hub } from './hub.js';
import type { Session } from './ws/session.js';

export type Admission =
  | {
      readonly ok: true;
      /** The first page of the online list, when it came from elsewhere (else the hub's). */
      readonly users?: UserEntryValue[] | undefined;
      /** How many are online, counting this session, when known elsewhere. */
      readonly total?: number | undefined;
    }
  | { readonly ok: false; readonly code: ErrorCode };

/** A session taken over from another node (its client resumed here). */
export interface Resumed {
  readonly identity: Identity;
  /** Messages kept for it on the node it left, to deliver right after the login reply. */
  readonly backlog: readonly string[];
}

export type FrameHandler<C> = (ctx: C, session: Session, text: string) => void;

export interface Directory {
  /** Ready to admit users and place calls (a cluster node: in step with Redis). */
  readonly ready: boolean;
  /**
   * Claim the session's name, as one of at most `maxDevices` devices of its person (1: the
   * name is exclusive). Answered at once on one node; after a round trip in a cluster.
   */
  admit(session: Session, maxDevices: number): Admission | Promise<Admission>;
  /** Give back the name of a session admitted but never activated (it left in between). */
  release(session: Session): void;
  /** A resume token this node does not know: the session may be elsewhere. */
  resumeElsewhere(
    fresh: Session,
    key: string,
    token: string,
  ): Promise<Resumed | undefined> | undefined;
  /** `users` (native): one page of the online list. */
  users(
    session: Session,
    query: string | undefined,
    limit: number,
    cursor: string | undefined,
    ref: string | undefined,
  ): void;
  /** `list` (one2one): everyone else online, by name. */
  list(session: Session, max: number): void;
  /** The gateway's frame handlers, able to make a session's frames wait while it waits. */
  wrap<C>(handler: FrameHandler<C>): FrameHandler<C>;
  /** Drain: hand sessions over to other nodes; returns those that are no longer this node's. */
  handOff(sessions: readonly Session[]): Promise<Set<Session>>;
}

/** One node: everyone is in the hub. */
export class LocalDirectory implements Directory {
  readonly ready = true;

  constructor(private readonly hub: Hub) {}

  admit(session: Session, maxDevices: number): Admission {
    const devices = this.hub.devices(session.key);
    if (devices.length === 0) return { ok: true };
    if (maxDevices <= 1) return { ok: false, code: 'name_taken' };
    // The same device signing in afresh takes its own place (login.ts replaces it).
    const id = session.device?.id;
    if (id !== undefined && devices.some((d) => d.device?.id === id)) return { ok: true };
    return devices.length < maxDevices ? { ok: true } : { ok: false, code: 'too_many_devices' };
  }

  release(): void {}

  resumeElsewhere(): undefined {
    return undefined;
  }

  users(
    session: Session,
    query: string | undefined,
    limit: number,
    cursor: string | undefined,
    ref: string | undefined,
  ): void {
    session.send({ t: 'users', ...this.hub.page(query, limit, cursor), ref });
  }

  list(session: Session, max: number): void {
    const page = this.hub.page(undefined, max, undefined);
    session.send({
      t: 'users',
      users: page.users.filter((u) => u.name !== session.name),
      total: page.total,
    });
  }

  wrap<C>(handler: FrameHandler<C>): FrameHandler<C> {
    return handler;
  }

  handOff(): Promise<Set<Session>> {
    return Promise.resolve(new Set());
  }
}
