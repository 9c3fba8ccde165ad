/**
 * When the socket drops, the client asks a policy how long to wait before each attempt. The
 * default is exponential backoff with full jitter: after a server restart thousands of clients
 * would otherwise come back in the same millisecond and knock it over again.
 */

/**
 * Decides the delay before each reconnect attempt.
 *
 * @example
 * ```ts
 * // Retry every second, five times, then give up (state becomes 'closed').
 * const policy: ReconnectPolicy = {
 *   nextRetryDelayMs: (attempt) => (attempt < 5 ? 1000 : null),
 * };
 * await connect(url, { name: 'alice', reconnectPolicy: policy });
 * ```
 */
export interface ReconnectPolicy {
  /**
   * @param attempt - 0 for the first retry after a drop, then 1, 2, ...
   * @returns milliseconds to wait, or `null` to stop retrying.
   */
  nextRetryDelayMs(attempt: number): number | null;
}

/**
 * Tuning for {@link jitteredBackoff}.
 *
 * @example
 * ```ts
 * const options: BackoffOptions = { initialDelayMs: 1000, maxDelayMs: 60_000, maxAttempts: 30 };
 * const policy = jitteredBackoff(options);
 * ```
 */
export interface BackoffOptions {
  /** Delay ceiling of the first attempt. Default 500 ms. */
  initialDelayMs?: number;
  /** Largest delay ceiling. Default 30 s. */
  maxDelayMs?: number;
  /** Give up after this many attempts. Default: never give up. */
  maxAttempts?: number;
  /** Source of randomness in [0, 1); injectable for tests. Default `Math.random`. */
  random?: () => number;
}

/**
 * Exponential backoff with jitter: attempt `n` waits a random time between half and all of
 * `min(maxDelayMs, initialDelayMs * 2^n)`. The first retry is quick (a blip should not be
 * noticed) and the herd spreads out as attempts grow.
 *
 * @example
 * ```ts
 * await connect(url, {
 *   name: 'alice',
 *   reconnectPolicy: jitteredBackoff({ initialDelayMs: 250, maxDelayMs: 10_000, maxAttempts: 20 }),
 * });
 * ```
 */
export function jitteredBackoff(options: BackoffOptions = {}): ReconnectPolicy {
  const initial = options.initialDelayMs ?? 500;
  const max = options.maxDelayMs ?? 30_000;
  const maxAttempts = options.maxAttempts ?? Infinity;
  const random = options.random ?? Math.random;
  if (!(initial > 0) || !(max >= initial)) {
    throw new TypeError('need 0 < initialDelayMs <= maxDelayMs');
  }
  return {
    nextRetryDelayMs(attempt) {
      if (attempt >= maxAttempts) return null;
      const ceiling = Math.min(max, initial * 2 ** Math.min(attempt, 30));
      return Math.round(ceiling / 2 + (random() * ceiling) / 2);
    },
  };
}

/**
 * The policy used when `ConnectOptions.reconnectPolicy` is not given: {@link jitteredBackoff}
 * from 0.5 s up to 30 s, never giving up.
 *
 * @example
 * ```ts
 * const firstDelayMs = defaultReconnectPolicy.nextRetryDelayMs(0); // between 250 and 500
 * ```
 */
export const defaultReconnectPolicy: ReconnectPolicy = jitteredBackoff();
