/**
 * A live graph of call quality on a <canvas>: bitrate in and out, round-trip time and packet
 * loss over the last two minutes, one strip per measure with its own scale. The current values
 * are also written as text next to the graph, which is what screen readers get (the canvas is
 * decorative for them).
 */
import type { StatsSample } from '@callwire/client';
import { h } from '../dom.js';

const WINDOW = 120; // samples kept (the SDK samples about once a second)

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
    const step = cssWidth / (WINDOW - 1);
    ctx.font = '11px system-ui, sans-serif';
    ctx.lineWidth = 1.5;
    SERIES.forEach((series, index) => {
      const top = index * strip;
      const bottom = top + strip - 6;
      const height = bottom - (top + 16);
      let max = series.minScale;
      for (const s of this.samples) {
        for (const line of series.lines) max = Math.max(max, line.pick(s) ?? 0);
      }
      max *= 1.15;
      ctx.strokeStyle = 'rgba(148, 163, 184, 0.25)';
      ctx.beginPath();
      ctx.moveTo(0, bottom + 0.5);
      ctx.lineTo(cssWidth, bottom + 0.5);
      ctx.stroke();
      ctx.fillStyle = 'rgba(203, 213, 225, 0.9)';
      ctx.fillText(`${series.label} (max ${series.format(max)} ${series.unit})`, 2, top + 11);
      const offset = WINDOW - this.samples.length;
      for (const line of series.lines) {
        ctx.strokeStyle = line.color;
        ctx.beginPath();
        let drawing = false;
        this.samples.forEach((s, i) => {
          const v = line.pick(s);
          if (v === null) {
            drawing = false;
            return;
          }
          const x = (offset + i) * step;
          const y = bottom - (v / max) * height;
          if (drawing) ctx.lineTo(x, y);
          else ctx.moveTo(x, y);
          drawing = true;
        });
        ctx.stroke();
      }
    });
  }
}
