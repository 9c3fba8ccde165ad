/**
 * What nodes say to each other on `to:<nodeId>` channels: JSON, one message per PUBLISH.
 * `ring`: may this call ring your user? (the callee's node decides busy, as one node would, and
 * keeps the user for the call) answered by `rang`. `event`: deliver an engine event to one of
 * your users (the call is named by id; the receiver rebuilds the event around its own copy of
 * the call). `cmd`: your call's remote party asked for this (the home node applies it with the
 * party's proxy).
 *
 * Messages come only from other callwire nodes through a Redis that only they can reach (ACL
 * and TLS, docs/DEPLOY.md); they are parsed defensively all the same, and a malformed one is
 * dropped and logged rather than trusted.
 */
import type { EndReason, ErrorCode, MediaValue } from '@callwire/protocol';
import type { RemoteCommand } from '../calls/remote.js';
import type { DialectName } from '../dialects/dialect.js';
import type { OutEvent, SignalKind } from '../events.js';

/** An engine event for a remote party, without object references. */
export type EventDto =
  | {
      /** Ring now (the call was reserved by `ring`). */
      readonly t: 'incoming';
      /** The caller's offer when the callee's dialect rings with it (one2one). */
      readonly offer?: unknown;
    }
  | {
      readonly t: 'accepted';
      readonly role: 'caller' | 'callee';
      readonly ref?: string | undefined;
    }
  | { readonly t: 'signal'; readonly signal: SignalKind; readonly payload: unknown }
  | {
      readonly t: 'ended';
      readonly peerName: string;
      readonly role: 'caller' | 'callee';
      readonly reason: EndReason;
      readonly missed: boolean;
      readonly self: boolean;
      readonly wasConnected: boolean;
      readonly ref?: string | undefined;
    }
  | { readonly t: 'peer-state'; readonly name: string; readonly away: boolean }
  | {
      readonly t: 'error';
      readonly code: ErrorCode;
      readonly message?: string | undefined;
      readonly ref?: string | undefined;
    };

export type RingResult = 'ok' | 'busy' | 'gone';

/** A party of a call being handed over: where it is, or null while it is parked. */
export interface PartyDto {
  readonly key: string;
  readonly name: string;
  readonly dialect: DialectName;
  readonly node: string | null;
  /** Parked while its peer already knows it is reconnecting (its socket dropped earlier). */
  readonly away?: boolean;
}

export type NodeMessage =
  | {
      readonly op: 'ring';
      readonly from: string;
      /** Name key of the callee on the receiving node. */
      readonly to: string;
      readonly callId: string;
      readonly callerKey: string;
      readonly caller: string;
      readonly media: MediaValue;
    }
  | {
      readonly op: 'rang';
      readonly from: string;
      readonly callId: string;
      readonly result: RingResult;
    }
  /** Drain: be this connected call's home from now on (its parties on my node are parked). */
  | {
      readonly op: 'adopt';
      readonly from: string;
      readonly callId: string;
      readonly media: MediaValue;
      readonly createdAtMs: number;
      readonly answeredAtMs: number | undefined;
      readonly caller: PartyDto;
      readonly callee: PartyDto;
    }
  /** Drain: my party `key` of your call is parked (it resumes on another node). */
  | {
      readonly op: 'park';
      readonly from: string;
      readonly callId: string;
      readonly key: string;
      /** Its peer was already told it is reconnecting. */
      readonly away?: boolean;
    }
  /** adopt / park done: nothing more for that call will come to you from me. */
  | { readonly op: 'ack'; readonly from: string; readonly callId: string }
  /** Party `key` of your call resumed on my node. */
  | { readonly op: 'moved'; readonly from: string; readonly callId: string; readonly key: string }
  /** No such call here (any more): end your copy of it. */
  | { readonly op: 'gone'; readonly from: string; readonly callId: string }
  /** Resume: a client of your session `key` reached me with its token (hashed): hand it over. */
  | { readonly op: 'takeover'; readonly from: string; readonly key: string; readonly token: string }
  /** The answer to `takeover`: parked for you to take (ok), or not. */
  | { readonly op: 'taken'; readonly from: string; readonly key: string; readonly ok: boolean }
  /** Meet by link: my user `key` joins the person waiting in `room` on your node. */
  | {
      readonly op: 'join';
      readonly from: string;
      readonly room: string;
      readonly key: string;
      readonly name: string;
      readonly dialect: DialectName;
      readonly media: MediaValue;
      readonly ref?: string | undefined;
    }
  /** The answer to `join`: a call started (its id and caller), the room is full, or empty. */
  | {
      readonly op: 'joined';
      readonly from: string;
      readonly room: string;
      readonly key: string;
      readonly result: 'call' | 'full' | 'gone';
      readonly callId?: string;
      readonly caller?: { readonly key: string; readonly name: string };
    }
  | {
      readonly op: 'event';
      readonly from: string;
      /** Name key of the user on the receiving node. */
      readonly to: string;
      readonly callId: string | undefined;
      readonly e: EventDto;
    }
  | {
      readonly op: 'cmd';
      readonly from: string;
      /** Name key of the party (on the sending node) that asked. */
      readonly by: string;
      readonly callId: string;
      readonly c: RemoteCommand;
    };

/**
 * The transferable part of an event for a remote party, with its callId; undefined for events
 * that have no meaning on another node (they are never sent to a remote party).
 */
export function toDto(event: OutEvent): { callId: string | undefined; e: EventDto } | undefined {
  switch (event.t) {
    case 'incoming': {
      const { call } = event;
      const offer = call.callee.dialect.ringsWithOffer
        ? call.held.find((h) => h.signal === 'offer')?.payload
        : undefined;
      return {
        callId: call.id,
        e: offer !== undefined ? { t: 'incoming', offer } : { t: 'incoming' },
      };
    }
    case 'accepted':
      return { callId: event.call.id, e: { t: 'accepted', role: event.role, ref: event.ref } };
    case 'signal':
      return {
        callId: event.call.id,
        e: { t: 'signal', signal: event.signal, payload: event.payload },
      };
    case 'ended':
      return {
        callId: event.callId,
        e: {
          t: 'ended',
          peerName: event.peerName,
          role: event.role,
          reason: event.reason,
          missed: event.missed,
          self: event.self,
          wasConnected: event.wasConnected,
          ref: event.ref,
        },
      };
    case 'peer-state':
      return { callId: event.callId, e: { t: 'peer-state', name: event.name, away: event.away } };
    case 'error':
      return {
        callId: event.callId,
        e: { t: 'error', code: event.code, message: event.message, ref: event.ref },
      };
    default:
      return undefined;
  }
}

/** Parse a message from another node; undefined when it is not one. */
export function parseNodeMessage(text: string): NodeMessage | undefined {
  let m: unknown;
  try {
    m = JSON.parse(text);
  } catch {
    return undefined;
  }
  if (typeof m !== 'object' || m === null) return undefined;
  const o = m as Record<string, unknown>;
  if (typeof o.from !== 'string') return undefined;
  if (o.op === 'event' && typeof o.to === 'string' && typeof o.e === 'object' && o.e !== null) {
    if (o.callId !== undefined && typeof o.callId !== 'string') return undefined;
    if (typeof (o.e as { t?: unknown }).t !== 'string') return undefined;
    return m as NodeMessage;
  }
  if (o.op === 'ring' && typeof o.to === 'string' && typeof o.callId === 'string') {
    if (typeof o.callerKey !== 'string' || typeof o.caller !== 'string') return undefined;
    if (typeof o.media !== 'object' || o.media === null) return undefined;
    return m as NodeMessage;
  }
  if (o.op === 'rang' && typeof o.callId === 'string') {
    if (o.result !== 'ok' && o.result !== 'busy' && o.result !== 'gone') return undefined;
    return m as NodeMessage;
  }
  if (o.op === 'takeover' && typeof o.key === 'string' && typeof o.token === 'string')
    return m as NodeMessage;
  if (o.op === 'taken' && typeof o.key === 'string' && typeof o.ok === 'boolean')
    return m as NodeMessage;
  if (o.op === 'join' || o.op === 'joined') {
    if (typeof o.room !== 'string' || typeof o.key !== 'string') return undefined;
    if (o.op === 'join') {
      if (typeof o.name !== 'string' || typeof o.media !== 'object' || o.media === null)
        return undefined;
      return m as NodeMessage;
    }
    if (o.result !== 'call' && o.result !== 'full' && o.result !== 'gone') return undefined;
    if (o.result === 'call') {
      const caller = o.caller as { key?: unknown; name?: unknown } | undefined;
      if (
        typeof o.callId !== 'string' ||
        typeof caller?.key !== 'string' ||
        typeof caller.name !== 'string'
      ) {
        return undefined;
      }
    }
    return m as NodeMessage;
  }
  if (typeof o.callId !== 'string') return undefined;
  if (o.op === 'adopt') {
    const party = (p: unknown) =>
      typeof p === 'object' &&
      p !== null &&
      typeof (p as PartyDto).key === 'string' &&
      typeof (p as PartyDto).name === 'string' &&
      ((p as PartyDto).node === null || typeof (p as PartyDto).node === 'string');
    if (!party(o.caller) || !party(o.callee) || typeof o.createdAtMs !== 'number') return undefined;
    return m as NodeMessage;
  }
  if ((o.op === 'park' || o.op === 'moved') && typeof o.key === 'string') return m as NodeMessage;
  if (o.op === 'ack' || o.op === 'gone') return m as NodeMessage;
  if (o.op === 'cmd' && typeof o.by === 'string' && typeof o.callId === 'string') {
    if (typeof o.c !== 'object' || o.c === null || typeof (o.c as { k?: unknown }).k !== 'string')
      return undefined;
    return m as NodeMessage;
  }
  return undefined;
}
