/**
 * Bounds the password hashes in flight. argon2 runs on libuv's thread pool (4 threads by
 * default), which is also where file I/O and DNS lookups run, and each hash holds its memory
 * cost (19 MiB) while it runs: an unbounded login storm would starve the rest of the process
 * and grow its memory without limit. At most `concurrency` hashes run; up to `queueMax` more
 * wait their turn (first come, first served); beyond that a login is refused at once, which is
 * cheaper for everyone than a queue nobody gets out of in time.
 */
export class HashLimiter {
  private running = 0;
  private readonly waiting: Array<() => void> = [];

  constructor(
    readonly concurrency: number,
    readonly queueMax: number,
  ) {
    if (!Number.isInteger(concurrency) || concurrency < 1)
      throw new TypeError('concurrency must be >= 1');
  }

  get queued(): number {
    return this.waiting.length;
  }

  /** Run `task` when a slot is free; resolves to undefined (without running it) when full. */
  async run<T>(task: () => Promise<T>): Promise<{ value: T } | undefined> {
    if (this.running >= this.concurrency) {
      if (this.waiting.length >= this.queueMax) return undefined;
      await new Promise<void>((resolve) => this.waiting.push(resolve));
    } else {
      this.running++;
    }
    try {
      return { value: await task() };
    } finally {
      const next = this.waiting.shift();
      // The slot passes straight to the next waiter; `running` stays the same.
      if (next) next();
      else this.running--;
    }
  }
}
