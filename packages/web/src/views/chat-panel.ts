/**
 * Text chat and file transfer over the call's data channel. Messages and file names are shown
 * as text only. Works while hidden, so nothing is lost when the panel is closed; the owner is
 * told about unread activity to badge the chat button.
 */
import type { Call } from '@callwire/client';
import { Disposer, h, setShown } from '../dom.js';
import { icon } from '../icons.js';
import { errorText } from '../messages.js';
import { forgetChat, keepChatMessage, keptChat } from '../chat-keep.js';
import { incomingFileRow, outgoingFileRow } from './file-items.js';

const MAX_CHAT_CHARS = 2000;

export class ChatPanel {
  readonly root: HTMLElement;
  private readonly log: HTMLOListElement;
  private readonly input: HTMLInputElement;
  private readonly form: HTMLFormElement;
  private readonly fileInput: HTMLInputElement;
  private readonly empty: HTMLElement;
  private readonly error: HTMLElement;
  private readonly disposer = new Disposer();
  private readonly urls: string[] = [];
  private entries = 0;

  constructor(
    private readonly call: Call,
    private readonly me: string,
    /** Something arrived from the peer; `preview` is a one-line summary of it. */
    private readonly onActivity: (preview: string) => void,
  ) {
    // The live region is the scroller, so the list keeps its list semantics (role=log on the
    // <ol> itself would leave its <li>s outside any list).
    this.log = h('ol', { class: 'chat-log' });
    this.empty = h('p', { class: 'empty chat-empty' }, 'Messages and files you send here go straight to the other person.');
    this.input = h('input', {
      type: 'text',
      class: 'chat-input',
      'aria-label': 'Message',
      placeholder: 'Message',
      autocomplete: 'off',
      maxlength: MAX_CHAT_CHARS,
    });
    this.fileInput = h('input', { type: 'file', class: 'visually-hidden', tabindex: '-1', 'aria-hidden': 'true', multiple: true });
    this.error = h('p', { class: 'form-error', role: 'alert', hidden: true });
    const attach = h(
      'button',
      { type: 'button', class: 'icon-button', 'aria-label': 'Send a file', title: 'Send a file', onclick: () => this.fileInput.click() },
      icon('attach'),
    );
    this.form = h(
      'form',
      { class: 'chat-form' },
      attach,
      this.input,
      h('button', { type: 'submit', class: 'icon-button send-button', 'aria-label': 'Send message', title: 'Send' }, icon('send')),
      this.fileInput,
    );
    this.root = h(
      'section',
      { class: 'chat-panel', 'aria-label': 'Chat' },
      h('div', { class: 'chat-scroll', role: 'log', 'aria-live': 'polite', 'aria-label': 'Chat messages' }, this.empty, this.log),
      this.error,
      this.form,
    );
    this.disposer.listen(this.form, 'submit', (event) => {
      event.preventDefault();
      this.sendText();
    });
    this.disposer.listen(this.fileInput, 'change', () => {
      for (const file of Array.from(this.fileInput.files ?? [])) this.sendFile(file);
      this.fileInput.value = '';
    });
    // What was said before this page reloaded (the call went on; see chat-keep.ts).
    for (const m of keptChat(call.id)) this.showText(m.from, m.text, m.at, m.who);
    this.disposer.add(call.on('ended', () => forgetChat(call.id)));
    this.disposer.add(
      call.on('chat', (message) => {
        this.addText(message.from, message.text, message.at, 'peer');
        this.onActivity(`${message.from}: ${message.text}`);
      }),
    );
    this.disposer.add(
      call.on('fileOffered', (file) => {
        this.add(incomingFileRow(file, call.peer, (url) => this.urls.push(url)));
        this.onActivity(file.tooLarge ? `${call.peer} tried to send a file that is too large: ${file.name}` : `${call.peer} wants to send you a file: ${file.name}`);
      }),
    );
    this.setEnabled(call.state === 'connected');
    this.disposer.add(call.on('stateChanged', (state) => this.setEnabled(state === 'connected')));
  }

  /** Whether anything was said or sent; an ended call with a transcript stays on screen. */
  get hasContent(): boolean {
    return this.entries > 0;
  }

  focus(): void {
    this.input.focus();
  }

  dispose(): void {
    this.disposer.dispose();
    for (const url of this.urls.splice(0)) URL.revokeObjectURL(url);
  }

  private setEnabled(enabled: boolean): void {
    for (const el of this.form.querySelectorAll<HTMLInputElement | HTMLButtonElement>('input, button')) {
      el.disabled = !enabled;
    }
    this.input.placeholder = enabled ? 'Message' : this.call.state === 'ended' ? 'The call has ended' : 'Chat opens when the call connects';
  }

  private sendText(): void {
    const text = this.input.value.trim();
    if (text === '') return;
    try {
      this.call.sendChat(text);
    } catch (err) {
      this.showError(errorText(err));
      return;
    }
    this.input.value = '';
    setShown(this.error, false);
    this.addText(this.me, text, Date.now(), 'me');
  }

  private sendFile(file: File): void {
    try {
      this.add(outgoingFileRow(this.call.sendFile(file, file.name), this.me, this.call.peer));
      setShown(this.error, false);
    } catch (err) {
      this.showError(errorText(err));
    }
  }

  private showError(text: string): void {
    this.error.textContent = text;
    setShown(this.error, true);
  }

  private addText(from: string, text: string, at: number, who: 'me' | 'peer'): void {
    keepChatMessage(this.call.id, { from, text, at, who });
    this.showText(from, text, at, who);
  }

  private showText(from: string, text: string, at: number, who: 'me' | 'peer'): void {
    const time = new Date(at);
    this.add(
      h(
        'li',
        { class: `message message-${who}` },
        h('span', { class: 'message-author' }, from),
        h('p', { class: 'message-text' }, text),
        h('time', { class: 'message-time', datetime: time.toISOString() }, time.toLocaleTimeString([], { hour: '2-digit', minute: '2-digit' })),
      ),
    );
  }

  private add(item: HTMLLIElement): void {
    const scroller = this.log.parentElement;
    const atBottom = scroller ? scroller.scrollHeight - scroller.scrollTop - scroller.clientHeight < 40 : true;
    this.log.appendChild(item);
    this.entries++;
    setShown(this.empty, false);
    if (scroller && atBottom) scroller.scrollTop = scroller.scrollHeight;
  }
}
