/**
 * The PeerJS dialect: the frames the `peerjs` browser client sends to its server, served at
 * `<peerjs-path>peerjs?key=&id=&token=`. Messages are keyed by `type` (upper case). The server
 * never reads `src` from a client: it stamps the sender's own id on everything it relays.
 */
import { Type, type Static, type TSchema } from '@sinclair/typebox';

export const PEERJS_LIMITS = {
  /** Longest peer id accepted (the PeerJS server has no bound; its own ids are 36-char UUIDs). */
  idChars: 256,
} as const;

const PeerId = Type.String({ minLength: 1, maxLength: PEERJS_LIMITS.idChars });
/** What PeerJS clients put in a relayed message; relayed as it is, bounded by the frame size. */
const Payload = Type.Object(
  { connectionId: Type.Optional(Type.String({ maxLength: PEERJS_LIMITS.idChars })) },
  {
    description:
      'Relayed unchanged; `connectionId` tells the several connections of two peers apart.',
  },
);
const relayed = (type: 'OFFER' | 'ANSWER' | 'CANDIDATE', what: string) =>
  Type.Object(
    {
      type: Type.Literal(type),
      dst: PeerId,
      payload: Payload,
      src: Type.Optional(Type.Unknown()),
    },
    { description: `${what} for peer \`dst\`. \`src\` is ignored: the server stamps the sender.` },
  );

export const PeerjsClientMessages = {
  HEARTBEAT: Type.Object(
    { type: Type.Literal('HEARTBEAT') },
    { description: 'Keeps the connection alive; never answered.' },
  ),
  OFFER: relayed('OFFER', 'An offer (a new data or media connection)'),
  ANSWER: relayed('ANSWER', 'An answer'),
  CANDIDATE: relayed('CANDIDATE', 'An ICE candidate'),
  LEAVE: Type.Object(
    {
      type: Type.Literal('LEAVE'),
      dst: Type.Optional(PeerId),
      payload: Type.Optional(Payload),
      src: Type.Optional(Type.Unknown()),
    },
    {
      description: 'Tell `dst` this peer closed its connections; without `dst`, leave the server.',
    },
  ),
} as const satisfies Record<string, TSchema>;

type StaticOf<T extends Record<string, TSchema>> = { [K in keyof T]: Static<T[K]> };
export type PeerjsClientMessageMap = StaticOf<typeof PeerjsClientMessages>;
export type PeerjsClientMessage = PeerjsClientMessageMap[keyof PeerjsClientMessageMap];

/** What the server sends (for documentation and tests; the server builds them from allowlists). */
export const PEERJS_SERVER_TYPES = [
  'OPEN',
  'ID-TAKEN',
  'INVALID-KEY',
  'ERROR',
  'OFFER',
  'ANSWER',
  'CANDIDATE',
  'LEAVE',
  'EXPIRE',
] as const;
export type PeerjsServerType = (typeof PEERJS_SERVER_TYPES)[number];
