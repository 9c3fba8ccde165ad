/**
 * Who is online, with live presence (online / in a call) and a search box. Without a query the
 * list is the SDK's live `online` map; with one, it is a page from the server's `users` search,
 * which the app then watches so its entries stay live too.
 */
import type { CallwireClient } from '@callwire/client';
import { avatar } from '../avatar.js';
import { Disposer, h, replaceChildren, setShown } from '../dom.js';
import { icon } from '../icons.js';

type Status = 'online' | 'busy';

const SEARCH_LIMIT = 50;
const SEARCH_DEBOUNCE_MS = 200;

export type CallAction = (name: string, video: boolean) => void;

export class OnlineList {
  readonly root: HTMLElement;
  private readonly list: HTMLUListElement;
  private readonly empty: HTMLElement;
  private readonly count: HTMLElement;
  private readonly search: HTMLInputElement;
  private readonly disposer = new Disposer();
  /** What is shown: the live map, or the results of the current search. */
  private shown = new Map<string, Status>();
  private query = '';
  private searchSeq = 0;
  private debounce: ReturnType<typeof setTimeout> | null = null;

  constructor(
    private readonly client: CallwireClient,
    private readonly onCall: CallAction,
    /** The names a search found, so the app can watch their presence. */
    private readonly onResults: (names: string[]) => void = () => undefined,
  ) {
    this.search = h('input', {
      type: 'search',
      id: 'people-search',
      class: 'search-input',
      placeholder: 'Search people online',
      'aria-label': 'Search people online',
      autocomplete: 'off',
      maxlength: 64,
    });
    this.count = h('span', { class: 'count', 'aria-label': 'people online' });
    this.list = h('ul', { class: 'user-list', 'aria-labelledby': 'online-title' });
    this.empty = h('p', { class: 'empty' });
    this.root = h(
      'section',
      { class: 'card online-card', 'aria-labelledby': 'online-title' },
      h('div', { class: 'card-head' }, h('h2', { id: 'online-title' }, 'Online now'), this.count),
      h('div', { class: 'search' }, icon('search'), this.search),
      this.list,
      this.empty,
    );
    this.disposer.listen(this.search, 'input', () => this.onQuery());
    this.disposer.add(
      client.on('presence', ({ name, status }) => {
        this.applyPresence(name, status);
      }),
    );
    // After a reconnect the SDK has a fresh online list but sends no event per person.
    this.disposer.add(
      client.on('stateChanged', (state) => {
        if (state === 'open') void this.runSearch();
      }),
    );
    this.showLive();
  }

  dispose(): void {
    if (this.debounce) clearTimeout(this.debounce);
    this.disposer.dispose();
  }

  private onQuery(): void {
    if (this.debounce) clearTimeout(this.debounce);
    this.debounce = setTimeout(() => void this.runSearch(), SEARCH_DEBOUNCE_MS);
  }

  private async runSearch(): Promise<void> {
    const query = this.search.value.trim();
    this.query = query;
    const seq = ++this.searchSeq;
    if (query === '') {
      this.onResults([]);
      this.showLive();
      return;
    }
    this.list.setAttribute('aria-busy', 'true');
    try {
      const page = await this.client.users({ query, limit: SEARCH_LIMIT });
      if (seq !== this.searchSeq) return; // A newer query has been typed meanwhile.
      this.shown = new Map(page.users.map((u) => [u.name, u.status] as const));
      this.render(page.total);
      this.onResults(page.users.map((u) => u.name));
    } catch {
      if (seq !== this.searchSeq) return;
      this.shown = new Map();
      this.render(0, 'Search is not available right now.');
    } finally {
      if (seq === this.searchSeq) this.list.removeAttribute('aria-busy');
    }
  }

  private showLive(): void {
    this.shown = new Map(this.client.online);
    this.render(this.shown.size);
  }

  private applyPresence(name: string, status: Status | 'offline'): void {
    if (this.query === '') {
      this.showLive();
      return;
    }
    if (status === 'offline') this.shown.delete(name);
    else if (this.shown.has(name) || name.toLowerCase().includes(this.query.toLowerCase())) {
      this.shown.set(name, status);
    }
    this.render(this.shown.size);
  }

  private render(total: number, emptyText?: string): void {
    const self = this.client.name.toLowerCase();
    const entries = [...this.shown]
      .filter(([name]) => name.toLowerCase() !== self)
      .sort(([a], [b]) => a.localeCompare(b));
    replaceChildren(this.list, ...entries.map(([name, status]) => this.item(name, status)));
    // A search page may be cut at SEARCH_LIMIT; say how many matched in all.
    this.count.textContent = this.query === '' ? String(entries.length) : `${entries.length} of ${Math.max(total, entries.length)}`;
    const text =
      emptyText ??
      (this.query === '' ? 'Nobody else is online yet. Share a meeting link to invite someone.' : `Nobody online matches “${this.query}”.`);
    this.empty.textContent = text;
    setShown(this.empty, entries.length === 0);
  }

  private item(name: string, status: Status): HTMLLIElement {
    const busy = status === 'busy';
    return h(
      'li',
      { class: `user user-${status}`, 'data-name': name },
      avatar(name),
      h(
        'span',
        { class: 'user-main' },
        h('span', { class: 'user-name' }, name),
        // "Busy", not "In a call": the server reports busy from the first ring (a call to them now
        // would be refused), so it covers placing and answering a call as well as talking.
        h('span', { class: `presence presence-${status}` }, busy ? 'Busy' : 'Online'),
      ),
      h(
        'span',
        { class: 'user-actions' },
        h(
          'button',
          { type: 'button', class: 'icon-button call-button', 'aria-label': `Voice call ${name}`, title: 'Voice call', onclick: () => this.onCall(name, false) },
          icon('phone'),
        ),
        h(
          'button',
          { type: 'button', class: 'icon-button call-button', 'aria-label': `Video call ${name}`, title: 'Video call', onclick: () => this.onCall(name, true) },
          icon('camera'),
        ),
      ),
    );
  }
}
