/**
 * The ringing dialog for an incoming call: who calls, with video or voice, and accept (with
 * video or voice only) or decline. A native modal <dialog> traps focus while open; focus goes
 * to "Accept" when it opens and back where it was when it closes.
 */
import { avatar } from '../avatar.js';
import { h } from '../dom.js';
import { icon } from '../icons.js';

export type IncomingChoice = 'video' | 'voice' | 'decline';

export class IncomingDialog {
  private readonly dialog: HTMLDialogElement;
  private readonly returnFocus: Element | null;
  private closed = false;

  constructor(from: string, video: boolean, onChoice: (choice: IncomingChoice) => void) {
    this.returnFocus = document.activeElement;
    const choose = (choice: IncomingChoice) => () => {
      if (this.closed) return;
      onChoice(choice);
    };
    const acceptVideo = h(
      'button',
      { type: 'button', class: 'round-button accept', 'aria-label': 'Accept with video', onclick: choose('video') },
      icon('camera'),
    );
    const acceptVoice = h(
      'button',
      { type: 'button', class: 'round-button accept', 'aria-label': 'Accept voice only', onclick: choose('voice') },
      icon('phone'),
    );
    const decline = h(
      'button',
      { type: 'button', class: 'round-button danger', 'aria-label': 'Decline', onclick: choose('decline') },
      icon('hangup'),
    );
    const kind = video ? 'Incoming video call' : 'Incoming voice call';
    this.dialog = h(
      'dialog',
      { class: 'incoming-dialog', 'aria-labelledby': 'incoming-title', 'aria-describedby': 'incoming-kind' },
      h(
        'div',
        { class: 'incoming-body' },
        h('div', { class: 'pulse' }, avatar(from, 'large')),
        h('h2', { id: 'incoming-title', class: 'incoming-name' }, from),
        h('p', { id: 'incoming-kind', class: 'incoming-kind' }, `${kind}…`),
        h(
          'div',
          { class: 'incoming-actions' },
          h('div', { class: 'action' }, decline, h('span', { 'aria-hidden': 'true' }, 'Decline')),
          h('div', { class: 'action' }, acceptVoice, h('span', { 'aria-hidden': 'true' }, 'Voice')),
          h('div', { class: 'action' }, acceptVideo, h('span', { 'aria-hidden': 'true' }, 'Video')),
        ),
      ),
    );
    // Escape must not silently dismiss a ringing call; the person picks decline explicitly.
    this.dialog.addEventListener('cancel', (event) => event.preventDefault());
    document.body.appendChild(this.dialog);
    this.dialog.showModal();
    // Focus the answer that matches what the caller asked for.
    (video ? acceptVideo : acceptVoice).focus();
  }

  /** Reflect whether the ring tone is audible (the browser may block audio before a click). */
  setRinging(state: 'playing' | 'blocked' | 'stopped'): void {
    this.dialog.dataset.ringtone = state;
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.dialog.close();
    this.dialog.remove();
    if (this.returnFocus instanceof HTMLElement && this.returnFocus.isConnected) this.returnFocus.focus();
  }
}
