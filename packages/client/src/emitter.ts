/**
 * A typed event emitter. Event names and listener signatures come from an event map, so a typo
 * or a wrong argument is a compile error. A listener that throws is reported and skipped: it can
 * never stop the other listeners or the SDK's own state machine (the failure that bites most
 * emitters, where one UI bug tears down a call).
 */

/** An event map: event name -> listener signature. */
export type Listeners<E> = { [K in keyof E]: (...args: never[]) => void };

/**
 * Removes the listener it was returned for. Calling it twice is harmless.
 *
 * @example
 * ```ts
 * const off: Unsubscribe = client.on('presence', render);
 * // later, when the view goes away:
 * off();
 * ```
 */
export type Unsubscribe = () => void;

function report(err: unknown): void {
  // Browsers route reportError to window.onerror and the console like an uncaught exception,
  // without unwinding our stack; Node has no reportError, so fall back to the console.
  const reportError = (globalThis as { reportError?: (e: unknown) => void }).reportError;
  if (typeof reportError === 'function') reportError(err);
  else console.error('callwire: an event listener threw', err);
}

export class Emitter<E extends Listeners<E>> {
  readonly #listeners = new Map<keyof E, Set<E[keyof E]>>();

  on<K extends keyof E>(event: K, listener: E[K]): Unsubscribe {
    if (typeof listener !== 'function') throw new TypeError('listener must be a function');
    let set = this.#listeners.get(event);
    if (set === undefined) {
      set = new Set();
      this.#listeners.set(event, set);
    }
    // Wrap so the same function can be subscribed twice and removed one at a time.
    const entry = ((...args: never[]) => listener(...args)) as E[K];
    set.add(entry);
    return () => {
      set.delete(entry);
    };
  }

  once<K extends keyof E>(event: K, listener: E[K]): Unsubscribe {
    const off = this.on(event, ((...args: never[]) => {
      off();
      listener(...args);
    }) as E[K]);
    return off;
  }

  /** Calls every listener of `event` in subscription order; throwing listeners are reported. */
  emit<K extends keyof E>(event: K, ...args: Parameters<E[K]>): void {
    const set = this.#listeners.get(event);
    if (set === undefined || set.size === 0) return;
    for (const listener of [...set]) {
      try {
        (listener as (...a: Parameters<E[K]>) => void)(...args);
      } catch (err) {
        report(err);
      }
    }
  }

  listenerCount(event: keyof E): number {
    return this.#listeners.get(event)?.size ?? 0;
  }

  clear(): void {
    this.#listeners.clear();
  }
}
