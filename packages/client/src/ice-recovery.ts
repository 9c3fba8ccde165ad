/**
 * When to restart ICE, and when to give a call up. A network change (Wi-Fi to cellular, a NAT
 * that forgot its mapping, a path that broke for a few seconds) leaves ICE `disconnected` or
 * `failed`; an ICE restart (new credentials, new candidates, freshly issued TURN credentials)
 * brings the call back without the people in it doing anything.
 *
 * Only one side may restart, or both would send restart offers at the same moment: the caller
 * (the impolite side of perfect negotiation) restarts, the callee only answers. Restarts back
 * off (at once, then 2, 4, 8, 16 s apart) so a path that stays broken does not loop, and they
 * wait while either side's signaling is away: the offer could not get through, and the peer
 * that comes back restarts the schedule. A call whose media stays down past `giveUpMs` ends.
 *
 * The decisions are plain timing logic over ICE states, kept apart from RTCPeerConnection so
 * they can be tested without a browser.
 */

export interface IceRecoveryOptions {
  /** This side restarts ICE (the caller); the other side only answers restarts. */
  initiator: boolean;
  /** `disconnected` that lasts this long counts as broken (it often heals by itself). */
  disconnectedGraceMs: number;
  /** Delay before restart number `attempt` (1, 2, ...); the first comes at once. */
  retryDelayMs(attempt: number): number;
  /** Media down this long (after having connected) ends the call. */
  giveUpMs: number;
}

export interface IceRecoveryActions {
  restart(): void;
  giveUp(): void;
}

export const defaultIceRecoveryOptions = (initiator: boolean): IceRecoveryOptions => ({
  initiator,
  disconnectedGraceMs: 2_500,
  retryDelayMs: (attempt) => Math.min(16_000, 1_000 * 2 ** Math.min(attempt, 10)),
  giveUpMs: 30_000,
});

export class IceRecovery {
  #connectedOnce = false;
  /** ICE is broken (failed, or disconnected past the grace): recovery is under way. */
  #broken = false;
  #failuresBeforeConnect = 0;
  #attempt = 0;
  #signalingReady = true;
  #closed = false;
  #graceTimer: ReturnType<typeof setTimeout> | undefined;
  #retryTimer: ReturnType<typeof setTimeout> | undefined;
  #giveUpTimer: ReturnType<typeof setTimeout> | undefined;
  readonly #options: IceRecoveryOptions;
  readonly #actions: IceRecoveryActions;

  constructor(options: IceRecoveryOptions, actions: IceRecoveryActions) {
    this.#options = options;
    this.#actions = actions;
  }

  /** Restarts made during the current outage. */
  get attempts(): number {
    return this.#attempt;
  }

  get broken(): boolean {
    return this.#broken;
  }

  /** Feed every `iceconnectionstatechange`. */
  update(state: RTCIceConnectionState): void {
    if (this.#closed) return;
    switch (state) {
      case 'connected':
      case 'completed':
        this.#recovered();
        return;
      case 'disconnected':
        if (this.#broken || this.#graceTimer !== undefined) return;
        this.#graceTimer = setTimeout(() => {
          this.#graceTimer = undefined;
          this.#broke();
        }, this.#options.disconnectedGraceMs);
        return;
      case 'failed':
        clearTimeout(this.#graceTimer);
        this.#graceTimer = undefined;
        if (!this.#connectedOnce) this.#failedBeforeConnect();
        else this.#broke();
        return;
      case 'new':
      case 'checking':
        return;
      case 'closed':
        this.close();
        return;
    }
  }

  /** Whether restart offers can reach the peer now (both sides' signaling is up). */
  setSignalingReady(ready: boolean): void {
    if (this.#signalingReady === ready) return;
    this.#signalingReady = ready;
    clearTimeout(this.#retryTimer);
    this.#retryTimer = undefined;
    // Back online while broken: restart now; what was tried while away may not have arrived.
    if (ready) this.#restartLoop();
  }

  close(): void {
    this.#closed = true;
    this.#clearTimers();
  }

  #broke(): void {
    if (this.#broken) return;
    this.#broken = true;
    this.#giveUpTimer = setTimeout(() => this.#giveUp(), this.#options.giveUpMs);
    this.#restartLoop();
  }

  /**
   * A call that never connected gets one restart (by the caller) before it counts as failed;
   * the callee gives up when the restarted attempt fails too.
   */
  #failedBeforeConnect(): void {
    this.#failuresBeforeConnect += 1;
    if (this.#failuresBeforeConnect >= 2) return this.#giveUp();
    if (this.#giveUpTimer === undefined)
      this.#giveUpTimer = setTimeout(() => this.#giveUp(), this.#options.giveUpMs);
    if (this.#options.initiator) this.#restartNow();
  }

  /** Restart now, and again after the backoff for as long as ICE stays broken. */
  #restartLoop(): void {
    clearTimeout(this.#retryTimer);
    this.#retryTimer = undefined;
    if (!this.#options.initiator || !this.#signalingReady || !this.#broken || this.#closed) return;
    this.#restartNow();
    this.#retryTimer = setTimeout(
      () => this.#restartLoop(),
      this.#options.retryDelayMs(this.#attempt),
    );
  }

  #restartNow(): void {
    this.#attempt += 1;
    this.#actions.restart();
  }

  #recovered(): void {
    this.#connectedOnce = true;
    this.#broken = false;
    this.#attempt = 0;
    this.#failuresBeforeConnect = 0;
    this.#clearTimers();
  }

  #giveUp(): void {
    if (this.#closed) return;
    this.close();
    this.#actions.giveUp();
  }

  #clearTimers(): void {
    clearTimeout(this.#graceTimer);
    clearTimeout(this.#retryTimer);
    clearTimeout(this.#giveUpTimer);
    this.#graceTimer = undefined;
    this.#retryTimer = undefined;
    this.#giveUpTimer = undefined;
  }
}
