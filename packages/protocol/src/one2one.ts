/**
 * The one2one dialect: the Kurento-style vocabulary of the lotas/webrtc-signal-sample clients,
 * served at `/call` and `/one2one`. Messages are keyed by `id` instead of `type`. The server
 * translates them at the edge into the same call engine the native protocol uses.
 */
import { Type, type Static, type TSchema } from '@sinclair/typebox';
import { LIMITS } from './messages.js';
import { AnswerDescription, IceCandidate, OfferDescription } from './sdp.js';

const RawName = Type.String({ minLength: 1, maxLength: LIMITS.nameRawChars });

export const One2OneClientMessages = {
  register: Type.Object(
    {
      id: Type.Literal('register'),
      name: RawName,
      password: Type.Optional(Type.String({ maxLength: LIMITS.passwordChars })),
      token: Type.Optional(Type.String({ maxLength: LIMITS.tokenChars })),
    },
    {
      description:
        'Sign in with a name (and a password or token when the server asks for one); answered ' +
        'with `registerResponse`.',
    },
  ),
  list: Type.Object(
    { id: Type.Literal('list') },
    { description: 'Who is online; answered with `listResponse`.' },
  ),
  call: Type.Object(
    {
      id: Type.Literal('call'),
      to: RawName,
      from: Type.Optional(Type.String({ maxLength: LIMITS.nameRawChars })),
      sdpOffer: OfferDescription,
    },
    { description: 'Call `to` with an offer. `from` is ignored: the server stamps the caller.' },
  ),
  incomingCallResponse: Type.Object(
    {
      id: Type.Literal('incomingCallResponse'),
      from: RawName,
      callResponse: Type.Union([Type.Literal('accept'), Type.Literal('reject')]),
      // The sample's field name, but it carries the callee's answer.
      sdpOffer: Type.Optional(AnswerDescription),
      message: Type.Optional(Type.Unknown()),
    },
    { description: 'Accept (with the callee ANSWER in `sdpOffer`) or reject the call from `from`.' },
  ),
  onIceCandidate: Type.Object(
    { id: Type.Literal('onIceCandidate'), candidate: IceCandidate },
    { description: 'A trickled candidate for the peer of the current call.' },
  ),
  stop: Type.Object(
    { id: Type.Literal('stop') },
    { description: 'Hang up the current call; the peer gets `stopCommunication`.' },
  ),
  ping: Type.Object({ id: Type.Literal('ping') }, { description: 'Answered with `pong`.' }),
} as const satisfies Record<string, TSchema>;

export const One2OneServerMessages = {
  registerResponse: Type.Object({
    id: Type.Literal('registerResponse'),
    response: Type.Union([Type.Literal('accepted'), Type.Literal('rejected')]),
    message: Type.Optional(Type.String()),
    code: Type.Optional(Type.String()),
  }),
  listResponse: Type.Object({ id: Type.Literal('listResponse'), list: Type.Array(Type.String()) }),
  incomingCall: Type.Object({
    id: Type.Literal('incomingCall'),
    from: Type.String(),
    offer: OfferDescription,
  }),
  callResponse: Type.Object({
    id: Type.Literal('callResponse'),
    response: Type.Union([Type.Literal('accepted'), Type.Literal('rejected')]),
    sdpAnswer: Type.Optional(AnswerDescription),
    message: Type.Optional(Type.String()),
    reason: Type.Optional(Type.String()),
  }),
  iceCandidate: Type.Object({ id: Type.Literal('iceCandidate'), candidate: IceCandidate }),
  stopCommunication: Type.Object({
    id: Type.Literal('stopCommunication'),
    message: Type.String(),
    reason: Type.String(),
  }),
  pong: Type.Object({ id: Type.Literal('pong') }),
  error: Type.Object({
    id: Type.Literal('error'),
    type: Type.Literal('error'),
    code: Type.String(),
    message: Type.String(),
  }),
} as const satisfies Record<string, TSchema>;

type StaticOf<T extends Record<string, TSchema>> = { [K in keyof T]: Static<T[K]> };
export type One2OneClientMessageMap = StaticOf<typeof One2OneClientMessages>;
export type One2OneClientMessage = One2OneClientMessageMap[keyof One2OneClientMessageMap];
export type One2OneServerMessageMap = StaticOf<typeof One2OneServerMessages>;
export type One2OneServerMessage = One2OneServerMessageMap[keyof One2OneServerMessageMap];
