/**
 * A three-bar connection quality badge derived from the latest stats sample: round-trip time
 * and packet loss, the two measures people actually hear and see.
 */
import type { StatsSample } from '@callwire/client';
import { h } from '../dom.js';

export type Quality = 'good' | 'fair' | 'poor' | 'unknown';

export function qualityOf(sample: StatsSample): Quality {
  const rtt = sample.rttMs;
  const loss = sample.packetLoss;
  if (rtt === null && sample.bitrateInKbps === 0) return 'unknown';
  if (loss > 0.08 || (rtt !== null && rtt > 400)) return 'poor';
  if (loss > 0.02 || (rtt !== null && rtt > 150)) return 'fair';
  return 'good';
}

const LABEL: Record<Quality, string> = {
  good: 'Good connection',
  fair: 'Fair connection',
  poor: 'Poor connection',
  unknown: 'Measuring connection…',
};

export class QualityIndicator {
  readonly root: HTMLElement;
  private readonly text: HTMLElement;

  constructor() {
    this.text = h('span', { class: 'quality-text' }, LABEL.unknown);
    this.root = h(
      'span',
      { class: 'quality quality-unknown', role: 'img', 'aria-label': LABEL.unknown },
      h('span', { class: 'bars', 'aria-hidden': 'true' }, h('span', {}), h('span', {}), h('span', {})),
      this.text,
    );
  }

  update(sample: StatsSample): void {
    const quality = qualityOf(sample);
    const route = sample.path === 'relay' ? ' (relayed)' : '';
    const label = `${LABEL[quality]}${route}`;
    this.root.className = `quality quality-${quality}`;
    this.root.setAttribute('aria-label', label);
    this.text.textContent = label;
  }
}
