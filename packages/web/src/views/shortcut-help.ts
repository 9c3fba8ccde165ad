/** The list of keyboard shortcuts, as a modal dialog; Escape or Close puts focus back. */
import { h } from '../dom.js';

export class ShortcutHelp {
  private readonly dialog: HTMLDialogElement;
  private readonly returnFocus: Element | null = document.activeElement;
  private closed = false;

  constructor(shortcuts: ReadonlyArray<readonly [string, string]>, onClosed: () => void) {
    const close = h('button', { type: 'button', class: 'button button-primary', onclick: () => this.close() }, 'Close');
    this.dialog = h(
      'dialog',
      { class: 'shortcut-help', 'aria-labelledby': 'shortcut-title' },
      h('h2', { id: 'shortcut-title' }, 'Keyboard shortcuts'),
      h(
        'dl',
        { class: 'shortcut-list' },
        ...shortcuts.flatMap(([key, what]) => [h('dt', {}, h('kbd', {}, key)), h('dd', {}, what)]),
      ),
      close,
    );
    this.dialog.addEventListener('close', () => {
      this.finish();
      onClosed();
    });
    document.body.appendChild(this.dialog);
    this.dialog.showModal();
    close.focus();
  }

  close(): void {
    if (!this.closed) this.dialog.close();
  }

  private finish(): void {
    if (this.closed) return;
    this.closed = true;
    this.dialog.remove();
    if (this.returnFocus instanceof HTMLElement && this.returnFocus.isConnected) this.returnFocus.focus();
  }
}
