import { h } from './dom.js';

/** A round badge with the name's first letter, tinted by a hue derived from the name. */
export function avatar(name: string, size: 'small' | 'large' = 'small'): HTMLElement {
  const el = h('span', { class: `avatar avatar-${size}`, 'aria-hidden': 'true' }, initial(name));
  // element.style from script is allowed by the CSP (only inline style *attributes* are not).
  el.style.setProperty('--avatar-hue', String(hue(name)));
  return el;
}

function initial(name: string): string {
  const first = Array.from(name.trim())[0] ?? '?';
  return first.toUpperCase();
}

function hue(name: string): number {
  let hash = 0;
  for (const ch of name.toLowerCase()) hash = (hash * 31 + (ch.codePointAt(0) ?? 0)) >>> 0;
  return hash % 360;
}
