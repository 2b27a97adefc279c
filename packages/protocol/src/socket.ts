import { Type, type Static } from '@sinclair/typebox';
import { Uuid } from './common.js';
import { ErrorBody } from './errors.js';
import { MAX_ACKS_PER_FRAME } from './limits.js';
import { Envelope, SendRequest } from './messages.js';
import { MultiSendRequest } from './multi-send.js';

/*
 * One WebSocket per device at GET /v1/socket (same Basic credentials as HTTP). Frames
 * are JSON text. The server pushes envelopes in queue order and sends 'queue-empty'
 * once the stored backlog is drained; the client acks each envelope by guid only after
 * it committed the result, and the server deletes on ack.
 */
export const SocketCloseCode = {
  /** A newer connection of the same device took over. */
  ConnectedElsewhere: 4000,
  /** The device was removed from its account. */
  DeviceRemoved: 4001,
  /** The account was suspended (by an admin, or its subscription lapsed past grace). */
  AccountSuspended: 4003,
  /** The server is shutting down; reconnect (possibly elsewhere). */
  GoingAway: 1001,
  /** This node is draining (SIGTERM): reconnect now, to another node of the cluster. */
  NodeDraining: 4010,
  /** The client kept sending invalid frames. */
  PolicyViolation: 1008,
  /**
   * The client did not read what the server sent (its outbound buffer passed the cap):
   * reconnect and read; envelopes not acked are delivered again.
   */
  SlowConsumer: 4008,
} as const;

export const AckFrame = Type.Object(
  { type: Type.Literal('ack'), guids: Type.Array(Uuid, { minItems: 1, maxItems: MAX_ACKS_PER_FRAME }) },
  { additionalProperties: false },
);
export const SendFrame = Type.Object(
  {
    type: Type.Literal('send'),
    id: Type.Integer({ minimum: 0, maximum: Number.MAX_SAFE_INTEGER }),
    destination: Uuid,
    body: SendRequest,
  },
  { additionalProperties: false },
);
/** A multi-recipient send (PUT /v1/messages) over the socket; answered by a 'response' frame. */
export const SendMultiFrame = Type.Object(
  {
    type: Type.Literal('send-multi'),
    id: Type.Integer({ minimum: 0, maximum: Number.MAX_SAFE_INTEGER }),
    body: MultiSendRequest,
  },
  { additionalProperties: false },
);
export const PingFrame = Type.Object({ type: Type.Literal('ping') }, { additionalProperties: false });
export const ClientFrame = Type.Union([AckFrame, SendFrame, SendMultiFrame, PingFrame]);
export type ClientFrame = Static<typeof ClientFrame>;
export type SendFrame = Static<typeof SendFrame>;
export type SendMultiFrame = Static<typeof SendMultiFrame>;

export const EnvelopeFrame = Type.Object({ type: Type.Literal('envelope'), envelope: Envelope });
export const QueueEmptyFrame = Type.Object({ type: Type.Literal('queue-empty') });
/** The answer to a 'send' frame: the same status and body as the HTTP route. */
export const ResponseFrame = Type.Object({
  type: Type.Literal('response'),
  id: Type.Integer(),
  status: Type.Integer(),
  body: Type.Unknown(),
});
export const PongFrame = Type.Object({ type: Type.Literal('pong') });
export const ErrorFrame = Type.Intersect([Type.Object({ type: Type.Literal('error') }), ErrorBody]);
export const ServerFrame = Type.Union([EnvelopeFrame, QueueEmptyFrame, ResponseFrame, PongFrame, ErrorFrame]);
export type ServerFrame = Static<typeof ServerFrame>;
export type EnvelopeFrame = Static<typeof EnvelopeFrame>;
export type ResponseFrame = Static<typeof ResponseFrame>;
