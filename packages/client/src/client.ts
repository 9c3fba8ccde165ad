/**
 * The logged-in session: presence, the online list, and every call of this user. It turns the
 * server's validated messages into Call and IncomingCall objects (one exhaustive switch).
 *
 * Calls survive a dropped connection: while the session is suspended they keep their media and
 * their state, and when it resumes the server's list of our calls is the truth. Calls it no
 * longer has end with `disconnected` (once everything it held for us has arrived, so a `leave`
 * it held still gives its own reason), and calls it has that we do not know are hung up. A
 * session that is lost for good ends every call with `disconnected`.
 */
import type { ClientMessage, ResumedCallValue, ServerMessage } from '@callwire/protocol';
import { Call, type CallContext, type CallInit } from './call.js';
import type { CallOptions, PreparedMedia } from './call-types.js';
import { captureUserMedia, hasWebRtc } from './capture.js';
import { Emitter, type Unsubscribe } from './emitter.js';
import { rememberDeviceLabel, type DeviceIdentity, type DeviceInfo } from './device.js';
import { DeviceKeys, type DeviceKeyInfo } from './device-key.js';
import { testIceServers, type ConnectionTestResult } from './connectivity.js';
import { CallwireError, InvalidStateError } from './errors.js';
import { IncomingCall, type IncomingContext } from './incoming-call.js';
import type { ClientConfig } from './options.js';
import { Signaling, type ConnectionState, type LoginSuccess } from './signaling.js';
import { assertNever } from './util.js';

/**
 * A presence change: `offline` means the name left (it is removed from `client.online`).
 *
 * @example
 * ```ts
 * client.on('presence', ({ name, status }: PresenceUpdate) => renderContact(name, status));
 * ```
 */
export interface PresenceUpdate {
  name: string;
  status: 'online' | 'busy' | 'offline';
}

/**
 * One page of the online list (`client.users()`); pass `cursor` back for the next page.
 *
 * @example
 * ```ts
 * let page: UsersPage = await client.users({ limit: 50 });
 * while (page.cursor !== undefined) page = await client.users({ limit: 50, cursor: page.cursor });
 * ```
 */
export interface UsersPage {
  users: { name: string; status: 'online' | 'busy' }[];
  total: number;
  cursor?: string;
}

/**
 * Events of a {@link CallwireClient}.
 *
 * @example
 * ```ts
 * client.on('stateChanged', (state) => (banner.hidden = state === 'open'));
 * client.on('incoming', (incoming) => showRinging(incoming));
 * client.on('callStarted', (call) => showCall(call));
 * ```
 */
export interface ClientEvents {
  stateChanged: (state: ConnectionState, previous: ConnectionState) => void;
  incoming: (call: IncomingCall) => void;
  presence: (update: PresenceUpdate) => void;
  /** Every Call this client gets: placed, joined or accepted (also after a refusal ends it at once). */
  callStarted: (call: Call) => void;
  /**
   * The account's devices signed in now changed (one signed in or out, was renamed, or
   * entered or left a call): see `client.devices`.
   */
  devices: (devices: DeviceInfo[]) => void;
  error: (err: CallwireError) => void;
}

/**
 * A logged-in callwire session. Get one with `connect()`.
 *
 * @example
 * ```ts
 * const client = await connect('wss://calls.example.com/', { name: 'alice' });
 * client.on('incoming', (incoming) => incoming.accept());
 * const call = await client.call('bob');
 * ```
 */
export class CallwireClient {
  #name: string;
  #iceServers: RTCIceServer[] = [];
  #sessionToken: string | undefined;
  #device: DeviceIdentity | undefined;
  #devices: DeviceInfo[] = [];
  readonly #httpBase: string;
  #online = new Map<string, 'online' | 'busy'>();
  readonly #calls = new Map<string, Call>();
  readonly #incoming = new Map<string, IncomingCall>();
  #roomCall: Call | null = null;
  #watched: string[] | null = null;
  /** What existed when the session resumed, checked against the server's list once settled. */
  #resumeSnapshot: { calls: readonly Call[]; incoming: IncomingCall[] } | null = null;
  /** This page took back a session a previous page left (a reload): it adopts its calls. */
  #restoring = false;
  /**
   * Calls this page is taking back (#restore) while its camera starts: what arrives for them
   * meanwhile (the callee's accept, a hang-up) waits here and is handled once the call exists.
   */
  readonly #comingBack = new Map<string, ServerMessage[]>();
  /** Calls that ended while we were away: their hangup is already on its way. */
  readonly #endedWhileAway = new Set<string>();
  readonly #events = new Emitter<ClientEvents>();
  readonly #signaling: Signaling;
  readonly #callContext: CallContext;
  readonly #incomingContext: IncomingContext;
  #deviceKeys: DeviceKeys | null = null;

  /** @internal Use `connect()`. */
  constructor(config: ClientConfig) {
    this.#name = config.name;
    this.#device = config.signaling.device;
    this.#httpBase = new URL(config.signaling.url).origin.replace(/^ws/i, 'http');
    this.#signaling = new Signaling(config.signaling);
    const s = this.#signaling.events;
    s.on('stateChanged', (state, previous) => this.#events.emit('stateChanged', state, previous));
    s.on('loggedIn', (reply) => this.#onLogin(reply));
    s.on('message', (msg) => this.#dispatch(msg));
    s.on('suspended', () => {
      for (const call of this.#calls.values()) call.ownSignaling(false);
    });
    s.on('resumed', (reply, restored) => this.#onResumed(reply, restored));
    s.on('resumeSettled', (reply) => this.#onResumeSettled(reply));
    s.on('dropped', () => this.#endAll('disconnected'));
    s.on('error', (err) => this.#events.emit('error', err));
    this.#callContext = {
      send: (msg) => this.#signaling.send(msg),
      rtcConfiguration: () => {
        // The device key makes a call's fingerprint this device's (device-key.ts); an app that
        // passes its own certificates keeps them.
        const cert = this.#deviceKeys?.certificate;
        return {
          ...(cert ? { certificates: [cert] } : {}),
          // Gathering starts before the offer, so relay candidates (the only way out of a
          // network that drops UDP) are ready when checks begin rather than seconds later.
          iceCandidatePoolSize: 1,
          ...config.rtcConfiguration,
          iceServers: config.rtcConfiguration?.iceServers ?? this.#iceServers,
        };
      },
      deviceKeys: () => this.#deviceKeys,
      selfName: () => this.#name,
      statsIntervalMs: config.statsIntervalMs,
      files: config.files,
      ended: (call) => this.#forget(call),
      error: (err) => this.#events.emit('error', err),
    };
    this.#incomingContext = {
      prepare: (options) => prepareMedia(options),
      request: (msg, onReply) => this.#signaling.request(msg, onReply),
      send: (msg) => this.#signaling.send(msg),
      createCall: (init) => this.#adopt(init),
      calls: () => this.calls,
      settled: (incoming) => {
        if (this.#signaling.state !== 'open') this.#endedWhileAway.add(incoming.callId);
        this.#incoming.delete(incoming.callId);
      },
    };
  }

  /** @internal Open the connection and log in. */
  async start(): Promise<void> {
    // The key first: a login may hand back calls to restore (a reload), whose new peer
    // connections must already use it.
    this.#deviceKeys = await DeviceKeys.load();
    await this.#signaling.start();
  }

  /**
   * This device's key: the DTLS certificate every call of this browser uses, so that the people
   * it calls can recognize it (see `call.verification`). Undefined where there is no WebRTC.
   * `persistent: false` means the browser cannot store it (no IndexedDB): the key lasts as long
   * as the page, and no verification is remembered.
   *
   * @example
   * ```ts
   * keyLabel.textContent = client.deviceKey?.fingerprint ?? 'no device key';
   * ```
   */
  get deviceKey(): DeviceKeyInfo | undefined {
    return this.#deviceKeys?.info;
  }

  /**
   * Replace this device's key with a new one, for calls placed or answered from now on (calls
   * in progress keep theirs). Everyone who verified this device sees `key_changed` on the
   * next call and has to compare the code again: rotate when the device may have been
   * compromised, not routinely.
   *
   * @example
   * ```ts
   * const { fingerprint } = await client.rotateDeviceKey();
   * ```
   */
  async rotateDeviceKey(): Promise<DeviceKeyInfo> {
    if (this.#deviceKeys === null) throw new InvalidStateError('the client has not started');
    return this.#deviceKeys.rotate();
  }

  /** The name the server logged us in with (normalized, e.g. NFKC). */
  get name(): string {
    return this.#name;
  }
  get state(): ConnectionState {
    return this.#signaling.state;
  }
  /**
   * The short-lived token from the last login reply (password and jwt servers; undefined in
   * open mode). It authenticates the HTTP API, and on a password server a later login
   * (`connect(url, { name, token })`), so an app can stay signed in across a page reload.
   *
   * @example
   * ```ts
   * if (client.sessionToken) localStorage.setItem('session', client.sessionToken);
   * ```
   */
  /**
   * The largest file this client accepts from a peer from now on (every call, also those in
   * progress). A larger offer is refused at once: the call's `fileOffered` gets it with
   * `tooLarge: true`, and the sender's transfer fails with `transfer_too_large`.
   *
   * @example
   * ```ts
   * client.setMaxFileBytes(100 * 1024 * 1024); // 100 MiB
   * ```
   */
  setMaxFileBytes(bytes: number): void {
    if (typeof bytes !== 'number' || !Number.isFinite(bytes) || bytes <= 0)
      throw new TypeError('bytes must be a positive number');
    this.#callContext.files.maxFileBytes = bytes;
  }

  get maxFileBytes(): number {
    return this.#callContext.files.maxFileBytes;
  }

  get sessionToken(): string | undefined {
    return this.#sessionToken;
  }
  /** Which device this client is (undefined when `device: false`). */
  get device(): DeviceIdentity | undefined {
    return this.#device === undefined ? undefined : { ...this.#device };
  }

  /**
   * The account's devices signed in now, this one included (`current: true`), as the server
   * last said; kept current by the `devices` event. Empty in open mode.
   */
  get devices(): readonly DeviceInfo[] {
    return this.#devices;
  }

  /**
   * Rename a device of this account (this one or another); resolves with the new list.
   *
   * @example
   * ```ts
   * await client.renameDevice(client.device!.id, 'Living room tablet');
   * ```
   */
  async renameDevice(id: string, label: string): Promise<DeviceInfo[]> {
    if (typeof label !== 'string' || label.trim() === '') throw new TypeError('label must be a non-empty string');
    const body = await this.#api('PATCH', `/api/devices/${encodeURIComponent(id)}`, { label });
    return ((body as { devices: DeviceInfo[] }).devices ?? []).map((d) => ({ ...d }));
  }

  /**
   * Sign another device of this account out: its calls end and it must sign in again with the
   * password. Signing this device out closes this client (`signed_out`).
   *
   * @example
   * ```ts
   * for (const d of client.devices) if (!d.current) await client.signOutDevice(d.id);
   * ```
   */
  async signOutDevice(id: string): Promise<void> {
    await this.#api('DELETE', `/api/devices/${encodeURIComponent(id)}`);
  }

  async #api(method: string, path: string, json?: unknown): Promise<unknown> {
    const token = this.#sessionToken;
    if (token === undefined) throw new CallwireError('invalid_credentials', 'this server has no accounts (open mode)');
    const res = await fetch(this.#httpBase + path, {
      method,
      headers: {
        authorization: `Bearer ${token}`,
        ...(json === undefined ? {} : { 'content-type': 'application/json' }),
      },
      ...(json === undefined ? {} : { body: JSON.stringify(json) }),
    });
    if (res.status === 404) throw new CallwireError('not_in_call', 'no such device of this account');
    if (res.status === 401) throw new CallwireError('invalid_credentials', 'the session token is no longer valid');
    if (!res.ok) throw new CallwireError('service_unavailable', `HTTP ${res.status}`);
    return res.status === 204 ? undefined : res.json();
  }

  /** STUN/TURN servers from the login reply (refreshed on every login). */
  get iceServers(): RTCIceServer[] {
    return this.#iceServers.map((s) => ({ ...s }));
  }
  /** Who is online: the login reply's first page, kept current by presence events. */
  get online(): ReadonlyMap<string, 'online' | 'busy'> {
    return this.#online;
  }

  /**
   * Check what this network lets through, with the STUN/TURN servers and credentials this
   * client was issued: UDP to the servers (so direct calls are possible), TURN over UDP, TCP
   * and TLS. Gathers in a throwaway peer connection (nothing reaches anybody); resolves within
   * about `timeoutMs` (default 5 s) with a plain-language verdict.
   *
   * @example
   * ```ts
   * const { verdict } = await client.testConnection();
   * if (verdict.kind === 'blocked') banner.textContent = verdict.text;
   * ```
   */
  testConnection(options: { timeoutMs?: number } = {}): Promise<ConnectionTestResult> {
    const servers = this.#callContext.rtcConfiguration().iceServers ?? [];
    return testIceServers(servers, {
      ...options,
      signaling: this.#signaling.state === 'open' ? 'ok' : 'failed',
    });
  }
  /** Calls in progress (not ended). */
  get calls(): readonly Call[] {
    return [...this.#calls.values(), ...(this.#roomCall !== null ? [this.#roomCall] : [])];
  }

  on<E extends keyof ClientEvents>(event: E, listener: ClientEvents[E]): Unsubscribe {
    return this.#events.on(event, listener);
  }

  /**
   * Call somebody by name. Resolves once the server rings them (state `ringing`); the call then
   * connects, or ends with `declined`, `busy`, `no_answer`, `unavailable`... A refusal the server
   * gives at once (busy, unavailable) still resolves with a Call, which ends on the next task so
   * listeners attached after `await` see it. Rejects with a CallwireError for protocol refusals
   * (`self_call`, `rate_limited`, `name_invalid`) and `media_unavailable`.
   */
  async call(name: string, options: CallOptions = {}): Promise<Call> {
    if (typeof name !== 'string' || name.length === 0)
      throw new TypeError('name must be a non-empty string');
    this.#assertOpen();
    const media = await prepareMedia(options);
    try {
      return await this.#signaling.request(
        { type: 'call', to: name, media: media.intent },
        (reply) => this.#onCallReply(name, media, reply),
      );
    } catch (err) {
      stopOwned(media);
      throw err;
    }
  }

  /** Join a meeting room (meet by link). The Call is `waiting` until a second person joins. */
  async join(room: string, options: CallOptions = {}): Promise<Call> {
    if (typeof room !== 'string' || !/^[A-Za-z0-9_-]{1,64}$/.test(room)) {
      throw new TypeError('room must be 1-64 letters, digits, "_" or "-"');
    }
    this.#assertOpen();
    if (this.#roomCall !== null) throw new InvalidStateError('already waiting in a room');
    const media = await prepareMedia(options);
    try {
      return await this.#signaling.request({ type: 'join', room, media: media.intent }, (reply) => {
        if (reply.type === 'joined') {
          const call = this.#adopt({
            id: '',
            peer: '',
            role: 'caller',
            state: 'waiting',
            media,
            room,
          });
          return call;
        }
        if (reply.type === 'accepted') {
          return this.#adopt({
            id: reply.callId,
            peer: reply.name,
            role: reply.role,
            state: 'connecting',
            media,
            room,
          });
        }
        throw new CallwireError('protocol_error', `unexpected ${reply.type} reply to join`);
      });
    } catch (err) {
      stopOwned(media);
      throw err;
    }
  }

  /** One page of who is online, sorted by name, filtered by a case-insensitive substring. */
  async users(query: { query?: string; limit?: number; cursor?: string } = {}): Promise<UsersPage> {
    this.#assertOpen();
    const msg: ClientMessage = { type: 'users' };
    if (query.query !== undefined) msg.query = query.query;
    if (query.limit !== undefined) msg.limit = query.limit;
    if (query.cursor !== undefined) msg.cursor = query.cursor;
    return this.#signaling.request(msg, (reply) => {
      if (reply.type !== 'users')
        throw new CallwireError('protocol_error', `unexpected ${reply.type} reply to users`);
      const page: UsersPage = { users: reply.users.map((u) => ({ ...u })), total: reply.total };
      if (reply.cursor !== undefined) page.cursor = reply.cursor;
      return page;
    });
  }

  /** Receive live presence of these names (replaces the previous list; kept across reconnects). */
  watch(names: string[]): void {
    if (!Array.isArray(names) || names.some((n) => typeof n !== 'string')) {
      throw new TypeError('names must be an array of strings');
    }
    this.#watched = [...names];
    this.#signaling.send({ type: 'watch', names: this.#watched });
  }

  /** Hang up every call, log out and close the connection. Idempotent. */
  close(): void {
    if (this.#signaling.state === 'closed') return;
    for (const call of this.calls) call.hangup();
    for (const incoming of [...this.#incoming.values()]) incoming.decline();
    this.#signaling.close();
    this.#events.clear();
  }

  #assertOpen(): void {
    const state = this.#signaling.state;
    if (state === 'closed') throw new CallwireError('closed');
    if (state !== 'open') throw new CallwireError('disconnected');
  }

  #onCallReply(to: string, media: PreparedMedia, reply: ServerMessage): Call {
    switch (reply.type) {
      case 'ringing':
        return this.#adopt({
          id: reply.callId,
          peer: reply.name,
          role: 'caller',
          state: 'ringing',
          media,
        });
      case 'accepted': {
        // Crossing invites: the peer was already calling us; the server merged both into its call.
        const incoming = this.#incoming.get(reply.callId);
        const merged = incoming?.answered(reply, media);
        return (
          merged ??
          this.#adopt({
            id: reply.callId,
            peer: reply.name,
            role: reply.role,
            state: 'connecting',
            media,
          })
        );
      }
      case 'leave':
        return this.#adopt({
          id: reply.callId ?? '',
          peer: reply.name ?? to,
          role: 'caller',
          state: 'ringing',
          media,
          refused: reply.reason,
        });
      default:
        throw new CallwireError('protocol_error', `unexpected ${reply.type} reply to call`);
    }
  }

  /** Register a new Call and announce it. */
  #adopt(init: CallInit): Call {
    const call = new Call(this.#callContext, init);
    if (init.state === 'waiting') this.#roomCall = call;
    else if (init.id !== '' && init.refused === undefined) this.#calls.set(init.id, call);
    this.#events.emit('callStarted', call);
    return call;
  }

  #forget(call: Call): void {
    if (this.#signaling.state !== 'open' && call.id !== '') this.#endedWhileAway.add(call.id);
    if (this.#calls.get(call.id) === call) this.#calls.delete(call.id);
    if (this.#roomCall === call) this.#roomCall = null;
  }

  #onLogin(reply: LoginSuccess): void {
    if (reply.name !== undefined) this.#name = reply.name;
    this.#iceServers = (reply.iceServers ?? []).map((s) => ({ ...s }));
    if (reply.sessionToken !== undefined) this.#sessionToken = reply.sessionToken;
    if (reply.device !== undefined) this.#device = { ...reply.device };
    this.#online = new Map((reply.users ?? []).map((u) => [u.name, u.status]));
    if (this.#watched !== null) this.#signaling.send({ type: 'watch', names: this.#watched });
  }

  #onResumed(reply: LoginSuccess, restored: boolean): void {
    if (restored) this.#restoring = true;
    this.#resumeSnapshot = { calls: this.calls, incoming: [...this.#incoming.values()] };
    for (const c of reply.calls ?? []) {
      this.#calls.get(c.callId)?.peerPresence(c.peerReconnecting === true);
    }
  }

  #onResumeSettled(reply: LoginSuccess): void {
    if (this.#restoring) {
      this.#restoring = false;
      this.#resumeSnapshot = null;
      for (const c of reply.calls ?? []) void this.#restore(c);
      return;
    }
    const listed = new Set((reply.calls ?? []).map((c) => c.callId));
    const snapshot = this.#resumeSnapshot ?? { calls: [], incoming: [] };
    this.#resumeSnapshot = null;
    for (const call of snapshot.calls) {
      // A room call still waiting alone has no call id; the room itself is not in the list.
      if (call.id !== '' && !listed.has(call.id)) call.end('disconnected');
    }
    for (const incoming of snapshot.incoming) {
      if (!listed.has(incoming.callId)) incoming.cancelled('disconnected', false);
    }
    // Calls we held when the resume began count as known even if they ended since (hung up
    // before the held messages were through): the server has ended them already.
    const held = new Set<string>([
      ...snapshot.calls.map((c) => c.id),
      ...snapshot.incoming.map((i) => i.callId),
    ]);
    for (const callId of listed) {
      const known =
        this.#calls.has(callId) ||
        this.#incoming.has(callId) ||
        this.#endedWhileAway.has(callId) ||
        held.has(callId);
      // A call whose reply was lost with the old socket: nobody here can take part in it.
      if (!known) this.#signaling.send({ type: 'hangup', callId });
    }
    this.#endedWhileAway.clear();
    for (const call of this.#calls.values()) call.ownSignaling(true);
  }

  /**
   * A call the session had when the previous page went: a connected one goes on here on a new
   * peer connection (the peer is told to restart), a ringing one rings or waits again.
   */
  async #restore(c: ResumedCallValue): Promise<void> {
    const intent = { audio: c.media.audio ?? true, video: c.media.video ?? false };
    if (c.role === 'callee' && c.state === 'ringing') {
      const incoming = new IncomingCall(this.#incomingContext, {
        type: 'incoming',
        callId: c.callId,
        from: c.name,
        name: c.name,
        media: c.media,
      });
      this.#incoming.set(c.callId, incoming);
      this.#events.emit('incoming', incoming);
      return;
    }
    // Tell the peer at once, before the camera starts (a few hundred ms): it drops its dead
    // connection and waits for our offer instead of restarting ICE towards the page that went.
    // A caller whose call still rings tells the server too: what the page that went had
    // offered is dropped, and this page offers again.
    if (c.state === 'connected' || (c.state === 'ringing' && c.role === 'caller'))
      this.#signaling.send({ type: 'restart', callId: c.callId });
    const held: ServerMessage[] = [];
    this.#comingBack.set(c.callId, held);
    let media: PreparedMedia;
    try {
      media = await prepareMedia(intent);
    } catch {
      // No camera or microphone now (permission withdrawn): take the call back receive-only.
      media = { stream: null, owned: false, intent };
    } finally {
      this.#comingBack.delete(c.callId);
    }
    if (this.#signaling.state === 'closed') return stopOwned(media);
    const answeredAt = c.answeredAt === undefined ? undefined : Date.parse(c.answeredAt);
    this.#adopt({
      id: c.callId,
      peer: c.name,
      role: c.role,
      state: c.state === 'connected' ? 'connecting' : 'ringing',
      media,
      ...(c.state === 'connected' ? { takeover: 'reload' as const } : {}),
      ...(answeredAt !== undefined && Number.isFinite(answeredAt) ? { answeredAtMs: answeredAt } : {}),
    });
    for (const msg of held) this.#dispatch(msg);
  }

  /**
   * Move a call of this account from another of its devices to this one (see
   * `client.devices`): this device takes the call on a new peer connection, the other device
   * leaves it (`moved`), and the peer sees a moment of "reconnecting". Resolves with the Call.
   *
   * @example
   * ```ts
   * const other = client.devices.find((d) => !d.current && d.call);
   * if (other?.call) showCall(await client.moveCallHere(other.call.callId, { video: true }));
   * ```
   */
  async moveCallHere(callId: string, options: CallOptions = {}): Promise<Call> {
    if (typeof callId !== 'string' || callId === '') throw new TypeError('callId must be a non-empty string');
    this.#assertOpen();
    const media = await prepareMedia(options);
    // The timer goes on from when the call was answered, as the device list says.
    const since = this.#devices.find((d) => d.call?.callId === callId)?.call?.since;
    const answeredAt = since === undefined ? NaN : Date.parse(since);
    try {
      return await this.#signaling.request({ type: 'move', callId }, (reply) => {
        if (reply.type !== 'accepted')
          throw new CallwireError('protocol_error', `unexpected ${reply.type} reply to move`);
        return this.#adopt({
          id: reply.callId,
          peer: reply.name,
          role: reply.role,
          state: 'connecting',
          media,
          takeover: 'moved',
          ...(Number.isFinite(answeredAt) ? { answeredAtMs: answeredAt } : {}),
        });
      });
    } catch (err) {
      stopOwned(media);
      throw err;
    }
  }

  #endAll(reason: 'disconnected'): void {
    this.#resumeSnapshot = null;
    this.#endedWhileAway.clear();
    for (const call of this.calls) call.end(reason);
    for (const incoming of [...this.#incoming.values()]) incoming.cancelled(reason, false);
  }

  #dispatch(msg: ServerMessage): void {
    const callId = 'callId' in msg ? msg.callId : undefined;
    const held = callId === undefined ? undefined : this.#comingBack.get(callId);
    if (held !== undefined) return void held.push(msg);
    switch (msg.type) {
      case 'incoming': {
        if (this.#incoming.has(msg.callId) || this.#calls.has(msg.callId)) return;
        const incoming = new IncomingCall(this.#incomingContext, msg);
        this.#incoming.set(msg.callId, incoming);
        this.#events.emit('incoming', incoming);
        return;
      }
      case 'accepted': {
        const call = this.#calls.get(msg.callId);
        if (call !== undefined) return call.accepted(msg);
        const incoming = this.#incoming.get(msg.callId);
        if (incoming !== undefined) return void incoming.answered(msg);
        const room = this.#roomCall;
        if (room !== null && room.state === 'waiting') {
          this.#roomCall = null;
          this.#calls.set(msg.callId, room);
          room.accepted(msg);
        }
        return;
      }
      case 'offer':
      case 'answer':
      case 'candidate':
        this.#calls.get(msg.callId)?.signal(msg);
        return;
      case 'leave': {
        const call =
          msg.callId !== undefined ? this.#calls.get(msg.callId) : this.#callWith(msg.name);
        if (call !== undefined) return call.signal(msg);
        if (msg.callId !== undefined)
          this.#incoming.get(msg.callId)?.cancelled(msg.reason, msg.missed === true);
        return;
      }
      case 'reconnecting':
      case 'reconnected':
        // The peer's signaling connection dropped or came back; media goes on either way.
        this.#calls.get(msg.callId)?.peerPresence(msg.type === 'reconnecting');
        return;
      case 'presence':
        return this.#presence(msg);
      case 'presences':
        // One tick's changes in one frame (login sends presenceBatch): the same events, in order.
        for (const update of msg.users) this.#presence(update);
        return;
      case 'hold':
        this.#calls.get(msg.callId)?.peerHold(msg.held);
        return;
      case 'restart':
        this.#calls.get(msg.callId)?.restartPeer();
        return;
      case 'devices': {
        this.#devices = msg.devices.map((d) => ({ ...d }));
        const mine = this.#devices.find((d) => d.current);
        if (mine !== undefined && this.#device !== undefined && mine.label !== this.#device.label) {
          // Renamed (here or from another device): keep the name for the next visit.
          this.#device = { ...this.#device, label: mine.label };
          rememberDeviceLabel(mine.label);
        }
        this.#events.emit('devices', this.#devices.map((d) => ({ ...d })));
        return;
      }
      case 'iceServers':
        // Fresh TURN credentials before the old ones expire: new connections and ICE restarts
        // of calls in progress use them.
        this.#iceServers = msg.iceServers.map((s) => ({ ...s }));
        for (const call of this.#calls.values())
          call.reconfigure(this.#callContext.rtcConfiguration());
        return;
      case 'error':
        this.#events.emit('error', new CallwireError(msg.code, msg.message));
        return;
      case 'login':
      case 'ringing':
      case 'users':
      case 'joined':
      case 'pong':
      case 'reconnect':
        // Replies whose request is gone (timed out), or handled by the connection itself.
        return;
      default:
        assertNever(msg);
    }
  }

  #presence({ name, status }: PresenceUpdate): void {
    if (status === 'offline') this.#online.delete(name);
    else this.#online.set(name, status);
    this.#events.emit('presence', { name, status });
  }

  #callWith(name: string | undefined): Call | undefined {
    if (name === undefined) return undefined;
    for (const call of this.#calls.values()) if (call.peer === name) return call;
    return undefined;
  }
}

/** Capture (or take the app's) media for a call, before anything is sent to the server. */
export async function prepareMedia(options: CallOptions): Promise<PreparedMedia> {
  if (options.localStream !== undefined) {
    const s = options.localStream;
    return {
      stream: s,
      owned: false,
      intent: { audio: s.getAudioTracks().length > 0, video: s.getVideoTracks().length > 0 },
    };
  }
  const audio = options.audio ?? true;
  const video = options.video ?? true;
  // Without WebRTC (Node, signaling-only use) there is nothing to capture or send.
  if (!hasWebRtc()) return { stream: null, owned: false, intent: { audio, video } };
  const stream = await captureUserMedia({ audio, video });
  return { stream, owned: stream !== null, intent: { audio, video } };
}

function stopOwned(media: PreparedMedia): void {
  if (media.owned) for (const t of media.stream?.getTracks() ?? []) t.stop();
}
