/**
 * Meet by link: create a room link and copy it. Whoever opens /r/<room> is put in the same
 * two-person call; the hint says who may (the server's `--rooms` rule, see {@link LinkAudience}).
 */
import { h, setShown } from '../dom.js';
import { newRoomId, roomUrl } from '../environment.js';
import { icon } from '../icons.js';

/** Copy text; falls back to selecting it when the Clipboard API is unavailable or refused. */
export async function copyText(text: string, fallbackInput: HTMLInputElement | null): Promise<boolean> {
  try {
    await navigator.clipboard.writeText(text);
    return true;
  } catch {
    fallbackInput?.focus();
    fallbackInput?.select();
    return false;
  }
}

/**
 * Who can open a link here: `anyone` (an open server: everybody signs in by name), `guests` (a
 * server with accounts that lets guests in too), `accounts` (only people who can sign in).
 */
export type LinkAudience = 'anyone' | 'guests' | 'accounts';

const AUDIENCE_TEXT: Record<LinkAudience, string> = {
  anyone: 'Anyone who opens the link joins you in a call. No account needed.',
  guests: 'Anyone who opens the link joins you in a call. People without an account here join as guests, shown with “(guest)”.',
  accounts: 'Anyone with an account on this server who opens the link joins you in a call.',
};

export class MeetingLink {
  readonly root: HTMLElement;
  private readonly output: HTMLInputElement;
  private readonly result: HTMLElement;
  private readonly status: HTMLElement;
  private readonly open: HTMLAnchorElement;

  constructor(audience: LinkAudience = 'anyone') {
    this.output = h('input', { type: 'text', readonly: true, class: 'link-output', 'aria-label': 'Meeting link' });
    this.status = h('span', { class: 'copy-status', role: 'status', 'aria-live': 'polite' });
    this.open = h('a', { class: 'button button-ghost button-small', target: '_blank', rel: 'noopener' }, 'Open');
    const copy = h(
      'button',
      { type: 'button', class: 'button button-small', onclick: () => void this.copy() },
      icon('copy'),
      'Copy link',
    );
    this.result = h(
      'div',
      { class: 'link-result', hidden: true },
      this.output,
      h('div', { class: 'link-actions' }, copy, this.open, this.status),
    );
    const create = h(
      'button',
      { type: 'button', class: 'button button-secondary', onclick: () => void this.create() },
      icon('link'),
      'Create meeting link',
    );
    this.root = h(
      'section',
      { class: 'card link-card', 'aria-labelledby': 'link-title' },
      h('h2', { id: 'link-title' }, 'Meet by link'),
      h('p', { class: 'hint' }, AUDIENCE_TEXT[audience]),
      create,
      this.result,
    );
  }

  private async create(): Promise<void> {
    const url = roomUrl(newRoomId());
    this.output.value = url;
    this.open.href = url;
    setShown(this.result, true);
    await this.copy();
  }

  private async copy(): Promise<void> {
    const copied = await copyText(this.output.value, this.output);
    this.status.textContent = copied ? 'Link copied.' : 'Press Ctrl+C (or ⌘C) to copy.';
  }
}
