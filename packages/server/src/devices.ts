/**
 * A person's devices: the sessions their account is signed in on at once (password and jwt
 * modes; in open mode a name stays unique). Each device that announced itself at login is kept
 * told of the others (`devices`: who is in a call with whom, for "move the call here"), and any
 * device of the account may rename another or sign it out (`/api/devices`).
 */
import { randomBytes } from 'node:crypto';
import { CLOSE, LIMITS, type DeviceEntryValue } from '@callwire/protocol';
import type { SessionTokens } from './auth/session-tokens.js';
import type { Device } from './calls/model.js';
import type { Hub } from './hub.js';
import type { Session } from './ws/session.js';

/** What a client said about its device at login. */
export interface DeviceClaim {
  readonly id: string;
  readonly label?: string | undefined;
}

const FAMILY_LABEL = {
  native: 'Device',
  tutorial: 'Tutorial client',
  one2one: 'one2one client',
  peerjs: 'PeerJS client',
} as const;

/** The device a session is: the one its client announced, or one named here. */
export function deviceFor(
  claim: DeviceClaim | undefined,
  family: keyof typeof FAMILY_LABEL,
  nowMs: number,
  callWaiting = false,
): Device {
  if (claim !== undefined) {
    return {
      id: claim.id,
      label: cleanLabel(claim.label) ?? `${FAMILY_LABEL[family]} ${claim.id.slice(0, 4)}`,
      aware: true,
      callWaiting,
      signedInAtMs: nowMs,
    };
  }
  const id = randomBytes(9).toString('base64url');
  return {
    id,
    label: `${FAMILY_LABEL[family]} ${id.slice(0, 4)}`,
    aware: false,
    callWaiting,
    signedInAtMs: nowMs,
  };
}

/** A label as shown: trimmed, control characters out, bounded; undefined when nothing is left. */
export function cleanLabel(raw: string | undefined): string | undefined {
  if (raw === undefined) return undefined;
  const text = raw.normalize('NFKC').replace(/\p{Cc}/gu, '').trim();
  return text.length === 0 ? undefined : text.slice(0, LIMITS.deviceLabelChars);
}

export class Devices {
  private readonly pending = new Set<string>();
  /** What each person's devices were last told, to tell them only of changes. */
  private readonly told = new Map<string, string>();
  private scheduled = false;

  constructor(
    private readonly hub: Hub,
    private readonly tokens: SessionTokens,
    private readonly endSession: (session: Session, code: number, reason: string) => void,
  ) {}

  /** The devices of `key` signed in here, as `viewer` (one of them, or none) sees them. */
  list(key: string, viewerDevice?: string): DeviceEntryValue[] {
    return this.hub.devices(key).flatMap((s) => {
      const device = s.device;
      if (device === undefined || s.state === 'closed') return [];
      const entry: DeviceEntryValue = {
        id: device.id,
        label: device.label,
        current: device.id === viewerDevice,
        signedInAt: new Date(device.signedInAtMs).toISOString(),
      };
      // A device is in a call once it answered (or was answered); ringing is not a call yet.
      const call = s.call;
      if (call === null || call.state !== 'connected') return [entry];
      const peer = call.caller === s ? call.callee : call.caller;
      return [
        {
          ...entry,
          call: {
            callId: call.id,
            peer: peer.name,
            state: 'connected' as const,
            ...(call.answeredAtMs === undefined
              ? {}
              : { since: new Date(call.answeredAtMs).toISOString() }),
          },
        },
      ];
    });
  }

  /**
   * The devices of `key` changed (one signed in or out, was renamed, entered or left a call):
   * tell its devices that know about devices, once per turn of the event loop, after any login
   * reply of this turn.
   */
  changed(key: string, membership = true): void {
    // Only a person on several devices needs to hear about calls on the others.
    if (!membership && this.hub.devices(key).length < 2) return;
    this.pending.add(key);
    if (this.scheduled) return;
    this.scheduled = true;
    setImmediate(() => {
      this.scheduled = false;
      const keys = [...this.pending];
      this.pending.clear();
      for (const k of keys) this.push(k);
    });
  }

  private push(key: string): void {
    const sessions = this.hub.devices(key);
    if (!sessions.some((s) => s.device?.aware === true)) {
      this.told.delete(key);
      return;
    }
    const all = this.list(key);
    const text = JSON.stringify(all);
    if (this.told.get(key) === text) return;
    this.told.set(key, text);
    for (const s of sessions) {
      if (s.device?.aware !== true || s.state !== 'active') continue;
      const mine = s.device.id;
      s.send({ t: 'devices', devices: all.map((d) => ({ ...d, current: d.id === mine })) });
    }
  }

  /**
   * Send the account's list to one session that took itself back (a resume): the page that
   * resumed may be a new one (a reload) that has never seen the list, and `changed` only tells
   * devices when the list itself changed.
   */
  tell(session: Session): void {
    const mine = session.device;
    if (mine?.aware !== true || session.state !== 'active') return;
    const all = this.list(session.key);
    session.send({ t: 'devices', devices: all.map((d) => ({ ...d, current: d.id === mine.id })) });
  }

  /** Rename a device of `key`; false when it has no such device signed in. */
  rename(key: string, id: string, label: string): boolean {
    const session = this.find(key, id);
    const clean = cleanLabel(label);
    if (session?.device === undefined || clean === undefined) return false;
    session.device.label = clean;
    this.changed(key);
    return true;
  }

  /**
   * Sign a device of `key` out: its session ends (4002, its calls end) and the tokens issued
   * to it stop working. False when it has no such device signed in.
   */
  signOut(key: string, id: string): boolean {
    const session = this.find(key, id);
    if (session === undefined) return false;
    this.tokens.revokeDevice(key, id);
    this.endSession(session, CLOSE.signedOut, 'signed out from another device');
    this.changed(key);
    return true;
  }

  private find(key: string, id: string): Session | undefined {
    return this.hub.devices(key).find((s) => s.device?.id === id);
  }
}
