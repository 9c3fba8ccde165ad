/**
 * A call that was answered but whose media never connects must not sit at "connecting"
 * forever: a network that blocks every way out (UDP dropped, TURN unreachable) leaves ICE
 * with nothing to check, and Chromium then stays `checking` instead of reaching `failed`.
 * After `timeoutMs` the call is given up, and what this side's candidates show about its
 * network (connectivity.ts) becomes the explanation the user sees.
 */
import type { ConnectivityVerdict } from '@callwire/protocol';
import { diagnoseConnection } from './connectivity.js';

/** How long an answered call may take to connect. Relayed calls connect in well under 1 s. */
export const CONNECT_TIMEOUT_MS = 20_000;

export class ConnectWatch {
  #timer: ReturnType<typeof setTimeout> | undefined;
  #startedAt = 0;
  #closed = false;
  readonly #timeoutMs: number;

  constructor(timeoutMs = CONNECT_TIMEOUT_MS) {
    this.#timeoutMs = timeoutMs;
  }

  /** Start the clock (once); `expired` runs if `connected()` or `close()` does not come first. */
  start(expired: () => void): void {
    if (this.#timer !== undefined || this.#closed) return;
    this.#startedAt = Date.now();
    this.#timer = setTimeout(() => {
      this.#timer = undefined;
      if (!this.#closed) expired();
    }, this.#timeoutMs);
  }

  /**
   * Whether the clock has (nearly) run out: a peer whose own watch fired a moment earlier
   * hangs up, and that hangup means the call failed to connect, not that someone hung up.
   */
  nearlyExpired(marginMs = 2_000): boolean {
    return this.#startedAt > 0 && Date.now() - this.#startedAt >= this.#timeoutMs - marginMs;
  }

  close(): void {
    this.#closed = true;
    clearTimeout(this.#timer);
    this.#timer = undefined;
  }
}

/** The verdict for a call that did not connect. */
export function explainFailure(
  pc: RTCPeerConnection | undefined,
  servers: readonly RTCIceServer[] | undefined,
): Promise<ConnectivityVerdict | null> {
  if (pc === undefined) return Promise.resolve(null);
  return diagnoseConnection(pc, servers).catch(() => null);
}
