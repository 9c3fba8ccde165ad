/** A full-screen message with actions: a bad meeting link, a failed join, a call that ended. */
import { h } from '../dom.js';
import { icon, type IconName } from '../icons.js';

export type Action = { label: string; run: () => void; primary?: boolean };

export class MessageScreen {
  readonly root: HTMLElement;
  private readonly heading: HTMLElement;
  private readonly first: HTMLElement | null;

  constructor(title: string, text: string, actions: Action[], iconName: IconName = 'phone', extra?: HTMLElement) {
    this.heading = h('h1', { tabindex: '-1' }, title);
    const buttons = actions.map((a) =>
      h('button', { type: 'button', class: `button ${a.primary ? 'button-primary' : 'button-secondary'}`, onclick: a.run }, a.label),
    );
    this.first = buttons[0] ?? null;
    this.root = h(
      'section',
      { class: 'screen message-screen' },
      h(
        'div',
        { class: 'card message-card' },
        h('span', { class: 'brand-mark brand-mark-large' }, icon(iconName)),
        this.heading,
        h('p', { class: 'lead' }, text),
        extra ?? null,
        h('div', { class: 'message-actions' }, ...buttons),
      ),
    );
  }

  focus(): void {
    (this.first ?? this.heading).focus();
  }
}
