/**
 * What the app learns from where it runs: the signaling URL, whether camera and microphone can
 * be used at all (secure context), and what capture size suits the device.
 */

/** The server serves this page and speaks WebSocket on the same origin, at `/`. */
export function signalingUrl(loc: Location = location): string {
  const scheme = loc.protocol === 'https:' ? 'wss:' : 'ws:';
  return `${scheme}//${loc.host}/`;
}

/**
 * Browsers expose `navigator.mediaDevices` only in a secure context (https, or http on
 * localhost). Opening the app as http://192.168.x.y:9090 on a phone is the usual way to hit this.
 */
export function mediaAvailable(): boolean {
  return window.isSecureContext && typeof navigator.mediaDevices?.getUserMedia === 'function';
}

/** Phones and small screens: lower capture resolution and frame rate to save battery and data. */
export function isConstrainedDevice(): boolean {
  return (
    window.matchMedia('(max-width: 720px)').matches || window.matchMedia('(pointer: coarse)').matches
  );
}

/**
 * Whether this browser can share a screen. Phone browsers either lack getDisplayMedia or have
 * one that only fails (nothing to pick on a phone), so a touch-only device without a mouse does
 * not offer it either.
 */
export function screenShareSupported(): boolean {
  if (typeof navigator.mediaDevices?.getDisplayMedia !== 'function') return false;
  const touchOnly = window.matchMedia('(pointer: coarse)').matches && !window.matchMedia('(any-pointer: fine)').matches;
  return !touchOnly;
}

export function videoConstraints(): MediaTrackConstraints {
  return isConstrainedDevice()
    ? { width: { ideal: 640 }, height: { ideal: 360 }, frameRate: { ideal: 15, max: 15 } }
    : { width: { ideal: 1280 }, height: { ideal: 720 }, frameRate: { ideal: 30 } };
}

export function audioConstraints(): MediaTrackConstraints {
  return { echoCancellation: true, noiseSuppression: true, autoGainControl: true };
}

/** A room id for meet-by-link: 12 characters from the alphabet the server accepts in rooms. */
export function newRoomId(): string {
  const alphabet = 'abcdefghijkmnopqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789';
  const bytes = crypto.getRandomValues(new Uint8Array(12));
  return Array.from(bytes, (b) => alphabet[b % alphabet.length]).join('');
}

export const ROOM_RE = /^[A-Za-z0-9_-]{1,64}$/;

export type Route = { kind: 'home' } | { kind: 'room'; room: string } | { kind: 'bad-room' } | { kind: 'check' };

export function parseRoute(pathname: string): Route {
  if (/^\/check\/?$/.test(pathname)) return { kind: 'check' };
  const match = /^\/r\/([^/]*)\/?$/.exec(pathname);
  if (!match) return { kind: 'home' };
  let room: string;
  try {
    room = decodeURIComponent(match[1] ?? '');
  } catch {
    return { kind: 'bad-room' };
  }
  return ROOM_RE.test(room) ? { kind: 'room', room } : { kind: 'bad-room' };
}

/** `?next=/r/<room>`: where to go after signing in (only ever a meeting link of this site). */
export function nextRoomPath(loc: Location = location): string | null {
  const next = new URLSearchParams(loc.search).get('next');
  const route = next === null ? null : parseRoute(next);
  return route?.kind === 'room' ? `/r/${encodeURIComponent(route.room)}` : null;
}

export function roomUrl(room: string, loc: Location = location): string {
  return `${loc.origin}/r/${encodeURIComponent(room)}`;
}

/** What to capture for a call: always the microphone, the camera for video calls. */
export function callMedia(video: boolean): { audio: boolean; video: boolean } {
  return { audio: true, video };
}
