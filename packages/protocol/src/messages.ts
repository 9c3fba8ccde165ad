/**
 * Protocol v1: every message as a schema. The TypeScript types are derived from these schemas
 * (`Static<>`), the server and the SDK validate with them (codec.ts), and docs/PROTOCOL.md is
 * checked against them by a test, so the three cannot drift apart.
 *
 * The native protocol is a superset of the tutorial protocol: the same `type` names and fields
 * (`login{name}`, `offer{offer,name}`, `answer{answer,name}`, `candidate{candidate,name}`,
 * `leave{name}`), with `callId`, `ref` and new message types added. Unknown extra fields are
 * tolerated on input (old clients attach fields we do not use) and never relayed: outgoing
 * messages are built from allowlisted fields only.
 */
import { Type, type Static, type TSchema } from '@sinclair/typebox';
import { END_REASONS, ERROR_CODES } from './codes.js';
import { LIMITS, PROTOCOL_VERSION } from './limits.js';
import { AnswerDescription, IceCandidate, OfferDescription } from './sdp.js';

// The constants live in their own file so the SDK can import them without the schemas.
export { LIMITS, PROTOCOL_VERSION } from './limits.js';

const Ref = Type.String({ maxLength: LIMITS.refChars, description: 'Echoed on the reply.' });
const CallId = Type.String({ minLength: 1, maxLength: 64 });
const RawName = Type.String({ minLength: 1, maxLength: LIMITS.nameRawChars });
const DeviceId = Type.String({ minLength: 8, maxLength: 64, pattern: '^[A-Za-z0-9_-]+$' });
const DeviceLabel = Type.String({ minLength: 1, maxLength: LIMITS.deviceLabelChars });
const Media = Type.Object({
  audio: Type.Optional(Type.Boolean()),
  video: Type.Optional(Type.Boolean()),
});

// ---------------------------------------------------------------------------------------------
// Client -> server

export const ClientMessages = {
  login: Type.Object(
    {
      type: Type.Literal('login'),
      name: RawName,
      password: Type.Optional(Type.String({ maxLength: LIMITS.passwordChars })),
      token: Type.Optional(Type.String({ maxLength: LIMITS.tokenChars })),
      guest: Type.Optional(Type.Boolean()),
      protocol: Type.Optional(Type.Literal(PROTOCOL_VERSION)),
      resume: Type.Optional(Type.Boolean()),
      resumeToken: Type.Optional(Type.String({ maxLength: 512 })),
      device: Type.Optional(Type.Object({ id: DeviceId, label: Type.Optional(DeviceLabel) })),
      callWaiting: Type.Optional(Type.Boolean()),
      presenceBatch: Type.Optional(Type.Boolean()),
      ref: Type.Optional(Ref),
    },
    {
      description:
        'Sign in. `protocol: 1` selects the native protocol; without it the session speaks ' +
        'the tutorial protocol (offers are answered directly, no ringing). `guest: true` ' +
        '(native, with `--rooms guests`) signs in a guest for meet-by-link: no password, the ' +
        'name others see is marked " (guest)", and the session may only join rooms. `device` ' +
        '(native, kept by the client across visits) makes the session one device of its ' +
        'account: with accounts, an account may be signed in on several devices at once, a ' +
        'call rings all of them, and the client is told about its other devices (`devices`). ' +
        '`callWaiting: true` (native): while in a call, a second call rings this session as ' +
        '`incoming` with `waiting: true` instead of finding it busy. `presenceBatch: true` ' +
        '(native): presence comes as `presences` batches, one per tick, instead of one ' +
        '`presence` frame per change; send it again with a `resumeToken`.',
    },
  ),
  call: Type.Object(
    {
      type: Type.Literal('call'),
      to: RawName,
      media: Type.Optional(Media),
      offer: Type.Optional(OfferDescription),
      ref: Type.Optional(Ref),
    },
    { description: 'Invite `to` to a call. Replied to with `ringing` or `leave`.' },
  ),
  accept: Type.Object(
    {
      type: Type.Literal('accept'),
      callId: CallId,
      media: Type.Optional(Media),
      ref: Type.Optional(Ref),
    },
    { description: 'The callee accepts a ringing call.' },
  ),
  decline: Type.Object(
    {
      type: Type.Literal('decline'),
      callId: CallId,
      reason: Type.Optional(Type.Union([Type.Literal('declined'), Type.Literal('busy')])),
      ref: Type.Optional(Ref),
    },
    { description: 'The callee declines a ringing call (optionally as busy).' },
  ),
  cancel: Type.Object(
    { type: Type.Literal('cancel'), callId: CallId, ref: Type.Optional(Ref) },
    { description: 'The caller withdraws a ringing call.' },
  ),
  hangup: Type.Object(
    {
      type: Type.Literal('hangup'),
      callId: Type.Optional(CallId),
      name: Type.Optional(RawName),
      ref: Type.Optional(Ref),
    },
    { description: 'End a call (any state). Identified by `callId`, or by the peer `name`.' },
  ),
  leave: Type.Object(
    {
      type: Type.Literal('leave'),
      callId: Type.Optional(CallId),
      name: Type.Optional(RawName),
      ref: Type.Optional(Ref),
    },
    { description: 'The tutorial spelling of `hangup`.' },
  ),
  offer: Type.Object(
    {
      type: Type.Literal('offer'),
      offer: OfferDescription,
      callId: Type.Optional(CallId),
      name: Type.Optional(RawName),
      media: Type.Optional(Media),
      ref: Type.Optional(Ref),
    },
    {
      description:
        'An SDP offer for the peer. Without a call to the named peer it opens one implicitly ' +
        '(the tutorial flow) and is held until the callee accepts.',
    },
  ),
  answer: Type.Object(
    {
      type: Type.Literal('answer'),
      answer: AnswerDescription,
      callId: Type.Optional(CallId),
      name: Type.Optional(RawName),
      ref: Type.Optional(Ref),
    },
    { description: 'An SDP answer for the peer.' },
  ),
  candidate: Type.Object(
    {
      type: Type.Literal('candidate'),
      candidate: IceCandidate,
      callId: Type.Optional(CallId),
      name: Type.Optional(RawName),
      ref: Type.Optional(Ref),
    },
    { description: 'A trickled ICE candidate for the peer; held while the call rings.' },
  ),
  users: Type.Object(
    {
      type: Type.Literal('users'),
      query: Type.Optional(Type.String({ maxLength: LIMITS.queryChars })),
      limit: Type.Optional(Type.Integer({ minimum: 1, maximum: LIMITS.usersPageMax })),
      cursor: Type.Optional(Type.String({ maxLength: LIMITS.nameRawChars })),
      ref: Type.Optional(Ref),
    },
    { description: 'One page of the online list, sorted by name, filtered by a substring.' },
  ),
  watch: Type.Object(
    {
      type: Type.Literal('watch'),
      names: Type.Array(RawName, { maxItems: LIMITS.watchMax }),
      ref: Type.Optional(Ref),
    },
    { description: 'Receive live presence of these names (replaces the watch list).' },
  ),
  join: Type.Object(
    {
      type: Type.Literal('join'),
      room: Type.String({ minLength: 1, maxLength: 64, pattern: '^[A-Za-z0-9_-]+$' }),
      media: Type.Optional(Media),
      ref: Type.Optional(Ref),
    },
    {
      description:
        'Meet by link: join a two-person room. The first waits (`joined`); the second starts ' +
        'a call between them (both get `accepted`, the first to join is the caller).',
    },
  ),
  ping: Type.Object(
    { type: Type.Literal('ping'), ref: Type.Optional(Ref) },
    { description: 'Application-level keepalive; answered with `pong`.' },
  ),
  report: Type.Object(
    {
      type: Type.Literal('report'),
      callId: CallId,
      path: Type.Union([Type.Literal('direct'), Type.Literal('relay')]),
      ref: Type.Optional(Ref),
    },
    {
      description:
        'A party tells which media path its call took (`relay` = through TURN), for the call ' +
        'record; during the call or after it ended. No reply unless it is refused.',
    },
  ),
  restart: Type.Object(
    { type: Type.Literal('restart'), callId: CallId, ref: Type.Optional(Ref) },
    {
      description:
        "This side's media for a connected call starts over on a new peer connection (its page " +
        'reloaded and resumed the session): the peer is told (`restart`) and waits for the new ' +
        'offer, which this side sends next. A caller whose call still rings may send it too: ' +
        'what it queued (old offer, candidates) is dropped and its next offer replaces it.',
    },
  ),
  move: Type.Object(
    { type: Type.Literal('move'), callId: CallId, ref: Type.Optional(Ref) },
    {
      description:
        'Move a connected call of this account from another of its devices to this one. ' +
        'Replied to with `accepted`; the other device gets `leave` with `moved`, the peer ' +
        '`restart`; this device then offers on a new peer connection.',
    },
  ),
  hold: Type.Object(
    {
      type: Type.Literal('hold'),
      callId: CallId,
      held: Type.Boolean(),
      ref: Type.Optional(Ref),
    },
    {
      description:
        'Put a connected call on hold (`held: true`) or take it off hold. The peer is told ' +
        '(`hold`); the media itself is paused by renegotiating (transceiver direction), as ' +
        'any offer/answer in a connected call. No reply unless it is refused.',
    },
  ),
} as const satisfies Record<string, TSchema>;

// ---------------------------------------------------------------------------------------------
// Server -> client

const UserEntry = Type.Object({
  name: Type.String(),
  status: Type.Union([Type.Literal('online'), Type.Literal('busy')]),
});

const MissedCall = Type.Object({
  callId: CallId,
  from: Type.String(),
  at: Type.String({ description: 'When the call ended, ISO 8601.' }),
  video: Type.Boolean(),
});

const IceServer = Type.Object({
  urls: Type.Union([Type.String(), Type.Array(Type.String())]),
  username: Type.Optional(Type.String()),
  credential: Type.Optional(Type.String()),
});

/** One device of the account, as `devices` lists it. */
const DeviceEntry = Type.Object({
  id: DeviceId,
  label: DeviceLabel,
  current: Type.Boolean(),
  signedInAt: Type.String({ description: 'ISO 8601.' }),
  call: Type.Optional(
    Type.Object({
      callId: CallId,
      peer: Type.String(),
      state: Type.Union([Type.Literal('ringing'), Type.Literal('connected')]),
      since: Type.Optional(Type.String({ description: 'When it was answered, ISO 8601.' })),
    }),
  ),
});

/** A call a resumed session gets back. */
const ResumedCall = Type.Object({
  callId: CallId,
  name: Type.String(),
  role: Type.Union([Type.Literal('caller'), Type.Literal('callee')]),
  state: Type.Union([Type.Literal('ringing'), Type.Literal('connected')]),
  media: Media,
  /** The peer is itself away and may come back. */
  peerReconnecting: Type.Optional(Type.Boolean()),
  /** When the call was answered (ISO 8601), so a page that reloaded keeps its timer. */
  answeredAt: Type.Optional(Type.String()),
});

export const ServerMessages = {
  login: Type.Object(
    {
      type: Type.Literal('login'),
      success: Type.Boolean(),
      code: Type.Optional(Type.String()),
      message: Type.Optional(Type.String()),
      name: Type.Optional(Type.String()),
      protocol: Type.Optional(Type.Literal(PROTOCOL_VERSION)),
      users: Type.Optional(Type.Array(UserEntry)),
      usersTotal: Type.Optional(Type.Integer()),
      iceServers: Type.Optional(Type.Array(IceServer)),
      resumeToken: Type.Optional(Type.String()),
      resumeGraceMs: Type.Optional(Type.Integer({ minimum: 0 })),
      resumed: Type.Optional(Type.Boolean()),
      calls: Type.Optional(Type.Array(ResumedCall)),
      missed: Type.Optional(Type.Array(MissedCall)),
      sessionToken: Type.Optional(Type.String()),
      device: Type.Optional(Type.Object({ id: DeviceId, label: DeviceLabel })),
      retryAfterMs: Type.Optional(Type.Integer({ minimum: 0 })),
      ref: Type.Optional(Ref),
    },
    {
      description:
        'Login result; on success the first page of who is online, calls missed while away and ' +
        'a short-lived token for the HTTP API (password and jwt modes).',
    },
  ),
  ringing: Type.Object(
    {
      type: Type.Literal('ringing'),
      callId: CallId,
      name: Type.String(),
      sendOffer: Type.Optional(Type.Boolean()),
      ref: Type.Optional(Ref),
    },
    {
      description:
        'The call is placed and the callee is being rung. `sendOffer: true` means the callee ' +
        'needs the offer to ring (a one2one client): send it now.',
    },
  ),
  incoming: Type.Object(
    {
      type: Type.Literal('incoming'),
      callId: CallId,
      from: Type.String(),
      name: Type.String(),
      media: Media,
      waiting: Type.Optional(Type.Boolean()),
    },
    {
      description:
        'Somebody is calling; answer with `accept` or `decline`. `waiting: true`: we are in ' +
        'another call (call waiting). Accepting needs that call on hold (`hold`) or ended ' +
        'first; a decline with `reason: "busy"` tells the caller we are busy.',
    },
  ),
  reconnecting: Type.Object(
    { type: Type.Literal('reconnecting'), callId: CallId, name: Type.String() },
    {
      description:
        "The peer's signaling connection dropped; the call (and its media) goes on while the " +
        'server holds messages for it until it resumes or the grace period ends.',
    },
  ),
  reconnected: Type.Object(
    { type: Type.Literal('reconnected'), callId: CallId, name: Type.String() },
    { description: 'The peer resumed its session; held messages have been delivered to it.' },
  ),
  accepted: Type.Object(
    {
      type: Type.Literal('accepted'),
      callId: CallId,
      name: Type.String(),
      role: Type.Union([Type.Literal('caller'), Type.Literal('callee')]),
      media: Media,
      ref: Type.Optional(Ref),
    },
    { description: 'The call is accepted; the caller sends the offer now.' },
  ),
  offer: Type.Object(
    {
      type: Type.Literal('offer'),
      callId: CallId,
      name: Type.String(),
      from: Type.String(),
      offer: OfferDescription,
    },
    { description: 'An offer from the peer, relayed byte for byte.' },
  ),
  answer: Type.Object(
    {
      type: Type.Literal('answer'),
      callId: CallId,
      name: Type.String(),
      from: Type.String(),
      answer: AnswerDescription,
    },
    { description: 'An answer from the peer, relayed byte for byte.' },
  ),
  candidate: Type.Object(
    {
      type: Type.Literal('candidate'),
      callId: CallId,
      name: Type.String(),
      from: Type.String(),
      candidate: IceCandidate,
    },
    { description: 'A candidate from the peer, in the order it was sent.' },
  ),
  leave: Type.Object(
    {
      type: Type.Literal('leave'),
      callId: Type.Optional(CallId),
      name: Type.Optional(Type.String()),
      reason: Type.Union(END_REASONS.map((r) => Type.Literal(r))),
      missed: Type.Optional(Type.Boolean()),
      ref: Type.Optional(Ref),
    },
    { description: 'The call ended. Each party gets exactly one per call, with the reason.' },
  ),
  presence: Type.Object(
    {
      type: Type.Literal('presence'),
      name: Type.String(),
      status: Type.Union([Type.Literal('online'), Type.Literal('busy'), Type.Literal('offline')]),
    },
    {
      description: 'A watched user (or anyone, while fewer than 1,000 are online) changed status.',
    },
  ),
  presences: Type.Object(
    {
      type: Type.Literal('presences'),
      users: Type.Array(
        Type.Object({
          name: Type.String(),
          status: Type.Union([
            Type.Literal('online'),
            Type.Literal('busy'),
            Type.Literal('offline'),
          ]),
        }),
      ),
    },
    {
      description:
        'Presence changes of one tick (about 25 ms), in order, the latest status per name; ' +
        'sent instead of `presence` to a client that logged in with `presenceBatch: true`.',
    },
  ),
  users: Type.Object(
    {
      type: Type.Literal('users'),
      users: Type.Array(UserEntry),
      total: Type.Integer(),
      cursor: Type.Optional(Type.String()),
      ref: Type.Optional(Ref),
    },
    { description: 'A page of the online list; `cursor` fetches the next page.' },
  ),
  joined: Type.Object(
    { type: Type.Literal('joined'), room: Type.String(), ref: Type.Optional(Ref) },
    { description: 'You are in the room, waiting for the other person to open the link.' },
  ),
  pong: Type.Object(
    { type: Type.Literal('pong'), ref: Type.Optional(Ref) },
    { description: 'Reply to `ping`.' },
  ),
  reconnect: Type.Object(
    { type: Type.Literal('reconnect'), afterMs: Type.Integer({ minimum: 0 }) },
    { description: 'The server is draining: reconnect after `afterMs` (jittered per client).' },
  ),
  iceServers: Type.Object(
    { type: Type.Literal('iceServers'), iceServers: Type.Array(IceServer) },
    {
      description:
        'Fresh STUN/TURN servers, sent before the TURN credentials from login (or the previous ' +
        '`iceServers`) expire: use them for new peer connections and ICE restarts.',
    },
  ),
  restart: Type.Object(
    { type: Type.Literal('restart'), callId: CallId, name: Type.String() },
    {
      description:
        "The peer's media starts over on a new peer connection (it reloaded its page, or moved " +
        'the call to another of its devices): close the peer connection of this call, open a new ' +
        'one and answer the offer that follows. The call, its id and its timer go on.',
    },
  ),
  hold: Type.Object(
    {
      type: Type.Literal('hold'),
      callId: CallId,
      name: Type.String(),
      held: Type.Boolean(),
    },
    { description: 'The peer put the call on hold (`held: true`) or took it off hold.' },
  ),
  devices: Type.Object(
    {
      type: Type.Literal('devices'),
      devices: Type.Array(DeviceEntry),
    },
    {
      description:
        "The account's devices signed in now (sent to devices that announced themselves at " +
        'login, after login and whenever one signs in or out, is renamed, or enters or leaves ' +
        'a call). `current` marks the receiver; `call` says whom a device is in a call with.',
    },
  ),
  error: Type.Object(
    {
      type: Type.Literal('error'),
      code: Type.Union(ERROR_CODES.map((c) => Type.Literal(c))),
      message: Type.String(),
      callId: Type.Optional(CallId),
      ref: Type.Optional(Ref),
    },
    { description: 'A coded error; nothing else happened.' },
  ),
} as const satisfies Record<string, TSchema>;

type StaticOf<T extends Record<string, TSchema>> = { [K in keyof T]: Static<T[K]> };

export type ClientMessageMap = StaticOf<typeof ClientMessages>;
export type ServerMessageMap = StaticOf<typeof ServerMessages>;
export type ClientMessage = ClientMessageMap[keyof ClientMessageMap];
export type ServerMessage = ServerMessageMap[keyof ServerMessageMap];
export type ClientMessageType = keyof ClientMessageMap;
export type ServerMessageType = keyof ServerMessageMap;
export type MediaValue = Static<typeof Media>;
export type UserEntryValue = Static<typeof UserEntry>;
export type IceServerValue = Static<typeof IceServer>;
export type MissedCallValue = Static<typeof MissedCall>;
export type ResumedCallValue = Static<typeof ResumedCall>;
export type DeviceEntryValue = Static<typeof DeviceEntry>;
