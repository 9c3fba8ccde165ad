/**
 * While a session waits for the cluster (its invite is looking up a user on another node), the
 * frames it sends next must wait too: a tutorial client sends its offer and then its
 * candidates at once, and those candidates belong to the call the lookup is about to create.
 * They are kept in order (bounded) and handled as soon as the wait ends.
 *
 * Only a clustered node wraps its frame handlers with this; a single node never pays for it.
 */
import type { Context } from '../context.js';
import type { Session } from '../ws/session.js';

type FrameHandler = (ctx: Context, session: Session, text: string) => void;

export class FrameDeferral {
  private readonly waiting = new Map<
    Session,
    Array<{ handler: FrameHandler; ctx: Context; text: string }>
  >();

  constructor(private readonly max: number) {}

  isWaiting(session: Session): boolean {
    return this.waiting.has(session);
  }

  /** Hold `session`'s next frames until `resume(session)`. */
  hold(session: Session): void {
    if (!this.waiting.has(session)) this.waiting.set(session, []);
  }

  /** Handle, in order, what waited; stops early if one of them makes the session wait again. */
  resume(session: Session): void {
    const queue = this.waiting.get(session);
    if (queue === undefined) return;
    this.waiting.delete(session);
    for (let i = 0; i < queue.length; i++) {
      const { handler, ctx, text } = queue[i]!;
      if (session.state === 'closed') return;
      try {
        handler(ctx, session, text);
      } catch (err) {
        // As in the gateway: a bug must not leak into other sessions or stop the queue.
        ctx.log.error({ err, session: session.id }, 'message handler failed');
        ctx.stats.error('internal_error');
        session.send({ t: 'error', code: 'internal_error' });
      }
      const again = this.waiting.get(session);
      if (again !== undefined) {
        again.push(...queue.slice(i + 1));
        return;
      }
    }
  }

  /** The gateway's frame handler, made to queue while its session waits. */
  wrap(handler: FrameHandler): FrameHandler {
    return (ctx, session, text) => {
      const queue = this.waiting.get(session);
      if (queue === undefined) return handler(ctx, session, text);
      if (queue.length >= this.max) {
        ctx.stats.error('queue_full');
        session.send({ t: 'error', code: 'queue_full' });
        return;
      }
      queue.push({ handler, ctx, text });
    };
  }
}
