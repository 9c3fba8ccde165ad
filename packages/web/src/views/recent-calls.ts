/**
 * Missed and recent calls from this browser's history, each with call-back buttons. Opening
 * the home screen marks missed calls as seen once they have been on screen.
 */
import type { CallHistory, CallRecord } from '../call-history.js';
import { avatar } from '../avatar.js';
import { Disposer, formatDuration, h, replaceChildren, setShown } from '../dom.js';
import { icon } from '../icons.js';
import type { CallAction } from './online-list.js';

const OUTCOME_TEXT: Record<string, string> = {
  declined: 'Declined',
  busy: 'Busy',
  no_answer: 'No answer',
  cancelled: 'Cancelled',
  unavailable: 'Unavailable',
  disconnected: 'Dropped',
  failed: 'Failed',
  moved: 'Moved to another device',
};

export class RecentCalls {
  readonly root: HTMLElement;
  private readonly missedSection: HTMLElement;
  private readonly missedList: HTMLUListElement;
  private readonly missedBadge: HTMLElement;
  private readonly recentList: HTMLUListElement;
  private readonly empty: HTMLElement;
  private readonly disposer = new Disposer();

  constructor(
    private readonly history: CallHistory,
    private readonly onCall: CallAction,
  ) {
    this.missedBadge = h('span', { class: 'badge', hidden: true });
    this.missedList = h('ul', { class: 'history-list', 'aria-labelledby': 'missed-title' });
    this.missedSection = h(
      'div',
      { class: 'history-group missed-calls', hidden: true },
      h('h3', { id: 'missed-title' }, 'Missed calls ', this.missedBadge),
      this.missedList,
    );
    this.recentList = h('ul', { class: 'history-list', 'aria-labelledby': 'recent-title' });
    this.empty = h('p', { class: 'empty' }, 'No calls yet.');
    const clear = h(
      'button',
      { type: 'button', class: 'button button-ghost button-small', onclick: () => history.clear() },
      'Clear',
    );
    this.root = h(
      'section',
      { class: 'card history-card', 'aria-labelledby': 'history-title' },
      h('div', { class: 'card-head' }, h('h2', { id: 'history-title' }, 'Calls'), clear),
      this.missedSection,
      h('div', { class: 'history-group' }, h('h3', { id: 'recent-title' }, 'Recent calls'), this.recentList, this.empty),
    );
    this.disposer.add(history.onChange(() => this.render()));
    this.render();
  }

  dispose(): void {
    this.disposer.dispose();
  }

  private render(): void {
    const records = this.history.list();
    const missed = records.filter((r) => r.missed).slice(0, 10);
    const unseen = missed.filter((r) => !r.seen).length;
    replaceChildren(this.missedList, ...missed.map((r) => this.item(r)));
    setShown(this.missedSection, missed.length > 0);
    this.missedBadge.textContent = unseen > 0 ? `${unseen} new` : '';
    setShown(this.missedBadge, unseen > 0);
    const recent = records.filter((r) => !r.missed).slice(0, 15);
    replaceChildren(this.recentList, ...recent.map((r) => this.item(r)));
    setShown(this.empty, recent.length === 0);
  }

  private item(record: CallRecord): HTMLLIElement {
    const dirIcon = record.missed ? 'missed' : record.direction === 'in' ? 'incomingArrow' : 'outgoingArrow';
    const dirText = record.missed ? 'Missed' : record.direction === 'in' ? 'Incoming' : 'Outgoing';
    const outcome =
      record.missed ? (record.video ? 'Video call' : 'Voice call')
      : record.durationMs > 0 ? formatDuration(record.durationMs)
      : OUTCOME_TEXT[record.outcome] ?? record.outcome;
    const when = new Date(record.at);
    return h(
      'li',
      { class: `history-item${record.missed ? ' is-missed' : ''}${record.missed && !record.seen ? ' is-new' : ''}` },
      avatar(record.peer),
      h(
        'span',
        { class: 'history-main' },
        h('span', { class: 'user-name' }, record.peer),
        h(
          'span',
          { class: 'history-meta' },
          icon(dirIcon, 'icon icon-inline'),
          h('span', { class: 'visually-hidden' }, `${dirText} `),
          `${outcome} · `,
          h('time', { datetime: when.toISOString(), title: when.toLocaleString() }, relativeTime(record.at)),
        ),
      ),
      h(
        'span',
        { class: 'user-actions' },
        h(
          'button',
          { type: 'button', class: 'icon-button call-button', 'aria-label': `Call ${record.peer} back (voice)`, title: 'Voice call', onclick: () => this.onCall(record.peer, false) },
          icon('phone'),
        ),
        h(
          'button',
          { type: 'button', class: 'icon-button call-button', 'aria-label': `Call ${record.peer} back (video)`, title: 'Video call', onclick: () => this.onCall(record.peer, true) },
          icon('camera'),
        ),
      ),
    );
  }
}

function relativeTime(at: number): string {
  const seconds = Math.round((Date.now() - at) / 1000);
  if (seconds < 60) return 'just now';
  if (seconds < 3600) return `${Math.floor(seconds / 60)} min ago`;
  const date = new Date(at);
  const today = new Date();
  if (date.toDateString() === today.toDateString()) {
    return date.toLocaleTimeString([], { hour: '2-digit', minute: '2-digit' });
  }
  return date.toLocaleDateString([], { month: 'short', day: 'numeric' });
}
