/**
 * What nodes say to each other on `to:<nodeId>` channels: JSON, one message per PUBLISH, each a
 * schema here, decoded with the protocol package's decoder machinery (keyed by `op`), exactly
 * as client frames are. The types are derived from the schemas.
 *
 * `ring`: may this call ring your user? (the callee's node decides busy, as one node would, and
 * keeps the user for the call) answered by `rang`. `event`: deliver a call event to one of your
 * users (the call is named by id; the receiver rebuilds the event around its own copy of the
 * call). `cmd`: your call's remote party asked for this (the home applies it as the engine
 * applies any party's command).
 *
 * Messages come only from other callwire nodes through a Redis that only they can reach (ACL
 * and TLS, docs/DEPLOY.md); they are validated all the same, and an invalid one is dropped and
 * logged rather than trusted.
 *
 * `batch`: what one node sends another within one event-loop turn, in one PUBLISH (bus.ts), so
 * that a burst costs Redis and both nodes one wake-up instead of one per message. A batch is an
 * envelope, never a message of its own: its shape is checked strictly (a bad one is refused
 * whole, with a code), and then each message in it is decoded as if it had come alone, so an
 * invalid or unknown one is refused on its own and the others are still delivered, in order.
 */
import { createDecoder } from '@callwire/protocol';
import { Type, type Static, type TLiteral } from '@sinclair/typebox';
import { CallCommandSchema } from '../calls/commands.js';
import type { CallOutEvent } from '../calls/model.js';
import { TRAVELLING, detach, type WireEvent } from '../calls/travel.js';

const literals = <T extends string>(values: readonly T[]) =>
  Type.Union(values.map((v): TLiteral<T> => Type.Literal(v)));

const NodeId = Type.String({ minLength: 1, maxLength: 128 });
/** A name key (normalized name) and a display name. */
const Key = Type.String({ maxLength: 256 });
const Name = Type.String({ maxLength: 256 });
const CallId = Type.String({ minLength: 1, maxLength: 64 });
const Room = Type.String({ minLength: 1, maxLength: 256 });
const Ref = Type.Optional(Type.Union([Type.String({ maxLength: 64 }), Type.Undefined()]));
const Media = Type.Object({
  audio: Type.Optional(Type.Boolean()),
  video: Type.Optional(Type.Boolean()),
});
const Family = Type.Union([
  Type.Literal('native'),
  Type.Literal('tutorial'),
  Type.Literal('one2one'),
  // A PeerJS session is never handed over or in a call; listed so the family type stays one.
  Type.Literal('peerjs'),
]);
const Millis = Type.Number({ minimum: 0 });
/** A device id (accounts): which of a person's devices a message is for or from. */
const Dev = Type.Optional(Type.String({ minLength: 1, maxLength: 64 }));

/**
 * A call event for a party on the receiving node, as calls/travel.ts detaches it: its type
 * (one that travels), its call's id, and the event's own data fields. The receiver rebuilds
 * the event around its own copy of the call and hands it to the party's dialect, which builds
 * its message from allowlisted fields only.
 */
const EventDtoSchema = Type.Object({
  t: literals(TRAVELLING),
  callId: Type.Optional(Type.Union([CallId, Type.Undefined()])),
});
export type EventDto = WireEvent;

/** A party of a call being handed over: where it is, or null while it is parked. */
const PartyDtoSchema = Type.Object({
  key: Key,
  name: Name,
  dialect: Family,
  dev: Dev,
  node: Type.Union([NodeId, Type.Null()]),
  /** Parked while its peer already knows it is reconnecting (its socket dropped earlier). */
  away: Type.Optional(Type.Boolean()),
});
export type PartyDto = Static<typeof PartyDtoSchema>;

const RingResultSchema = Type.Union([
  Type.Literal('ok'),
  Type.Literal('busy'),
  Type.Literal('gone'),
]);
export type RingResult = Static<typeof RingResultSchema>;

export const NodeMessages = {
  ring: Type.Object({
    op: Type.Literal('ring'),
    from: NodeId,
    /** Name key of the callee on the receiving node. */
    to: Key,
    callId: CallId,
    callerKey: Key,
    caller: Name,
    media: Media,
  }),
  rang: Type.Object({
    op: Type.Literal('rang'),
    from: NodeId,
    callId: CallId,
    result: RingResultSchema,
    /** The devices of the callee that ring (accounts): one party each at the call's home. */
    devs: Type.Optional(
      Type.Array(Type.String({ minLength: 1, maxLength: 64 }), { maxItems: 100 }),
    ),
  }),
  /** Drain: be this connected call's home from now on (its parties on my node are parked). */
  adopt: Type.Object({
    op: Type.Literal('adopt'),
    from: NodeId,
    callId: CallId,
    media: Media,
    createdAtMs: Millis,
    answeredAtMs: Type.Optional(Type.Union([Millis, Type.Undefined()])),
    caller: PartyDtoSchema,
    callee: PartyDtoSchema,
  }),
  /** Drain: my party `key` of your call is parked (it resumes on another node). */
  park: Type.Object({
    op: Type.Literal('park'),
    from: NodeId,
    callId: CallId,
    key: Key,
    dev: Dev,
    /** Its peer was already told it is reconnecting. */
    away: Type.Optional(Type.Boolean()),
  }),
  /** adopt / park done: nothing more for that call will come to you from me. */
  ack: Type.Object({ op: Type.Literal('ack'), from: NodeId, callId: CallId }),
  /** Party `key` of your call resumed on my node. */
  moved: Type.Object({
    op: Type.Literal('moved'),
    from: NodeId,
    callId: CallId,
    key: Key,
    dev: Dev,
  }),
  /** No such call here (any more): end your copy of it. */
  gone: Type.Object({ op: Type.Literal('gone'), from: NodeId, callId: CallId }),
  /** Resume: a client of your session `key` reached me with its token (hashed): hand it over. */
  takeover: Type.Object({
    op: Type.Literal('takeover'),
    from: NodeId,
    key: Key,
    token: Type.String({ maxLength: 256 }),
  }),
  /** The answer to `takeover`: parked for you to take (ok), or not. */
  taken: Type.Object({ op: Type.Literal('taken'), from: NodeId, key: Key, ok: Type.Boolean() }),
  /** Meet by link: my user `key` joins the person waiting in `room` on your node. */
  join: Type.Object({
    op: Type.Literal('join'),
    from: NodeId,
    room: Room,
    key: Key,
    name: Name,
    dialect: Family,
    media: Media,
    ref: Ref,
  }),
  /** The answer to `join`: a call started (its id and caller), the room is full, or empty. */
  joined: Type.Union([
    Type.Object({
      op: Type.Literal('joined'),
      from: NodeId,
      room: Room,
      key: Key,
      result: Type.Literal('call'),
      callId: CallId,
      caller: Type.Object({ key: Key, name: Name }),
    }),
    Type.Object({
      op: Type.Literal('joined'),
      from: NodeId,
      room: Room,
      key: Key,
      result: Type.Union([Type.Literal('full'), Type.Literal('gone')]),
    }),
  ]),
  /** PeerJS: frames for the peer `id`, connected on your node (in order). */
  peerjs: Type.Object({
    op: Type.Literal('peerjs'),
    from: NodeId,
    id: Type.String({ minLength: 1, maxLength: 256 }),
    texts: Type.Array(Type.String({ maxLength: 1024 * 1024 }), { minItems: 1, maxItems: 100_000 }),
  }),
  /** PeerJS: the id `id` was taken over on my node with its token (of this digest): close yours. */
  'peerjs-taken': Type.Object({
    op: Type.Literal('peerjs-taken'),
    from: NodeId,
    id: Type.String({ minLength: 1, maxLength: 256 }),
    digest: Type.String({ maxLength: 64 }),
  }),
  /** The devices of account `key` on my node changed (their list is in devinfo:<key>). */
  devices: Type.Object({ op: Type.Literal('devices'), from: NodeId, key: Key }),
  /**
   * "Move call here": device `dev` of account `key`, on node `mover`, takes its person's place
   * in call `callId`. Sent to the node of the device in the call, which passes it to the call's
   * home if that is elsewhere (`from` is then that node, `mover` stays).
   */
  move: Type.Object({
    op: Type.Literal('move'),
    from: NodeId,
    mover: NodeId,
    callId: CallId,
    key: Key,
    name: Name,
    dialect: Family,
    dev: Type.String({ minLength: 1, maxLength: 64 }),
    ref: Ref,
  }),
  /** The call's home moved it to your device: here is the call, for your copy of it. */
  'move-ok': Type.Object({
    op: Type.Literal('move-ok'),
    from: NodeId,
    callId: CallId,
    key: Key,
    dev: Type.String({ minLength: 1, maxLength: 64 }),
    role: Type.Union([Type.Literal('caller'), Type.Literal('callee')]),
    media: Media,
    createdAtMs: Millis,
    answeredAtMs: Type.Optional(Type.Union([Millis, Type.Undefined()])),
    peer: Type.Object({ key: Key, name: Name }),
    ref: Ref,
  }),
  /** The call could not be moved to your device (the code it hears). */
  'move-no': Type.Object({
    op: Type.Literal('move-no'),
    from: NodeId,
    callId: CallId,
    key: Key,
    dev: Type.String({ minLength: 1, maxLength: 64 }),
    code: Type.Union([
      Type.Literal('not_in_call'),
      Type.Literal('invalid_state'),
      Type.Literal('temporarily_unavailable'),
    ]),
    ref: Ref,
  }),
  /** Rename or sign out your device `dev` of account `key` (asked by another of its devices). */
  device: Type.Object({
    op: Type.Literal('device'),
    from: NodeId,
    key: Key,
    dev: Type.String({ minLength: 1, maxLength: 64 }),
    action: Type.Union([Type.Literal('rename'), Type.Literal('signout')]),
    label: Type.Optional(Type.String({ maxLength: 256 })),
  }),
  event: Type.Object({
    op: Type.Literal('event'),
    from: NodeId,
    /** Name key of the user on the receiving node. */
    to: Key,
    /** Which of their devices (accounts); none: the one in that call. */
    dev: Dev,
    callId: Type.Optional(Type.Union([CallId, Type.Undefined()])),
    e: EventDtoSchema,
  }),
  cmd: Type.Object({
    op: Type.Literal('cmd'),
    from: NodeId,
    /** Name key of the party (on the sending node) that asked, and its device (accounts). */
    by: Key,
    dev: Dev,
    callId: CallId,
    c: CallCommandSchema,
  }),
};

type Validated = Static<(typeof NodeMessages)[keyof typeof NodeMessages]>;
/** A validated node message; an event's data is the call event its node detached. */
export type NodeMessage =
  | Exclude<Validated, { op: 'event' }>
  | (Omit<Extract<Validated, { op: 'event' }>, 'e'> & { readonly e: EventDto });
export type NodeMessageOf<Op extends NodeMessage['op']> = Extract<NodeMessage, { op: Op }>;

const decoder = createDecoder(NodeMessages, 'op');

/** Decode a message from another node; undefined when it is not a valid one. */
export function parseNodeMessage(text: string): NodeMessage | undefined {
  const decoded = decoder.decode(text);
  return decoded.ok ? (decoded.msg as NodeMessage) : undefined;
}

/**
 * At most this many messages, and this many bytes of JSON, in one batch: a sender splits what
 * is larger, a receiver refuses a batch beyond either (one PUBLISH must not hold a node's loop
 * for long, nor its memory).
 */
export const BATCH_MAX_MESSAGES = 1000;
export const BATCH_MAX_BYTES = 1024 * 1024;

/**
 * The envelope: exactly these three fields, and messages that are objects (each is decoded on
 * its own afterwards). No `additionalProperties`, so a batch that carries anything else is not
 * one this version understands, and is refused rather than half-read.
 */
const BatchSchema = Type.Object(
  {
    op: Type.Literal('batch'),
    from: NodeId,
    m: Type.Array(Type.Object({}), { minItems: 1, maxItems: BATCH_MAX_MESSAGES }),
  },
  { additionalProperties: false },
);
const batchDecoder = createDecoder({ batch: BatchSchema }, 'op');

/** The JSON of a batch of already-encoded messages (each the text `JSON.stringify` gave). */
export function batchText(from: string, texts: readonly string[]): string {
  return `{"op":"batch","from":${JSON.stringify(from)},"m":[${texts.join(',')}]}`;
}

/** Why a batch, or a message in one, was refused (the `code` of its log line). */
export type NodeRefusal =
  /** Not valid JSON, or a batch whose envelope is not exactly the schema's. */
  | 'node_batch_invalid'
  /** More than BATCH_MAX_BYTES of text. */
  | 'node_batch_too_large'
  /** A message in a batch that is not a valid node message (unknown op, bad fields). */
  | 'node_message_invalid'
  /** A message in a batch that claims to come from another node than its batch. */
  | 'node_message_foreign';

/** What one PUBLISH on a node's channel carried, in order. */
export type NodeText =
  | { readonly ok: true; readonly msgs: readonly (NodeMessage | Refused)[] }
  | { readonly ok: false; readonly code: NodeRefusal; readonly from?: string };
export interface Refused {
  readonly refused: NodeRefusal;
  /** Where it was in its batch, and its op when it named one (for the log). */
  readonly index: number;
  readonly op?: string;
}

/**
 * Decode what arrived on a node's channel: one message (as before batches existed) or a batch.
 * A lone message that is invalid is `ok` with one refused entry, like one in a batch.
 */
export function parseNodeText(text: string): NodeText {
  let value: unknown;
  try {
    value = JSON.parse(text) as unknown;
  } catch {
    return { ok: true, msgs: [refused('node_message_invalid', 0, undefined)] };
  }
  if (!isBatch(value)) {
    const decoded = decoder.check(value);
    const msg = decoded.ok ? (decoded.msg as NodeMessage) : undefined;
    return { ok: true, msgs: [msg ?? refused('node_message_invalid', 0, failedOp(decoded))] };
  }
  const from = typeof value.from === 'string' ? value.from.slice(0, 128) : undefined;
  const withFrom = from === undefined ? {} : { from };
  if (Buffer.byteLength(text) > BATCH_MAX_BYTES) {
    return { ok: false, code: 'node_batch_too_large', ...withFrom };
  }
  const envelope = batchDecoder.check(value);
  if (!envelope.ok) return { ok: false, code: 'node_batch_invalid', ...withFrom };
  const batch = envelope.msg;
  const msgs = batch.m.map((item, index): NodeMessage | Refused => {
    const decoded = decoder.check(item);
    if (!decoded.ok) return refused('node_message_invalid', index, failedOp(decoded));
    const msg = decoded.msg as NodeMessage;
    // A node speaks for itself only: a message must come from the node whose batch holds it.
    return msg.from === batch.from ? msg : refused('node_message_foreign', index, msg.op);
  });
  return { ok: true, msgs };
}

function isBatch(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && (value as { op?: unknown }).op === 'batch';
}

const failedOp = (decoded: { readonly ok: boolean; readonly type?: string }) =>
  decoded.ok ? undefined : decoded.type;

const refused = (code: NodeRefusal, index: number, op: string | undefined): Refused =>
  op === undefined ? { refused: code, index } : { refused: code, index, op };

export const isRefused = (item: NodeMessage | Refused): item is Refused => 'refused' in item;

/** The transferable part of an event for a remote party, with its callId; undefined for an
 * event that never goes to a party on another node. */
export function toDto(
  event: CallOutEvent,
): { callId: string | undefined; e: EventDto } | undefined {
  const e = detach(event);
  return e === undefined ? undefined : { callId: 'callId' in e ? e.callId : undefined, e };
}
