/**
 * A call that is ringing for us. Nothing about our network leaves before `accept()`: the
 * caller's offer only arrives after the server has seen the accept (invite-first flow).
 */
import type { ClientMessage, EndReason, ServerMessage, ServerMessageMap } from '@callwire/protocol';
import type { Call, CallInit } from './call.js';
import type { CallOptions, PreparedMedia } from './call-types.js';
import { Emitter, type Unsubscribe } from './emitter.js';
import { CallwireError, InvalidStateError } from './errors.js';

/** @internal What an incoming call needs from its client. */
export interface IncomingContext {
  prepare(options: CallOptions): Promise<PreparedMedia>;
  request<T>(msg: ClientMessage, onReply: (reply: ServerMessage) => T): Promise<T>;
  send(msg: ClientMessage): boolean;
  createCall(init: CallInit): Call;
  /** The calls we are in now. */
  calls(): readonly Call[];
  settled(incoming: IncomingCall): void;
}

/**
 * Events of an {@link IncomingCall}.
 *
 * @example
 * ```ts
 * incoming.on('cancelled', (reason, missed) => missed && addMissedCall(incoming.from));
 * ```
 */
export interface IncomingCallEvents {
  /** The call stopped ringing before we answered: `cancelled` (caller gave up), `disconnected`... */
  cancelled: (reason: EndReason, missed: boolean) => void;
  /** The call was answered: by `accept()`, or merged with our own call to the same person. */
  accepted: (call: Call) => void;
}

/**
 * Where an incoming call is: ringing, being accepted (waiting for the camera prompt or the
 * server), accepted, declined, or cancelled.
 *
 * @example
 * ```ts
 * if (incoming.state === 'ringing') ringtone.play();
 * ```
 */
export type IncomingCallState = 'ringing' | 'accepting' | 'accepted' | 'declined' | 'cancelled';

/**
 * Somebody is calling (the `incoming` event of the client).
 *
 * @example
 * ```ts
 * client.on('incoming', (incoming) => {
 *   if (!confirm(`${incoming.from} is calling. Answer?`)) return incoming.decline();
 *   incoming.accept({ audio: true, video: incoming.media.video ?? true }).then(showCall, showError);
 * });
 * ```
 */
export class IncomingCall {
  readonly callId: string;
  /** The caller's name, as the server knows it. */
  readonly from: string;
  /** What the caller asked for. */
  readonly media: { audio?: boolean; video?: boolean };
  readonly #waiting: boolean;
  #state: IncomingCallState = 'ringing';
  #media: PreparedMedia | null = null;
  #waiter: { resolve: (call: Call) => void; reject: (err: Error) => void } | null = null;
  readonly #events = new Emitter<IncomingCallEvents>();
  readonly #ctx: IncomingContext;

  /** @internal Made by the client for each `incoming` message. */
  constructor(ctx: IncomingContext, msg: ServerMessageMap['incoming']) {
    this.#ctx = ctx;
    this.callId = msg.callId;
    this.from = msg.from;
    this.media = { ...msg.media };
    this.#waiting = msg.waiting === true;
  }

  /**
   * The call rings while we are in another one (call waiting, with the `callWaiting` option).
   * Answer with `holdAndAccept()` or `endAndAccept()`; `accept()` alone is refused by the
   * server while the other call goes on. Once that call has ended this is false again, and
   * the call is an ordinary incoming one.
   */
  get waiting(): boolean {
    return this.#waiting && this.#ctx.calls().some((c) => c.state !== 'ended');
  }

  get state(): IncomingCallState {
    return this.#state;
  }

  on<E extends keyof IncomingCallEvents>(event: E, listener: IncomingCallEvents[E]): Unsubscribe {
    return this.#events.on(event, listener);
  }

  /**
   * Answer: capture media (the browser may ask for permission), tell the server, and resolve
   * with the Call once the server confirms. If capture fails the call keeps ringing.
   */
  async accept(options: CallOptions = {}): Promise<Call> {
    return this.#accept(options, () => {});
  }

  /**
   * Call waiting: put the call we are in on hold and answer this one, once this one's media is
   * captured (a refused camera leaves the first call as it was). Take the first call back
   * later with its `resume()`.
   *
   * @example
   * ```ts
   * const first = client.calls[0];
   * const second = await incoming.holdAndAccept({ video: false });
   * second.on('ended', () => first?.resume());
   * ```
   */
  async holdAndAccept(options: CallOptions = {}): Promise<Call> {
    return this.#accept(options, () => {
      for (const call of this.#ctx.calls()) if (call.state !== 'ended') call.hold();
    });
  }

  /**
   * Call waiting: hang up the call we are in and answer this one, once this one's media is
   * captured.
   *
   * @example
   * ```ts
   * endAndAcceptButton.onclick = () => incoming.endAndAccept().then(showCall);
   * ```
   */
  async endAndAccept(options: CallOptions = {}): Promise<Call> {
    return this.#accept(options, () => {
      for (const call of this.#ctx.calls()) if (call.state !== 'ended') call.hangup();
    });
  }

  async #accept(options: CallOptions, before: () => void): Promise<Call> {
    if (this.#state !== 'ringing')
      throw new InvalidStateError(`cannot accept a call that is ${this.#state}`);
    this.#state = 'accepting';
    let media: PreparedMedia;
    try {
      media = await this.#ctx.prepare(options);
    } catch (err) {
      if (this.#state === 'accepting') this.#state = 'ringing';
      throw err;
    }
    if (this.#state !== 'accepting') {
      stopOwned(media);
      throw new CallwireError(
        'call_ended',
        'The call stopped ringing while media was being captured.',
      );
    }
    this.#media = media;
    before();
    return new Promise<Call>((resolve, reject) => {
      this.#waiter = { resolve, reject };
      const msg: ClientMessage = { type: 'accept', callId: this.callId, media: media.intent };
      this.#ctx
        .request(msg, (reply) => {
          if (reply.type === 'accepted') this.answered(reply);
          else if (reply.type === 'leave') this.cancelled(reply.reason, reply.missed === true);
        })
        .catch((err: unknown) => {
          if (this.#state !== 'accepting') return;
          this.#finish('ringing');
          stopOwned(media);
          this.#media = null;
          reject(err instanceof Error ? err : new CallwireError('protocol_error'));
        });
    });
  }

  /**
   * Refuse the call; the caller's call ends with `declined` (or `busy`: the default for a
   * waiting call, since we are in another one). Idempotent.
   */
  decline(reason: 'declined' | 'busy' = this.waiting ? 'busy' : 'declined'): void {
    if (this.#state !== 'ringing' && this.#state !== 'accepting') return;
    this.#ctx.send({ type: 'decline', callId: this.callId, reason });
    this.#waiter?.reject(new CallwireError('call_ended', 'The call was declined.'));
    this.#finish('declined');
    this.#events.clear();
  }

  /**
   * @internal The server says the call is accepted: our own accept, or our invite to the same
   * person merged into this call.
   */
  answered(msg: ServerMessageMap['accepted'], mergedMedia?: PreparedMedia): Call | null {
    if (this.#state !== 'ringing' && this.#state !== 'accepting') return null;
    const media = mergedMedia ??
      this.#media ?? { stream: null, owned: false, intent: { audio: false, video: false } };
    if (mergedMedia !== undefined && this.#media !== null) stopOwned(this.#media);
    this.#media = null;
    const call = this.#ctx.createCall({
      id: msg.callId,
      peer: msg.name,
      role: msg.role,
      state: 'connecting',
      media,
    });
    const waiter = this.#waiter;
    this.#finish('accepted');
    waiter?.resolve(call);
    this.#events.emit('accepted', call);
    this.#events.clear();
    return call;
  }

  /** @internal The call stopped ringing (caller cancelled, ring timeout, disconnect). */
  cancelled(reason: EndReason, missed: boolean): void {
    if (this.#state !== 'ringing' && this.#state !== 'accepting') return;
    const waiter = this.#waiter;
    if (this.#media !== null) stopOwned(this.#media);
    this.#media = null;
    this.#finish('cancelled');
    waiter?.reject(new CallwireError('call_ended', `The call ended (${reason}).`));
    this.#events.emit('cancelled', reason, missed);
    this.#events.clear();
  }

  #finish(state: IncomingCallState): void {
    this.#state = state;
    this.#waiter = null;
    if (state !== 'ringing') this.#ctx.settled(this);
  }
}

function stopOwned(media: PreparedMedia): void {
  if (media.owned) for (const t of media.stream?.getTracks() ?? []) t.stop();
}
