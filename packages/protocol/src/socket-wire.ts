import { create, fromBinary, toBinary, type MessageInitShape } from '@bufbuild/protobuf';
import {
  ClientFrameSchema,
  ServerFrameSchema,
  type ClientFrame as WireClientFrame,
  type Envelope as WireEnvelope,
  type ServerFrame as WireServerFrame,
} from './generated/kluis/socket/v1/socket_pb.js';

export * as SocketWire from './generated/kluis/socket/v1/socket_pb.js';
export type { WireClientFrame, WireEnvelope, WireServerFrame };

export type ClientFrameInit = MessageInitShape<typeof ClientFrameSchema>;
export type ServerFrameInit = MessageInitShape<typeof ServerFrameSchema>;

/*
 * The codec of both sockets (socket.proto). Bytes fields decode as views into the frame,
 * so a ciphertext is never copied on its way in; unknown fields are dropped, not kept.
 * Decoders throw on malformed input: callers answer with an error frame or a close code.
 */
const DECODE = { readUnknownFields: false } as const;

export function encodeClientFrame(frame: ClientFrameInit): Uint8Array {
  return toBinary(ClientFrameSchema, create(ClientFrameSchema, frame));
}

export function decodeClientFrame(bytes: Uint8Array): WireClientFrame {
  return fromBinary(ClientFrameSchema, bytes, DECODE);
}

export function encodeServerFrame(frame: ServerFrameInit): Uint8Array {
  return toBinary(ServerFrameSchema, create(ServerFrameSchema, frame));
}

export function decodeServerFrame(bytes: Uint8Array): WireServerFrame {
  return fromBinary(ServerFrameSchema, bytes, DECODE);
}

/** A pushed envelope with plain numbers and absent fields left out (what clients hand on). */
export interface PlainEnvelope {
  guid: string;
  type: number;
  sourceAccount?: string;
  sourceDevice?: number;
  timestamp?: number;
  serverTimestamp: number;
  content: Uint8Array<ArrayBuffer>;
}

export function plainEnvelope(e: WireEnvelope): PlainEnvelope {
  return {
    guid: e.guid,
    type: e.type,
    ...(e.sourceAccount !== undefined ? { sourceAccount: e.sourceAccount } : {}),
    ...(e.sourceDevice !== undefined ? { sourceDevice: e.sourceDevice } : {}),
    ...(e.timestamp !== undefined ? { timestamp: Number(e.timestamp) } : {}),
    serverTimestamp: Number(e.serverTimestamp),
    // Decoded views into the frame's Buffer, which is ArrayBuffer-backed.
    content: e.content as Uint8Array<ArrayBuffer>,
  };
}
