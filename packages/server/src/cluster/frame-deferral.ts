/**
 * While a session waits for the cluster (its invite is looking up a user on another node), the
 * frames it sends next must wait too: a tutorial client sends its offer and then its
 * candidates at once, and those candidates belong to the call the lookup is about to create.
 * They are kept in order (bounded) and handled as soon as the wait ends.
 *
 * Only a clustered node wraps its frame handlers with this; a single node never pays for it.
 */
import type { Logger } from 'pino';
import type { Party } from '../calls/model.js';
import type { FrameHandler } from '../directory.js';
import type { Stats } from '../metrics.js';
import type { Session } from '../ws/session.js';

interface Waiting {
  readonly run: () => void;
}

export class FrameDeferral {
  private readonly waiting = new Map<Party, Waiting[]>();

  constructor(
    private readonly max: number,
    private readonly log: Logger,
    private readonly stats: Stats,
  ) {}

  isWaiting(party: Party): boolean {
    return this.waiting.has(party);
  }

  /** Make `party`'s next frames wait until `resume(party)`. */
  defer(party: Party): void {
    if (!this.waiting.has(party)) this.waiting.set(party, []);
  }

  /** Handle, in order, what waited; stops early if one of them makes the party wait again. */
  resume(party: Party): void {
    const queue = this.waiting.get(party);
    if (queue === undefined) return;
    this.waiting.delete(party);
    for (let i = 0; i < queue.length; i++) {
      if (party.state === 'closed') return;
      try {
        queue[i]!.run();
      } catch (err) {
        // As in the gateway: a bug must not leak into other sessions or stop the queue.
        this.log.error({ err, party: party.name }, 'message handler failed');
        this.stats.error('internal_error');
        party.send({ t: 'error', code: 'internal_error' });
      }
      const again = this.waiting.get(party);
      if (again !== undefined) {
        again.push(...queue.slice(i + 1));
        return;
      }
    }
  }

  /** The gateway's frame handler, made to queue while its session waits. */
  wrap<C>(handler: FrameHandler<C>): FrameHandler<C> {
    return (ctx: C, session: Session, text: string) => {
      const queue = this.waiting.get(session);
      if (queue === undefined) return handler(ctx, session, text);
      if (queue.length >= this.max) {
        this.stats.error('queue_full');
        session.send({ t: 'error', code: 'queue_full' });
        return;
      }
      queue.push({ run: () => handler(ctx, session, text) });
    };
  }
}
