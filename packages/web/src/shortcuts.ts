/**
 * Keyboard shortcuts: one keydown listener for the page, and a stack of handlers (the screen
 * or dialog on top answers first). Single keys without modifiers, as calling apps use, and
 * never while typing in a field: "m" in a chat message is a letter, not "mute". "?" opens the
 * list of shortcuts from anywhere.
 */
import { ShortcutHelp } from './views/shortcut-help.js';

/** Answers a key (lower case); true when it did something with it. */
export type ShortcutHandler = (key: string) => boolean;

export const SHORTCUTS: ReadonlyArray<readonly [key: string, what: string]> = [
  ['M', 'Mute or unmute the microphone (in a call)'],
  ['V', 'Turn the camera on or off (in a call)'],
  ['C', 'Open or close the chat (in a call)'],
  ['P', 'Put the call on hold or take it off hold (in a call)'],
  ['H', 'Hang up (in a call)'],
  ['A', 'Accept an incoming call'],
  ['D', 'Decline an incoming call'],
  ['?', 'Show these shortcuts'],
  ['Esc', 'Close a panel or this list'],
];

function typing(target: EventTarget | null): boolean {
  if (!(target instanceof HTMLElement)) return false;
  if (target.isContentEditable) return true;
  if (target instanceof HTMLTextAreaElement || target instanceof HTMLSelectElement) return true;
  return target instanceof HTMLInputElement && !['button', 'checkbox', 'radio', 'range', 'submit'].includes(target.type);
}

export class Shortcuts {
  private readonly handlers: ShortcutHandler[] = [];
  private help: ShortcutHelp | null = null;

  constructor(root: Document = document) {
    root.addEventListener('keydown', (event) => {
      if (event.defaultPrevented || event.ctrlKey || event.metaKey || event.altKey || event.repeat) return;
      if (typing(event.target)) return;
      if (event.key === '?') {
        event.preventDefault();
        this.toggleHelp();
        return;
      }
      if (this.help !== null) return;
      const key = event.key.toLowerCase();
      for (let i = this.handlers.length - 1; i >= 0; i--) {
        if (this.handlers[i]?.(key)) {
          event.preventDefault();
          return;
        }
      }
    });
  }

  /** Listen for keys until the returned function is called. */
  push(handler: ShortcutHandler): () => void {
    this.handlers.push(handler);
    return () => {
      const at = this.handlers.lastIndexOf(handler);
      if (at >= 0) this.handlers.splice(at, 1);
    };
  }

  private toggleHelp(): void {
    if (this.help !== null) {
      this.help.close();
      return;
    }
    this.help = new ShortcutHelp(SHORTCUTS, () => {
      this.help = null;
    });
  }
}
