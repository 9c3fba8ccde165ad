/**
 * What a party asks of its call. The engine applies these in one place (`Engine.apply`), for a
 * party on this node and, carried over the cluster bus unchanged, for a party on another node.
 * The schema is the single source: the type is derived from it, and the cluster validates
 * commands from other nodes against it.
 */
import { Type, type Static } from '@sinclair/typebox';

const Ref = Type.Optional(Type.Union([Type.String({ maxLength: 64 }), Type.Undefined()]));
export const SignalKindSchema = Type.Union([
  Type.Literal('offer'),
  Type.Literal('answer'),
  Type.Literal('candidate'),
]);

export const CallCommandSchema = Type.Union([
  Type.Object({ k: Type.Literal('accept'), ref: Ref, answer: Type.Optional(Type.Unknown()) }),
  Type.Object({ k: Type.Literal('decline'), busy: Type.Boolean(), ref: Ref }),
  Type.Object({ k: Type.Literal('cancel'), ref: Ref }),
  Type.Object({ k: Type.Literal('hangup'), ref: Ref }),
  Type.Object({
    k: Type.Literal('signal'),
    signal: SignalKindSchema,
    payload: Type.Unknown(),
    ref: Ref,
  }),
  /** How the call's media flows (call records). */
  Type.Object({
    k: Type.Literal('report'),
    path: Type.Union([Type.Literal('direct'), Type.Literal('relay')]),
    ref: Ref,
  }),
  /** This party's media starts over on a new peer connection (its page reloaded). */
  Type.Object({ k: Type.Literal('restart'), ref: Ref }),
  /** Put the call on hold, or take it off hold. */
  Type.Object({ k: Type.Literal('hold'), held: Type.Boolean(), ref: Ref }),
  /** The party is gone (its connection closed and it cannot resume). */
  Type.Object({ k: Type.Literal('disconnect') }),
]);

export type CallCommand = Static<typeof CallCommandSchema>;
