/**
 * Short messages about what just happened ("bob declined the call"), shown at the bottom of the
 * screen and announced by screen readers through a polite live region. Errors stay until
 * dismissed; the rest fade after a while.
 */
import { h } from '../dom.js';
import { icon } from '../icons.js';
import type { Notice } from '../messages.js';

const AUTO_HIDE_MS = 8000;

export class Notices {
  constructor(private readonly region: HTMLElement) {
    region.classList.add('notices');
    region.setAttribute('role', 'status');
    region.setAttribute('aria-live', 'polite');
  }

  show(notice: Notice): void {
    const text = h('span', { class: 'notice-text' }, notice.text);
    const item = h('div', { class: `notice notice-${notice.tone}` }, text);
    const dismiss = h(
      'button',
      { type: 'button', class: 'icon-button notice-close', 'aria-label': 'Dismiss message', onclick: () => item.remove() },
      icon('close'),
    );
    item.appendChild(dismiss);
    this.region.appendChild(item);
    // Keep at most three on screen.
    while (this.region.children.length > 3) this.region.firstElementChild?.remove();
    if (notice.tone !== 'error') setTimeout(() => item.remove(), AUTO_HIDE_MS);
  }

  clear(): void {
    this.region.replaceChildren();
  }
}

/**
 * A persistent strip at the top of the page for conditions that last: no secure context, the
 * connection to the server lost.
 */
export class Banners {
  private readonly items = new Map<string, HTMLElement>();

  constructor(private readonly region: HTMLElement) {
    region.classList.add('banners');
  }

  set(id: string, text: string, tone: 'warn' | 'error', action?: { label: string; run: () => void }): void {
    this.remove(id);
    const item = h(
      'div',
      { class: `banner banner-${tone}`, role: 'alert', 'data-banner': id },
      icon('warning'),
      h('span', { class: 'banner-text' }, text),
      action ? h('button', { type: 'button', class: 'button button-small', onclick: action.run }, action.label) : null,
    );
    this.items.set(id, item);
    this.region.appendChild(item);
  }

  remove(id: string): void {
    this.items.get(id)?.remove();
    this.items.delete(id);
  }
}
