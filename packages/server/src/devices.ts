/**
 * A person's devices: the sessions their account is signed in on at once (password and jwt
 * modes; in open mode a name stays unique). Each device that announced itself at login is kept
 * told of the others (`devices`: who is in a call with whom, for "move the call here"), and any
 * device of the account may rename another or sign it out (`/api/devices`).
 */
import { CLOSE, LIMITS, type DeviceEntryValue } from '@callwire/protocol';
import type { SessionTokens } from './auth/session-tokens.js';
import type { Device } from './calls/model.js';
import type { Hub } from './hub.js';
import { randomToken } from './random.js';
import type { Session } from './ws/session.js';

/**
 * A person's devices on other nodes (cluster/device-sync.ts, with accounts): where this node
 * records its own, and finds and manages the others.
 */
export interface DeviceNetwork {
  /** This node's devices of `key` are now `entries`: record them and tell the others' nodes. */
  shared(key: string, entries: DeviceEntryValue[]): void;
  /** The account's devices on other nodes (`current` false). */
  others(key: string): Promise<DeviceEntryValue[]>;
  /** Rename or sign out a device on another node; false when no node has it. */
  manage(key: string, id: string, action: DeviceAction): Promise<boolean>;
}

export type DeviceAction =
  { readonly k: 'rename'; readonly label: string } | { readonly k: 'signout' };

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
  const id = randomToken(9);
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
  const text = raw
    .normalize('NFKC')
    .replace(/\p{Cc}/gu, '')
    .trim();
  return text.length === 0 ? undefined : text.slice(0, LIMITS.deviceLabelChars);
}

export class Devices {
  private readonly pending = new Set<string>();
  /** What each person's devices were last told, to tell them only of changes. */
  private readonly told = new Map<string, string>();
  private scheduled = false;
  private network: DeviceNetwork | undefined;

  constructor(
    private readonly hub: Hub,
    private readonly tokens: SessionTokens,
    private readonly endSession: (session: Session, code: number, reason: string) => void,
  ) {}

  /** Devices span nodes (a cluster with accounts). */
  attachNetwork(network: DeviceNetwork): void {
    this.network = network;
  }

  /** Every device of `key`, here and on other nodes, as `viewer` sees them (the API's list). */
  async listAll(key: string, viewerDevice?: string): Promise<DeviceEntryValue[]> {
    const here = this.list(key, viewerDevice);
    if (this.network === undefined) return here;
    return merge(here, await this.network.others(key));
  }

  /** Rename a device of `key` on any node; false when it has no such device signed in. */
  async renameAny(key: string, id: string, label: string): Promise<boolean> {
    if (this.rename(key, id, label)) return true;
    const clean = cleanLabel(label);
    if (this.network === undefined || clean === undefined) return false;
    return this.network.manage(key, id, { k: 'rename', label: clean });
  }

  /** Sign a device of `key` out on any node; false when it has no such device signed in. */
  async signOutAny(key: string, id: string): Promise<boolean> {
    if (this.signOut(key, id)) return true;
    if (this.network === undefined) return false;
    this.tokens.revokeDevice(key, id);
    return this.network.manage(key, id, { k: 'signout' });
  }

  /** Another node's devices of `key` changed: tell this node's devices the whole list again. */
  othersChanged(key: string): void {
    if (this.hub.devices(key).length > 0) void this.push(key, false);
  }

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
    // Only a person on several devices needs to hear about calls on the others (across
    // nodes, any device here may have others elsewhere).
    if (!membership && this.network === undefined && this.hub.devices(key).length < 2) return;
    this.pending.add(key);
    if (this.scheduled) return;
    this.scheduled = true;
    setImmediate(() => {
      this.scheduled = false;
      const keys = [...this.pending];
      this.pending.clear();
      for (const k of keys) void this.push(k, true);
    });
  }

  /** Tell the devices of `key` here the list (`share`: this node's own devices changed). */
  private async push(key: string, share: boolean): Promise<void> {
    const here = this.list(key);
    if (share) this.network?.shared(key, here);
    const sessions = this.hub.devices(key);
    if (!sessions.some((s) => s.device?.aware === true)) {
      this.told.delete(key);
      return;
    }
    let all = here;
    if (this.network !== undefined) {
      try {
        all = merge(this.list(key), await this.network.others(key));
      } catch {
        return; // Redis is away: the next change tells them
      }
    }
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
    const send = (all: DeviceEntryValue[]) =>
      session.send({
        t: 'devices',
        devices: all.map((d) => ({ ...d, current: d.id === mine.id })),
      });
    if (this.network === undefined) return send(this.list(session.key));
    this.listAll(session.key).then(send, () => send(this.list(session.key)));
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

/** This node's devices and those elsewhere, in sign-in order (a device listed twice once). */
function merge(here: DeviceEntryValue[], others: DeviceEntryValue[]): DeviceEntryValue[] {
  const ids = new Set(here.map((d) => d.id));
  return [...here, ...others.filter((d) => !ids.has(d.id))].sort((x, y) =>
    x.signedInAt < y.signedInAt ? -1 : x.signedInAt > y.signedInAt ? 1 : 0,
  );
}
