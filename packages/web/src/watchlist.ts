/**
 * The names this app asks the server to send live presence for: the people in the current
 * search results and the people in recent calls. (While fewer than 1,000 people are online the
 * server sends every change anyway; past that, only watched names are pushed.)
 */
import type { CallwireClient } from '@callwire/client';
import type { CallHistory } from './call-history.js';

const WATCH_MAX = 500; // the protocol's limit per watch message

export class Watchlist {
  private search: string[] = [];
  private last = '';
  private readonly off: () => void;

  constructor(
    private readonly client: CallwireClient,
    private readonly history: CallHistory,
  ) {
    this.off = history.onChange(() => this.push());
    this.push();
  }

  setSearchResults(names: string[]): void {
    this.search = names;
    this.push();
  }

  dispose(): void {
    this.off();
  }

  private push(): void {
    const seen = new Set<string>();
    const names: string[] = [];
    for (const name of [...this.search, ...this.history.list().map((r) => r.peer)]) {
      const key = name.toLowerCase();
      if (seen.has(key)) continue;
      seen.add(key);
      names.push(name);
      if (names.length === WATCH_MAX) break;
    }
    const signature = names.join('\n');
    if (signature === this.last) return;
    this.last = signature;
    // The SDK keeps the list and sends it again after a reconnect.
    if (this.client.state !== 'closed') this.client.watch(names);
  }
}
