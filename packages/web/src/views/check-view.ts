/** The "Test my connection" screen: one row per check, then the verdict in plain words. */
import type { ConnectivityVerdict } from '@callwire/client';
import { h } from '../dom.js';
import { icon } from '../icons.js';

export interface CheckRow {
  label: string;
  outcome: 'ok' | 'failed' | 'not_tested';
  text: string;
}

export class CheckView {
  readonly root: HTMLElement;
  private readonly heading = h('h1', { tabindex: '-1' }, 'Test my connection');
  private readonly list = h('dl', { class: 'check-list', 'aria-label': 'Checks' });
  private readonly verdict = h('p', {
    class: 'lead check-verdict',
    role: 'status',
    'aria-live': 'polite',
  });
  private readonly again: HTMLButtonElement;

  constructor(retry: () => void) {
    this.again = h(
      'button',
      { type: 'button', class: 'button button-primary', onclick: retry },
      'Test again',
    );
    this.root = h(
      'section',
      { class: 'screen message-screen' },
      h(
        'div',
        { class: 'card message-card' },
        h('span', { class: 'brand-mark brand-mark-large' }, icon('phone')),
        this.heading,
        h(
          'p',
          { class: 'hint' },
          'What your network lets through to this call server, checked from this browser.',
        ),
        this.list,
        this.verdict,
        h(
          'div',
          { class: 'message-actions' },
          this.again,
          h('a', { class: 'button button-secondary', href: '/' }, 'Back to callwire'),
        ),
      ),
    );
  }

  focus(): void {
    this.heading.focus();
  }

  checking(): void {
    this.again.disabled = true;
    this.list.replaceChildren();
    this.verdict.dataset['kind'] = 'checking';
    this.verdict.textContent = 'Checking your connection…';
  }

  done(rows: readonly CheckRow[], verdict: ConnectivityVerdict): void {
    this.list.replaceChildren(
      ...rows.flatMap((row) => [
        h('dt', {}, row.label),
        h('dd', { class: `check-${row.outcome}`, 'data-outcome': row.outcome }, row.text),
      ]),
    );
    this.verdict.dataset['kind'] = verdict.kind;
    this.verdict.textContent = verdict.text;
    this.again.disabled = false;
  }
}
