/**
 * Writes of one tick, batched per socket. While the gateway handles a frame that is one of
 * several in the same socket read, every session it writes to is corked, and all are uncorked
 * together on the next tick: relaying a burst of candidates then costs one write per peer. A
 * lone frame (the common case at a steady rate) is written at once: corking it would only add
 * a tick. One batch per server, so two servers in one process share nothing.
 */
/** Something corked for the rest of the tick (a session's socket). */
export interface Uncorkable {
  uncork(): void;
}

export class WriteBatch {
  /** Set by the gateway for each inbound frame: more frames of the same read follow. */
  coalescing = false;
  private readonly corked: Uncorkable[] = [];
  private scheduled = false;

  /** `item` was corked: uncork it at the end of this tick. */
  add(item: Uncorkable): void {
    this.corked.push(item);
    if (!this.scheduled) {
      this.scheduled = true;
      process.nextTick(this.flush);
    }
  }

  private readonly flush = (): void => {
    this.scheduled = false;
    const corked = this.corked.splice(0);
    for (const item of corked) item.uncork();
  };
}
