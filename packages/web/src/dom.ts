/**
 * A tiny DOM builder. Everything user-supplied (names, chat text, file names) reaches the page
 * as text nodes or attribute values, never as HTML, so it can never become markup. Inline
 * `style` attributes are refused too: the server's Content-Security-Policy forbids them; set
 * `element.style` properties from code instead, which the CSP allows.
 */

export type Child = Node | string | number | null | undefined | false;

type Handler = (event: Event) => void;

export type Props = {
  [key: string]: string | number | boolean | null | undefined | Handler;
};

export function h<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  props: Props = {},
  ...children: Child[]
): HTMLElementTagNameMap[K] {
  const el = document.createElement(tag);
  for (const [key, value] of Object.entries(props)) {
    if (value === undefined || value === null || value === false) continue;
    if (key === 'style') throw new TypeError('inline style attributes break the CSP');
    if (typeof value === 'function') {
      if (!key.startsWith('on')) throw new TypeError(`handler prop must start with "on": ${key}`);
      el.addEventListener(key.slice(2), value);
    } else if (key === 'class') {
      el.className = String(value);
    } else {
      el.setAttribute(key, value === true ? '' : String(value));
    }
  }
  append(el, children);
  return el;
}

export function append(parent: Node, children: Child[]): void {
  for (const child of children) {
    if (child === null || child === undefined || child === false) continue;
    parent.appendChild(typeof child === 'object' ? child : document.createTextNode(String(child)));
  }
}

/** Replace all children of `parent`. */
export function replaceChildren(parent: Element, ...children: Child[]): void {
  parent.replaceChildren();
  append(parent, children);
}

/** Show or hide an element with the `hidden` attribute (styled in CSS, never inline). */
export function setShown(el: HTMLElement | SVGElement, shown: boolean): void {
  if (shown) el.removeAttribute('hidden');
  else el.setAttribute('hidden', '');
}

/**
 * Collects teardown functions (event unsubscribes, timers) so a view can release everything it
 * registered in one idempotent call.
 */
export class Disposer {
  private fns: Array<() => void> = [];
  add(fn: () => void): void {
    this.fns.push(fn);
  }
  listen<E extends Event>(
    target: EventTarget,
    type: string,
    fn: (event: E) => void,
    options?: AddEventListenerOptions,
  ): void {
    const listener = fn as EventListener;
    target.addEventListener(type, listener, options);
    this.fns.push(() => target.removeEventListener(type, listener, options));
  }
  dispose(): void {
    const fns = this.fns;
    this.fns = [];
    for (const fn of fns.reverse()) {
      try {
        fn();
      } catch (err) {
        console.error('callwire: teardown failed', err);
      }
    }
  }
}

export function formatBytes(bytes: number): string {
  if (bytes < 1024) return `${bytes} B`;
  if (bytes < 1024 * 1024) return `${(bytes / 1024).toFixed(1)} KB`;
  if (bytes < 1024 * 1024 * 1024) return `${(bytes / (1024 * 1024)).toFixed(1)} MB`;
  return `${(bytes / (1024 * 1024 * 1024)).toFixed(2)} GB`;
}

/** 0:07, 12:34, 1:02:03 */
export function formatDuration(ms: number): string {
  const total = Math.max(0, Math.floor(ms / 1000));
  const hours = Math.floor(total / 3600);
  const minutes = Math.floor((total % 3600) / 60);
  const seconds = String(total % 60).padStart(2, '0');
  return hours > 0 ? `${hours}:${String(minutes).padStart(2, '0')}:${seconds}` : `${minutes}:${seconds}`;
}
