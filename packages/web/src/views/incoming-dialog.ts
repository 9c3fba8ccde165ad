/**
 * The ringing dialog for an incoming call: who calls, with video or voice, and accept (with
 * video or voice only) or decline. A native modal <dialog> traps focus while open; focus goes
 * to "Accept" when it opens and back where it was when it closes.
 *
 * During a call it is the call-waiting prompt instead: decline (the caller hears busy), hold
 * the current call and answer, or end it and answer.
 */
import { avatar } from '../avatar.js';
import { h } from '../dom.js';
import { icon } from '../icons.js';

export type IncomingChoice = 'video' | 'voice' | 'decline' | 'hold' | 'end';

export class IncomingDialog {
  private readonly dialog: HTMLDialogElement;
  private readonly returnFocus: Element | null;
  private closed = false;

  /** `waitingBehind`: the person we are in a call with (this one is a waiting call). */
  constructor(
    from: string,
    video: boolean,
    onChoice: (choice: IncomingChoice) => void,
    waitingBehind?: string,
  ) {
    this.returnFocus = document.activeElement;
    const choose = (choice: IncomingChoice) => () => {
      if (this.closed) return;
      onChoice(choice);
    };
    if (waitingBehind !== undefined) {
      this.dialog = this.waitingDialog(from, video, waitingBehind, choose);
      return;
    }
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

  private waitingDialog(
    from: string,
    video: boolean,
    current: string,
    choose: (choice: IncomingChoice) => () => void,
  ): HTMLDialogElement {
    const button = (choice: IncomingChoice, label: string, cls: string) =>
      h('button', { type: 'button', class: `button button-wide ${cls}`, onclick: choose(choice) }, label);
    const hold = button('hold', `Hold ${current} and answer`, 'button-primary');
    const dialog = h(
      'dialog',
      { class: 'incoming-dialog waiting-dialog', 'aria-labelledby': 'incoming-title', 'aria-describedby': 'incoming-kind' },
      h(
        'div',
        { class: 'incoming-body' },
        avatar(from, 'large'),
        h('h2', { id: 'incoming-title', class: 'incoming-name' }, from),
        h(
          'p',
          { id: 'incoming-kind', class: 'incoming-kind' },
          `Call waiting: ${from} is calling you (${video ? 'video' : 'voice'}) while you talk with ${current}.`,
        ),
        h(
          'div',
          { class: 'waiting-actions' },
          hold,
          button('end', `End call with ${current} and answer`, 'button-secondary'),
          button('decline', 'Decline (busy)', 'button-danger'),
        ),
      ),
    );
    dialog.addEventListener('cancel', (event) => event.preventDefault());
    document.body.appendChild(dialog);
    dialog.showModal();
    hold.focus();
    return dialog;
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
