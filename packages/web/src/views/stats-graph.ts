/**
 * A live graph of call quality on a <canvas>: bitrate in and out, round-trip time and packet
 * loss over the last minute and a half, one strip per measure with its own scale. The current values
 * are also written as text next to the graph, which is what screen readers get (the canvas is
 * decorative for them).
 */
import type { StatsSample } from '@callwire/client';
import { h } from '../dom.js';

const WINDOW = 90; // samples kept (the SDK samples once a second: the last minute and a half)
const MIN_SPAN = 30; // a young call's graph spans 30 s, then scrolls once it has more

type Series = {
  label: string;
  unit: string;
  lines: Array<{ color: string; pick: (s: StatsSample) => number | null }>;
  /** Lowest full scale, so a quiet line does not fill the strip. */
  minScale: number;
  format: (v: number) => string;
};

const SERIES: Series[] = [
  {
    label: 'Bitrate',
    unit: 'kbps',
    lines: [
      { color: '#38bdf8', pick: (s) => s.bitrateInKbps },
      { color: '#a78bfa', pick: (s) => s.bitrateOutKbps },
    ],
    minScale: 100,
    format: (v) => v.toFixed(0),
  },
  { label: 'Round trip', unit: 'ms', lines: [{ color: '#fbbf24', pick: (s) => s.rttMs }], minScale: 50, format: (v) => v.toFixed(0) },
  {
    label: 'Packet loss',
    unit: '%',
    lines: [{ color: '#f87171', pick: (s) => s.packetLoss * 100 }],
    minScale: 5,
    format: (v) => v.toFixed(1),
  },
];

export class StatsGraph {
  readonly root: HTMLElement;
  private readonly canvas: HTMLCanvasElement;
  private readonly values: Record<string, HTMLElement>;
  private readonly samples: StatsSample[] = [];
  private visible = false;

  constructor() {
    this.canvas = h('canvas', { class: 'stats-canvas', 'aria-hidden': 'true', width: 320, height: 240 });
    const value = (key: string): HTMLElement => h('dd', { 'data-stat': key }, '–');
    this.values = {
      in: value('in'),
      out: value('out'),
      rtt: value('rtt'),
      loss: value('loss'),
      jitter: value('jitter'),
      fps: value('fps'),
      path: value('path'),
    };
    const row = (label: string, key: string, swatch?: string): HTMLElement[] => {
      const dt = h('dt', {}, label);
      if (swatch) {
        const dot = h('span', { class: 'swatch', 'aria-hidden': 'true' });
        dot.style.setProperty('background', swatch);
        dt.prepend(dot);
      }
      return [dt, this.values[key] as HTMLElement];
    };
    this.root = h(
      'div',
      { class: 'stats-panel' },
      this.canvas,
      h(
        'dl',
        { class: 'stats-values', 'aria-label': 'Connection statistics' },
        ...row('Receiving', 'in', '#38bdf8'),
        ...row('Sending', 'out', '#a78bfa'),
        ...row('Round trip', 'rtt', '#fbbf24'),
        ...row('Packet loss', 'loss', '#f87171'),
        ...row('Jitter', 'jitter'),
        ...row('Frame rate', 'fps'),
        ...row('Route', 'path'),
      ),
    );
  }

  push(sample: StatsSample): void {
    this.samples.push(sample);
    if (this.samples.length > WINDOW) this.samples.shift();
    this.setValue('in', `${sample.bitrateInKbps.toFixed(0)} kbps`);
    this.setValue('out', `${sample.bitrateOutKbps.toFixed(0)} kbps`);
    this.setValue('rtt', sample.rttMs === null ? '–' : `${sample.rttMs.toFixed(0)} ms`);
    this.setValue('loss', `${(sample.packetLoss * 100).toFixed(1)} %`);
    this.setValue('jitter', sample.jitterMs === null ? '–' : `${sample.jitterMs.toFixed(0)} ms`);
    this.setValue('fps', sample.framesPerSecond === null ? '–' : `${sample.framesPerSecond.toFixed(0)} fps`);
    this.setValue('path', sample.path === 'direct' ? 'Direct' : sample.path === 'relay' ? 'Relayed (TURN)' : 'Unknown');
    if (this.visible) this.draw();
  }

  setVisible(visible: boolean): void {
    this.visible = visible;
    if (visible) this.draw();
  }

  private setValue(key: string, text: string): void {
    const el = this.values[key];
    if (el) el.textContent = text;
  }

  private draw(): void {
    const canvas = this.canvas;
    const ratio = window.devicePixelRatio || 1;
    const cssWidth = canvas.clientWidth || 320;
    const cssHeight = canvas.clientHeight || 240;
    if (canvas.width !== Math.round(cssWidth * ratio) || canvas.height !== Math.round(cssHeight * ratio)) {
      canvas.width = Math.round(cssWidth * ratio);
      canvas.height = Math.round(cssHeight * ratio);
    }
    const ctx = canvas.getContext('2d');
    if (!ctx) return;
    ctx.setTransform(ratio, 0, 0, ratio, 0, 0);
    ctx.clearRect(0, 0, cssWidth, cssHeight);
    const strip = cssHeight / SERIES.length;
    const span = Math.max(MIN_SPAN, this.samples.length);
    const step = cssWidth / (span - 1);
    ctx.font = '600 11px system-ui, sans-serif';
    ctx.lineWidth = 1.75;
    ctx.lineJoin = 'round';
    SERIES.forEach((series, index) => {
      const top = index * strip;
      const bottom = top + strip - 6;
      const height = bottom - (top + 16);
      let max = series.minScale;
      for (const s of this.samples) {
        for (const line of series.lines) max = Math.max(max, line.pick(s) ?? 0);
      }
      max *= 1.15;
      // Baseline and a mid-scale guide.
      ctx.strokeStyle = 'rgba(148, 163, 184, 0.28)';
      ctx.beginPath();
      ctx.moveTo(0, bottom + 0.5);
      ctx.lineTo(cssWidth, bottom + 0.5);
      ctx.stroke();
      ctx.strokeStyle = 'rgba(148, 163, 184, 0.1)';
      ctx.beginPath();
      ctx.moveTo(0, Math.round(bottom - height / 2) + 0.5);
      ctx.lineTo(cssWidth, Math.round(bottom - height / 2) + 0.5);
      ctx.stroke();
      // Title with the latest value on the left, the scale's top on the right.
      const last = this.samples[this.samples.length - 1];
      const now = last
        ? series.lines.map((l) => l.pick(last)).map((v) => (v === null ? '–' : series.format(v))).join(' / ')
        : '–';
      ctx.textAlign = 'left';
      ctx.fillStyle = 'rgba(226, 232, 240, 0.92)';
      ctx.fillText(`${series.label}  ${now} ${series.unit}`, 4, top + 12);
      ctx.textAlign = 'right';
      ctx.fillStyle = 'rgba(148, 163, 184, 0.7)';
      ctx.fillText(series.format(max), cssWidth - 4, top + 12);
      const offset = span - this.samples.length;
      for (const line of series.lines) {
        const points: Array<[number, number] | null> = this.samples.map((s, i) => {
          const v = line.pick(s);
          return v === null ? null : [(offset + i) * step, bottom - (Math.min(v, max) / max) * height];
        });
        // A faint area under the line makes a short history readable at a glance.
        ctx.fillStyle = `${line.color}22`;
        ctx.strokeStyle = line.color;
        let run: Array<[number, number]> = [];
        const flush = (): void => {
          if (run.length === 0) return;
          const first = run[0] as [number, number];
          const lastPoint = run[run.length - 1] as [number, number];
          ctx.beginPath();
          ctx.moveTo(first[0], bottom);
          for (const [x, y] of run) ctx.lineTo(x, y);
          ctx.lineTo(lastPoint[0], bottom);
          ctx.closePath();
          ctx.fill();
          ctx.beginPath();
          run.forEach(([x, y], i) => (i === 0 ? ctx.moveTo(x, y) : ctx.lineTo(x, y)));
          ctx.stroke();
          run = [];
        };
        for (const p of points) {
          if (p === null) flush();
          else run.push(p);
        }
        flush();
      }
    });
  }
}
