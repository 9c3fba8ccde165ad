/**
 * One call on screen, from the moment the person dials (or accepts) to the moment the screen
 * goes away: it owns the CallView, the ringback tone, and turns the SDK's end reason into a
 * summary for history and a message for the person.
 */
import type { Call } from '@callwire/client';
import { applyCapturePolicy } from './capture-policy.js';
import { endNotice, errorText, type EndReason, type Notice } from './messages.js';
import type { Ringtone } from './ringtone.js';
import type { Shortcuts } from './shortcuts.js';
import { CallView } from './views/call-view.js';
import type { ScreenHost } from './views/screen-host.js';

export type CallSummary = {
  /** The server's call id ('' when there was no call). */
  callId: string;
  peer: string;
  direction: 'in' | 'out';
  video: boolean;
  startedAt: number;
  connectedMs: number;
  reason: EndReason;
  endedByMe: boolean;
};

export type SessionOptions = {
  host: ScreenHost;
  ringtone: Ringtone;
  shortcuts: Shortcuts;
  me: string;
  peer: string;
  direction: 'in' | 'out';
  /**
   * Take the direction from the Call once it is here (a call taken back after a reload, or
   * moved here from another device: who called whom is the Call's role).
   */
  directionFromCall?: boolean;
  video: boolean;
  room?: string;
  /**
   * The call ended (or never started); the notice is what the person should read. `onScreen`:
   * the call screen stays (with its transcript) and already says it, so it needs no toast too.
   */
  onEnded: (summary: CallSummary | null, notice: Notice, onScreen: boolean) => void;
  /** The screen should go away (right away, or after "Done" on a kept transcript). */
  onLeave: () => void;
};

export class CallSession {
  readonly view: CallView;
  private call: Call | null = null;
  private readonly startedAt = Date.now();
  private hangupRequested = false;
  private finished = false;
  private offs: Array<() => void> = [];

  constructor(private readonly opts: SessionOptions) {
    this.view = new CallView({
      peer: opts.peer,
      me: opts.me,
      shortcuts: opts.shortcuts,
      ...(opts.room !== undefined ? { room: opts.room } : {}),
      onHangup: () => this.hangup(),
      onClose: () => this.leave(),
    });
  }

  /** Who this call is with (as dialled; the SDK's name once the call exists). */
  get peer(): string {
    return this.call?.peer || this.opts.peer;
  }

  get active(): boolean {
    return !this.finished;
  }

  show(): void {
    const title = this.opts.room ? 'Meeting' : `Call with ${this.opts.peer}`;
    this.opts.host.show(this.view, title);
    this.view.resumePlayback();
  }

  attach(call: Call): void {
    if (this.finished) {
      // The person cancelled before the SDK handed the call over.
      call.hangup();
      return;
    }
    this.call = call;
    this.view.attach(call);
    this.offs.push(applyCapturePolicy(call));
    this.offs.push(call.on('stateChanged', (state) => this.onState(state)));
    this.offs.push(call.on('ended', (reason) => this.finish(reason)));
    if (this.hangupRequested) call.hangup();
    if (call.state === 'ended') this.finish(call.endReason ?? 'hangup');
    else this.onState(call.state);
  }

  /**
   * dial or accept failed before there was a call (bad name, no camera, server refusal).
   * `notice`: what to say instead of the error's own text, when the app knows better.
   */
  fail(err: unknown, notice?: Notice): void {
    if (this.finished) return;
    this.finished = true;
    this.stopTones();
    this.opts.onEnded(null, notice ?? { text: errorText(err), tone: 'error' }, false);
    this.leave();
  }

  hangup(): void {
    this.hangupRequested = true;
    if (this.call) {
      this.call.hangup();
      return;
    }
    // No call object yet: end the screen now; attach() hangs up when the call arrives.
    if (this.finished) return;
    this.finished = true;
    this.stopTones();
    this.opts.onEnded(null, { text: 'Call cancelled.', tone: 'info' }, false);
    this.leave();
  }

  private onState(state: Call['state']): void {
    if (state === 'ringing' && this.call?.role === 'caller') this.opts.ringtone.start('ringback');
    else if (this.opts.ringtone.playing === 'ringback') this.opts.ringtone.stop();
  }

  private finish(reason: EndReason): void {
    if (this.finished) return;
    this.finished = true;
    this.stopTones();
    const call = this.call;
    const direction =
      this.opts.directionFromCall && call ? (call.role === 'caller' ? 'out' : 'in') : this.opts.direction;
    const summary: CallSummary = {
      callId: call?.id ?? '',
      peer: call?.peer || this.opts.peer,
      direction,
      video: this.opts.video,
      startedAt: this.startedAt,
      connectedMs: this.view.connectedMs,
      reason,
      endedByMe: this.hangupRequested,
    };
    const notice = endNotice(reason, summary.peer, call?.role ?? (this.opts.direction === 'out' ? 'caller' : 'callee'), summary.connectedMs, this.hangupRequested, call?.connectivity ?? null);
    // Keep the screen when something was said or sent, so received files can still be saved;
    // a call moved to another device goes on there, with its chat, so this one just leaves.
    const keep = this.view.hasTranscript && reason !== 'moved';
    this.opts.onEnded(summary, notice, keep);
    for (const off of this.offs.splice(0)) off();
    if (keep) this.view.showEnded(notice);
    else this.leave();
  }

  private stopTones(): void {
    if (this.opts.ringtone.playing === 'ringback') this.opts.ringtone.stop();
  }

  private leave(): void {
    for (const off of this.offs.splice(0)) off();
    this.opts.onLeave();
  }
}
