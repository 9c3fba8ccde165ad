/**
 * Line icons drawn on a 24x24 grid, built with DOM calls (no SVG strings parsed as markup).
 * Icons are decorative: the button that holds one carries the accessible label.
 */

type Shape = readonly [tag: string, attrs: Readonly<Record<string, string>>];

const SLASH: Shape = ['line', { x1: '3', y1: '3', x2: '21', y2: '21' }];
const HANDSET =
  'M6.6 3.5h2.8l1.6 4.2-2.1 1.4a11.5 11.5 0 0 0 6 6l1.4-2.1 4.2 1.6v2.8a2 2 0 0 1-2.1 2A16.5 16.5 0 0 1 4.6 5.6a2 2 0 0 1 2-2.1z';

const ICONS = {
  mic: [
    ['rect', { x: '9', y: '3', width: '6', height: '11', rx: '3' }],
    ['path', { d: 'M5.5 11a6.5 6.5 0 0 0 13 0M12 17.5V21M8.5 21h7' }],
  ],
  micOff: [
    ['rect', { x: '9', y: '3', width: '6', height: '11', rx: '3' }],
    ['path', { d: 'M5.5 11a6.5 6.5 0 0 0 13 0M12 17.5V21M8.5 21h7' }],
    SLASH,
  ],
  camera: [
    ['rect', { x: '2.5', y: '6', width: '13', height: '12', rx: '2.5' }],
    ['path', { d: 'M15.5 10.5l6-3.5v10l-6-3.5z' }],
  ],
  cameraOff: [
    ['rect', { x: '2.5', y: '6', width: '13', height: '12', rx: '2.5' }],
    ['path', { d: 'M15.5 10.5l6-3.5v10l-6-3.5z' }],
    SLASH,
  ],
  screen: [
    ['rect', { x: '2.5', y: '4', width: '19', height: '13', rx: '2' }],
    ['path', { d: 'M8 21h8M12 17v4M12 14V7.5M9 10.5l3-3 3 3' }],
  ],
  phone: [['path', { d: HANDSET }]],
  hangup: [['path', { d: HANDSET, transform: 'rotate(135 12 12)' }]],
  chat: [['path', { d: 'M4 5.5h16v10.5H10l-5 4v-4H4z' }]],
  devices: [
    ['path', { d: 'M4 7h10M18 7h2M4 17h2M10 17h10' }],
    ['circle', { cx: '16', cy: '7', r: '2' }],
    ['circle', { cx: '8', cy: '17', r: '2' }],
  ],
  stats: [['path', { d: 'M3 17l5-6 4 4 5-7 4 4M3 21h18' }]],
  pause: [['path', { d: 'M9 5v14M15 5v14' }]],
  play: [['path', { d: 'M8 5l11 7-11 7z' }]],
  attach: [
    [
      'path',
      { d: 'M20 11.5l-7.8 7.8a5 5 0 0 1-7.1-7.1l8.2-8.2a3.4 3.4 0 0 1 4.8 4.8l-8.1 8.1a1.7 1.7 0 0 1-2.4-2.4l7.4-7.4' },
    ],
  ],
  copy: [
    ['rect', { x: '8.5', y: '8.5', width: '12', height: '12', rx: '2' }],
    ['path', { d: 'M15.5 5.5V5a2 2 0 0 0-2-2H5a2 2 0 0 0-2 2v8.5a2 2 0 0 0 2 2h.5' }],
  ],
  link: [
    ['path', { d: 'M10 14a4 4 0 0 0 5.7 0l3.6-3.6a4 4 0 0 0-5.7-5.7l-1 1' }],
    ['path', { d: 'M14 10a4 4 0 0 0-5.7 0l-3.6 3.6a4 4 0 0 0 5.7 5.7l1-1' }],
  ],
  send: [['path', { d: 'M4 12l16-8-6 16-2.5-6.5zM11.5 13.5L20 4' }]],
  close: [['path', { d: 'M6 6l12 12M18 6L6 18' }]],
  search: [
    ['circle', { cx: '11', cy: '11', r: '6.5' }],
    ['path', { d: 'M16 16l4.5 4.5' }],
  ],
  download: [['path', { d: 'M12 4v11M7.5 10.5L12 15l4.5-4.5M5 20h14' }]],
  user: [
    ['circle', { cx: '12', cy: '8', r: '4' }],
    ['path', { d: 'M4 21a8 8 0 0 1 16 0' }],
  ],
  missed: [['path', { d: 'M3 7l7.5 7.5L19 6M14 6h5v5' }]],
  incomingArrow: [['path', { d: 'M18 6L7 17M7 9v8h8' }]],
  outgoingArrow: [['path', { d: 'M6 18L17 7M9 7h8v8' }]],
  warning: [['path', { d: 'M12 3.5l9.5 16.5h-19zM12 10v4.5M12 17.3v.2' }]],
  shield: [['path', { d: 'M12 3l7.5 3v5.5c0 4.6-3.2 8.3-7.5 9.5-4.3-1.2-7.5-4.9-7.5-9.5V6z' }]],
  speaker: [['path', { d: 'M4 9.5h3.5L12 5.5v13l-4.5-4H4zM15.5 9a4 4 0 0 1 0 6M18 6.5a7.5 7.5 0 0 1 0 11' }]],
} as const satisfies Record<string, readonly Shape[]>;

export type IconName = keyof typeof ICONS;

const SVG_NS = 'http://www.w3.org/2000/svg';

export function icon(name: IconName, className = 'icon'): SVGSVGElement {
  const svg = document.createElementNS(SVG_NS, 'svg');
  svg.setAttribute('viewBox', '0 0 24 24');
  svg.setAttribute('class', className);
  svg.setAttribute('aria-hidden', 'true');
  svg.setAttribute('focusable', 'false');
  for (const [tag, attrs] of ICONS[name]) {
    const shape = document.createElementNS(SVG_NS, tag);
    for (const [key, value] of Object.entries(attrs)) shape.setAttribute(key, value);
    svg.appendChild(shape);
  }
  return svg;
}
