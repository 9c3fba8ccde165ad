/**
 * What the connection keeps so that a dropped socket does not end the session (docs/PROTOCOL.md,
 * "Resume"): the resume token of the last login, how long the server waits for us, and the
 * messages the calls produce while the socket is down. A call's media runs peer to peer, so it
 * goes on while signaling is away; what it says meanwhile (trickled candidates, a renegotiation
 * offer, a hangup) must reach the peer after the resume, in the order it was said.
 */
import type { ClientMessage } from '@callwire/protocol';

/** More than a renegotiation with a full set of candidates needs; beyond it messages are refused. */
export const OUTBOX_LIMIT = 512;

export class ResumeState {
  /** The token to resume with, or null: the next login is a fresh one. */
  #token: string | null = null;
  #graceMs = 0;
  /** The socket dropped and the server keeps the session for us; not yet resumed. */
  #suspended = false;
  #graceTimer: ReturnType<typeof setTimeout> | undefined;
  #outbox: ClientMessage[] = [];

  get token(): string | null {
    return this.#token;
  }

  get graceMs(): number {
    return this.#graceMs;
  }

  get suspended(): boolean {
    return this.#suspended;
  }

  /** A login reply: remember the fresh token (a server without resume sends none). */
  granted(token: string | undefined, graceMs: number | undefined): void {
    this.#token = token ?? null;
    if (graceMs !== undefined) this.#graceMs = graceMs;
  }

  /**
   * The socket dropped. Returns false when there is nothing to resume (no token). Otherwise
   * `expired` runs if the grace period passes before `resumed()`: by then the server has ended
   * our calls, so waiting longer would only show calls that no longer exist.
   */
  suspend(expired: () => void): boolean {
    if (this.#token === null) return false;
    this.#suspended = true;
    clearTimeout(this.#graceTimer);
    this.#graceTimer = setTimeout(() => {
      if (this.#suspended) expired();
    }, this.#graceMs);
    return true;
  }

  /** Hold a message until the resume; false when the outbox is full or nothing is suspended. */
  hold(msg: ClientMessage): boolean {
    if (!this.#suspended || this.#outbox.length >= OUTBOX_LIMIT) return false;
    this.#outbox.push(msg);
    return true;
  }

  /**
   * The server resumed the session. Returns the held messages to send now, in order, without
   * those for calls the server no longer has (it ended them meanwhile and would refuse them).
   */
  resumed(liveCallIds: ReadonlySet<string>): ClientMessage[] {
    this.#suspended = false;
    clearTimeout(this.#graceTimer);
    const held = this.#outbox;
    this.#outbox = [];
    return held.filter((msg) => {
      const callId = 'callId' in msg ? msg.callId : undefined;
      return callId === undefined || liveCallIds.has(callId);
    });
  }

  /** The session is gone (refused, expired, closed): forget the token and what was held. */
  lost(): boolean {
    const was = this.#suspended;
    this.#suspended = false;
    clearTimeout(this.#graceTimer);
    this.#token = null;
    this.#outbox = [];
    return was;
  }
}
