/**
 * Ring and ringback tones synthesized with WebAudio, so the app ships no audio files.
 *
 * Browsers start an AudioContext suspended until the user has interacted with the page; call
 * `unlock()` from a click handler (the sign-in button) so an incoming call can ring later.
 */

export type ToneKind = 'ring' | 'ringback' | 'waiting';

type Pattern = { periodMs: number; schedule: (ctx: AudioContext, out: AudioNode, at: number) => void };

const PATTERNS: Record<ToneKind, Pattern> = {
  // Incoming: a bright two-tone trill, 1.2 s every 3 s, like a desk phone.
  ring: {
    periodMs: 3000,
    schedule(ctx, out, at) {
      for (let i = 0; i < 20; i++) {
        beep(ctx, out, i % 2 === 0 ? 880 : 660, at + i * 0.06, 0.06, 0.16);
      }
    },
  },
  // Call waiting: two short, quiet beeps every 5 s, heard over the call without drowning it.
  waiting: {
    periodMs: 5000,
    schedule(ctx, out, at) {
      beep(ctx, out, 440, at, 0.15, 0.06);
      beep(ctx, out, 440, at + 0.3, 0.15, 0.06);
    },
  },
  // Outgoing: one soft 425 Hz tone every 4 s, the ringback most of the world knows.
  ringback: {
    periodMs: 4000,
    schedule(ctx, out, at) {
      beep(ctx, out, 425, at, 1.0, 0.08);
    },
  },
};

function beep(ctx: AudioContext, out: AudioNode, hz: number, at: number, seconds: number, level: number): void {
  const osc = ctx.createOscillator();
  const gain = ctx.createGain();
  osc.type = 'sine';
  osc.frequency.value = hz;
  // Short ramps at both ends avoid audible clicks.
  gain.gain.setValueAtTime(0, at);
  gain.gain.linearRampToValueAtTime(level, at + 0.01);
  gain.gain.setValueAtTime(level, at + seconds - 0.01);
  gain.gain.linearRampToValueAtTime(0, at + seconds);
  osc.connect(gain).connect(out);
  osc.start(at);
  osc.stop(at + seconds + 0.02);
}

export class Ringtone {
  private ctx: AudioContext | null = null;
  private master: GainNode | null = null;
  private timer: ReturnType<typeof setInterval> | null = null;
  private current: ToneKind | null = null;

  /** Create (or resume) the audio context; call from a user gesture. */
  unlock(): void {
    const ctx = this.context();
    if (ctx && ctx.state === 'suspended') void ctx.resume().catch(() => undefined);
  }

  get playing(): ToneKind | null {
    return this.current;
  }

  /** Whether sound can actually be heard (the context is running). */
  get audible(): boolean {
    return this.ctx?.state === 'running';
  }

  start(kind: ToneKind): void {
    if (this.current === kind) return;
    this.stop();
    const ctx = this.context();
    if (!ctx || !this.master) return;
    if (ctx.state === 'suspended') void ctx.resume().catch(() => undefined);
    this.current = kind;
    const pattern = PATTERNS[kind];
    this.master.gain.cancelScheduledValues(ctx.currentTime);
    this.master.gain.setValueAtTime(1, ctx.currentTime);
    const master = this.master;
    const play = (): void => {
      pattern.schedule(ctx, master, ctx.currentTime + 0.05);
      // Phones also buzz for an incoming call (ignored where vibration is unsupported).
      if (kind === 'ring') navigator.vibrate?.([400, 200, 400]);
    };
    play();
    this.timer = setInterval(play, pattern.periodMs);
  }

  stop(): void {
    if (this.current === 'ring') navigator.vibrate?.(0);
    if (this.timer !== null) clearInterval(this.timer);
    this.timer = null;
    this.current = null;
    // Silence tones already scheduled for the current period.
    if (this.ctx && this.master) {
      this.master.gain.cancelScheduledValues(this.ctx.currentTime);
      this.master.gain.setValueAtTime(0, this.ctx.currentTime);
    }
  }

  close(): void {
    this.stop();
    const ctx = this.ctx;
    this.ctx = null;
    this.master = null;
    if (ctx) void ctx.close().catch(() => undefined);
  }

  private context(): AudioContext | null {
    if (this.ctx) return this.ctx;
    if (typeof AudioContext !== 'function') return null;
    this.ctx = new AudioContext();
    this.master = this.ctx.createGain();
    this.master.connect(this.ctx.destination);
    return this.ctx;
  }
}
