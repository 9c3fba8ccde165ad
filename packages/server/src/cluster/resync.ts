/**
 * Getting back in step with the cluster. Two occasions:
 *
 * - The link came back (Redis restarted, maybe empty, or a connection dropped): announce this
 *   node again and claim every name it holds again. Calls go on: nobody declared this node
 *   dead while nobody could reach Redis (survivors wait a full TTL after Redis returns before
 *   burying anyone, see node-registry.ts).
 * - This node was presumed dead (its heartbeat lapsed: stopped, frozen, cut off): the others
 *   have ended their calls with it and freed its names, or are about to. It must not run on
 *   that stale state: it ends its own calls across nodes (telling the other side, in case it
 *   had not noticed yet), then joins again like a new member, claiming its names afresh.
 *
 * Either way a name that someone else holds by now is lost: that session is closed (4003), the
 * name's new holder keeps it. Runs are serialized; a run cut short by another outage is simply
 * followed by the next one.
 */
import { CLOSE } from '@callwire/protocol';
import type { Logger } from 'pino';
import type { Hub } from '../hub.js';
import type { Session } from '../ws/session.js';
import type { Bus } from './bus.js';
import type { HomeCalls } from './home-calls.js';
import type { Names } from './names.js';
import type { NodeRegistry } from './node-registry.js';
import type { ShadowCalls } from './shadow-calls.js';

export interface ResyncDeps {
  /** Claim this node's meet-by-link rooms again. */
  readonly rooms: () => Promise<void>;
  readonly registry: NodeRegistry;
  readonly names: Names;
  readonly hub: Hub;
  readonly home: HomeCalls;
  readonly shadows: ShadowCalls;
  readonly bus: Bus;
  readonly log: Logger;
}

/** First join, the link back after an outage, or back after being presumed dead. */
export type ResyncKind = 'joined' | 'reconnected' | 'presumed-dead';

export class Resync {
  private chain: Promise<void> = Promise.resolve();
  private pending = 0;

  constructor(private readonly deps: ResyncDeps) {}

  /** A resync is queued or running: cross-node work waits for it (fails fast meanwhile). */
  get running(): boolean {
    return this.pending > 0;
  }

  run(kind: ResyncKind): Promise<void> {
    this.pending++;
    this.chain = this.chain
      .then(() => this.once(kind))
      .catch((err: unknown) => {
        this.deps.log.warn(
          { err: (err as Error).message, kind },
          'cluster: resync cut short; retrying when redis is back',
        );
      })
      .finally(() => {
        this.pending--;
      });
    return this.chain;
  }

  private async once(kind: ResyncKind): Promise<void> {
    const { registry, names, hub, home, shadows, bus, log } = this.deps;
    let ended = 0;
    if (kind === 'presumed-dead')
      ended = home.endWith(undefined) + shadows.endWith(undefined, true);
    await registry.register();
    await names.flushReleases();
    const lost = await names.reclaimAll((s) => hub.statusOf(s));
    for (const session of lost) evict(session);
    await this.deps.rooms();
    bus.flush();
    if (kind === 'joined') log.info('cluster: joined');
    else
      log.info(
        { kind, names: names.size, lost: lost.length, callsEnded: ended },
        'cluster: in step again',
      );
  }
}

/** Someone else holds this session's name now: it goes (4003), as a replaced session does. */
export function evict(session: Session): void {
  if (session.state === 'away') {
    session.awayUntilMs = 0; // the gateway's sweep ends it within a tick
    return;
  }
  session.close(CLOSE.sessionReplaced, 'name taken on another node');
}
