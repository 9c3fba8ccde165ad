/**
 * Which device this client is. On a server with accounts one person may be signed in on several
 * devices at once: a call rings all of them, and each is told about the others (`devices`).
 * In a browser the id is kept per tab in `sessionStorage`, so a reload is the same device and
 * two tabs are two devices; the label ("Chrome on Linux") is kept in `localStorage` once the
 * person renames the device.
 */
import type { DeviceEntryValue } from '@callwire/protocol';

/**
 * This client as one device of its account.
 *
 * @example
 * ```ts
 * const client = await connect(url, { name: 'alice', password, device: { id: myStableId, label: 'Kiosk 3' } });
 * console.log(client.device?.label);
 * ```
 */
export interface DeviceIdentity {
  /** 8-64 of `A-Z a-z 0-9 _ -`, stable across reconnects of this device. */
  id: string;
  /** How people see it in the list of devices. */
  label: string;
}

/**
 * One device of the account, as the server lists it (`client.devices`).
 *
 * @example
 * ```ts
 * client.on('devices', (devices: DeviceInfo[]) => {
 *   const elsewhere = devices.find((d) => !d.current && d.call !== undefined);
 *   if (elsewhere) showBanner(`In a call with ${elsewhere.call!.peer} on ${elsewhere.label}`);
 * });
 * ```
 */
export type DeviceInfo = DeviceEntryValue;

const ID_KEY = 'callwire.device.id';
const LABEL_KEY = 'callwire.device.label';
const ID_PATTERN = /^[A-Za-z0-9_-]{8,64}$/;

function storage(kind: 'sessionStorage' | 'localStorage'): Storage | undefined {
  try {
    const s = (globalThis as Record<string, unknown>)[kind] as Storage | undefined;
    return s !== undefined && typeof s.getItem === 'function' ? s : undefined;
  } catch {
    return undefined; // storage refused (a sandboxed frame, privacy settings)
  }
}

function randomId(): string {
  const bytes = new Uint8Array(12);
  globalThis.crypto.getRandomValues(bytes);
  let text = '';
  for (const b of bytes) text += b.toString(16).padStart(2, '0');
  return `d${text}`;
}

/** "Chrome on Linux", from the user agent; "Device" where there is none (Node). */
export function defaultDeviceLabel(userAgent = globalThis.navigator?.userAgent): string {
  if (userAgent === undefined || userAgent === '') return 'Device';
  const browser = /Edg\//.test(userAgent)
    ? 'Edge'
    : /Firefox\//.test(userAgent)
      ? 'Firefox'
      : /Chrom(e|ium)\//.test(userAgent)
        ? 'Chrome'
        : /Safari\//.test(userAgent)
          ? 'Safari'
          : 'Browser';
  const os = /Android/.test(userAgent)
    ? 'Android'
    : /iPhone|iPad|iPod/.test(userAgent)
      ? 'iOS'
      : /Mac OS X|Macintosh/.test(userAgent)
        ? 'macOS'
        : /Windows/.test(userAgent)
          ? 'Windows'
          : /CrOS/.test(userAgent)
            ? 'ChromeOS'
            : /Linux/.test(userAgent)
              ? 'Linux'
              : undefined;
  return os === undefined ? browser : `${browser} on ${os}`;
}

/**
 * The device to announce: the app's own, or this tab's (kept in storage), or a fresh one where
 * there is no storage. `false`: announce none (the server then treats the client as one that
 * predates devices).
 */
export function resolveDevice(
  option: Partial<DeviceIdentity> | false | undefined,
): DeviceIdentity | undefined {
  if (option === false) return undefined;
  if (option?.id !== undefined && !ID_PATTERN.test(option.id)) {
    throw new TypeError('device.id must be 8-64 letters, digits, "_" or "-"');
  }
  const tab = storage('sessionStorage');
  let id = option?.id ?? tab?.getItem(ID_KEY) ?? undefined;
  if (id === undefined || !ID_PATTERN.test(id)) {
    id = randomId();
    try {
      tab?.setItem(ID_KEY, id);
    } catch {
      // full or refused: this tab is a new device after a reload, nothing worse
    }
  }
  const label =
    option?.label ?? storage('localStorage')?.getItem(LABEL_KEY) ?? defaultDeviceLabel();
  return { id, label: label.slice(0, 64) || 'Device' };
}

/** Keep the label the person gave this device, for the next visit. */
export function rememberDeviceLabel(label: string): void {
  try {
    storage('localStorage')?.setItem(LABEL_KEY, label);
  } catch {
    // not kept: the default label comes back next time
  }
}
