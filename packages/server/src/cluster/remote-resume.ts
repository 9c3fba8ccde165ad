/**
 * A client whose node was drained resumes here (handoff.ts parked its session in Redis). Its
 * resume token is unknown to this node, so the login asks the cluster: the session's state
 * and its name are taken from Redis in one step (only once), the session is rebuilt here, and
 * if it was in a call, a shadow of that call is made here and the call's home is told where
 * the party went (`moved`); the home then sends what it kept for the party, and the other
 * party hears `reconnected`.
 */
import type { CallBook } from '../calls/book.js';
import type { Resumed } from '../directory.js';
import type { Hub } from '../hub.js';
import type { Session } from '../ws/session.js';
import type { Bus } from './bus.js';
import { tokenHash, type ParkedSession } from './handoff.js';
import { K, nameValue } from './keys.js';
import type { Names } from './names.js';
import type { RedisLink } from './redis-link.js';
import { RemoteParty } from './remote-party.js';
import { TAKE } from './scripts.js';
import type { ShadowCalls } from './shadow-calls.js';

export interface RemoteResumeDeps {
  readonly link: RedisLink;
  readonly bus: Bus;
  readonly hub: Hub;
  readonly book: CallBook;
  readonly names: Names;
  readonly shadows: ShadowCalls;
  readonly nameTtlMs: number;
  /** The call's home is this node: the session takes its parked proxy's place (migration.ts). */
  readonly takeOver: (callId: string, fresh: Session) => string[] | undefined;
}

/** Take over a session parked by a drained node; undefined when there is none for this token. */
export async function resumeParked(
  deps: RemoteResumeDeps,
  fresh: Session,
  key: string,
  token: string,
): Promise<Resumed | undefined> {
  const { link, bus, hub, names, shadows } = deps;
  const self = bus.nodeId;
  const prefix = nameValue({ node: self, dialect: 'native', display: '' });
  const json = (await TAKE.run(
    link.cmd,
    [
      K.resume(tokenHash(token)),
      K.name(key),
      K.online,
      K.status,
      K.names(self),
      K.parked,
      K.devs(key),
      K.pstat(key),
    ],
    [key, prefix, deps.nameTtlMs, self],
  )) as string | null;
  if (json === null) return undefined;
  const parked = JSON.parse(json) as ParkedSession;
  fresh.name = parked.name;
  fresh.key = parked.key;
  // A device of an account is that device again here (its id is its entry in devs:<key>).
  if (parked.dev !== undefined && parked.device !== undefined)
    fresh.device = { id: parked.dev, ...parked.device };
  names.keep(fresh);
  const c = parked.call;
  // The call's home may be this very node: then the session takes its proxy's place there.
  const elsewhere = c !== undefined && c.home !== self ? c : undefined;
  const moved = () => {
    if (elsewhere !== undefined) {
      bus.send(elsewhere.home, { op: 'moved', from: self, callId: elsewhere.id, key: fresh.key });
    }
  };
  // The client left while we took its session: the session ends here, as it would have there.
  if (fresh.state !== 'anonymous' || fresh.ws.readyState !== 1) {
    if (elsewhere !== undefined) {
      moved();
      const end = {
        op: 'cmd',
        from: self,
        by: fresh.key,
        callId: elsewhere.id,
        c: { k: 'disconnect' },
      } as const;
      bus.sendEventually(elsewhere.home, end);
    }
    names.release(fresh);
    return undefined;
  }
  fresh.state = 'active';
  // (A device of an account joins its others here, if any: the cluster counted it already.)
  if (!hub.add(fresh, parked.dev === undefined ? 1 : Number.MAX_SAFE_INTEGER)) {
    // Cannot happen while the name was parked; never run two sessions under one name.
    fresh.state = 'anonymous';
    names.release(fresh);
    return undefined;
  }
  let late: string[] = [];
  if (elsewhere !== undefined) {
    const peer = new RemoteParty(
      elsewhere.home,
      elsewhere.peer.key,
      elsewhere.peer.name,
      'native',
      bus.toRemote,
    );
    const call = deps.book.open({
      id: elsewhere.id,
      caller: elsewhere.role === 'caller' ? fresh : peer,
      callee: elsewhere.role === 'caller' ? peer : fresh,
      state: 'connected',
      media: elsewhere.media,
      calleeNotified: true,
      createdAtMs: elsewhere.createdAtMs,
      answeredAtMs: elsewhere.answeredAtMs,
      home: elsewhere.home,
    });
    shadows.track(call);
    moved();
  } else if (c !== undefined) {
    late = deps.takeOver(c.id, fresh) ?? [];
  }
  if (fresh.call !== null) hub.publish(fresh, 'busy');
  return {
    identity: {
      key: parked.key,
      display: parked.name,
      mode: parked.identity?.mode ?? 'open',
      ...parked.identity,
    },
    backlog: [...(parked.backlog ?? []), ...late],
  };
}
