import { decodeClientFrame, decodeServerFrame, encodeClientFrame, encodeServerFrame, plainEnvelope, type ClientFrameInit } from './socket-wire.js';

/*
 * A JSON view of the binary socket frames (ciphertexts as base64), the shape the wire
 * had before 0.2: for tests, the bench and diagnostics, which read and write frames by
 * hand. Nothing on the hot path uses it.
 */

export type JsonServerFrame =
  | {
      type: 'envelope';
      envelope: { guid: string; type: number; sourceAccount?: string; sourceDevice?: number; timestamp?: number; serverTimestamp: number; content: string };
    }
  | { type: 'queue-empty' }
  | { type: 'response'; id: number; status: number; body: unknown }
  | { type: 'pong' }
  | { type: 'error'; code: string; message: string };

interface JsonMessage {
  deviceId: number;
  registrationId: number;
  type: number;
  content: string;
}

interface JsonMultiDevice {
  deviceId: number;
  registrationId: number;
  type?: number;
  content?: string;
}

export type JsonClientFrame =
  | { type: 'ack'; guids: string[] }
  | { type: 'ping' }
  | { type: 'send'; id: number; destination: string; body: { timestamp?: number; messages: JsonMessage[]; resend?: boolean; online?: boolean; shortLived?: boolean } }
  | {
      type: 'send-multi';
      id: number;
      body: {
        timestamp?: number;
        online?: boolean;
        shortLived?: boolean;
        urgent?: boolean;
        shared?: { type: number; content: string };
        recipients: Array<{ accountId: string; devices: JsonMultiDevice[] }>;
      };
    }
  | { type: 'sealed-send'; id: number; destination: string; accessKey: string; body: { messages: JsonMessage[]; resend?: boolean; online?: boolean; shortLived?: boolean } }
  | { type: 'sealed-multi-send'; id: number; accessKey: string; body: { message: string; online?: boolean; shortLived?: boolean } };

const bytes = (base64: string): Uint8Array => Buffer.from(base64, 'base64');
const base64 = (b: Uint8Array): string => Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString('base64');
const big = (n: number | undefined): bigint | undefined => (n === undefined ? undefined : BigInt(n));

function messages(list: JsonMessage[]) {
  return list.map((m) => ({ deviceId: m.deviceId, registrationId: m.registrationId, type: m.type, content: bytes(m.content) }));
}

/** Decodes a server frame into its JSON view; throws on bytes that are not a ServerFrame. */
export function serverFrameToJson(data: Uint8Array): JsonServerFrame {
  const f = decodeServerFrame(data).frame;
  switch (f.case) {
    case 'envelope': {
      const e = plainEnvelope(f.value);
      return { type: 'envelope', envelope: { ...e, content: base64(e.content) } };
    }
    case 'queueEmpty':
      return { type: 'queue-empty' };
    case 'response':
      return { type: 'response', id: Number(f.value.id), status: f.value.status, body: f.value.body === '' ? undefined : JSON.parse(f.value.body) };
    case 'pong':
      return { type: 'pong' };
    case 'error':
      return { type: 'error', code: f.value.code, message: f.value.message };
    default:
      throw new Error('empty or unknown server frame');
  }
}

/** The binary client frame for a JSON view. */
export function clientFrameFromJson(frame: JsonClientFrame): Uint8Array {
  return encodeClientFrame(clientFrameInit(frame));
}

function clientFrameInit(frame: JsonClientFrame): ClientFrameInit {
  switch (frame.type) {
    case 'ack':
      return { frame: { case: 'ack', value: { guids: frame.guids } } };
    case 'ping':
      return { frame: { case: 'ping', value: {} } };
    case 'send': {
      const b = frame.body;
      return {
        frame: {
          case: 'send',
          value: {
            id: BigInt(frame.id),
            destination: frame.destination,
            timestamp: big(b.timestamp),
            messages: messages(b.messages),
            resend: b.resend === true,
            online: b.online === true,
            shortLived: b.shortLived === true,
          },
        },
      };
    }
    case 'send-multi': {
      const b = frame.body;
      return {
        frame: {
          case: 'sendMulti',
          value: {
            id: BigInt(frame.id),
            timestamp: big(b.timestamp),
            online: b.online === true,
            shortLived: b.shortLived === true,
            urgent: b.urgent === true,
            shared: b.shared && { type: b.shared.type, content: bytes(b.shared.content) },
            recipients: b.recipients.map((r) => ({
              accountId: r.accountId,
              devices: r.devices.map((d) => ({ deviceId: d.deviceId, registrationId: d.registrationId, type: d.type, content: d.content === undefined ? undefined : bytes(d.content) })),
            })),
          },
        },
      };
    }
    case 'sealed-send':
      return {
        frame: {
          case: 'sealedSend',
          value: {
            id: BigInt(frame.id),
            destination: frame.destination,
            accessKey: bytes(frame.accessKey),
            messages: messages(frame.body.messages),
            resend: frame.body.resend === true,
            online: frame.body.online === true,
            shortLived: frame.body.shortLived === true,
          },
        },
      };
    case 'sealed-multi-send':
      return {
        frame: {
          case: 'sealedMultiSend',
          value: {
            id: BigInt(frame.id),
            accessKey: bytes(frame.accessKey),
            message: bytes(frame.body.message),
            online: frame.body.online === true,
            shortLived: frame.body.shortLived === true,
          },
        },
      };
  }
}

/** The binary server frame for a JSON view (fake servers in tests, the bench's relay). */
export function serverFrameFromJson(frame: JsonServerFrame): Uint8Array {
  switch (frame.type) {
    case 'envelope': {
      const e = frame.envelope;
      return encodeServerFrame({
        frame: {
          case: 'envelope',
          value: {
            guid: e.guid,
            type: e.type,
            sourceAccount: e.sourceAccount,
            sourceDevice: e.sourceDevice,
            timestamp: big(e.timestamp),
            serverTimestamp: BigInt(e.serverTimestamp),
            content: bytes(e.content),
          },
        },
      });
    }
    case 'queue-empty':
      return encodeServerFrame({ frame: { case: 'queueEmpty', value: {} } });
    case 'response':
      return encodeServerFrame({ frame: { case: 'response', value: { id: BigInt(frame.id), status: frame.status, body: JSON.stringify(frame.body ?? null) } } });
    case 'pong':
      return encodeServerFrame({ frame: { case: 'pong', value: {} } });
    case 'error':
      return encodeServerFrame({ frame: { case: 'error', value: { code: frame.code, message: frame.message } } });
  }
}

/** Decodes a client frame into its JSON view; throws on bytes that are not a ClientFrame. */
export function clientFrameToJson(data: Uint8Array): JsonClientFrame {
  const f = decodeClientFrame(data).frame;
  const num = (n: bigint | undefined) => (n === undefined ? undefined : Number(n));
  const jsonMessages = (list: Array<{ deviceId: number; registrationId: number; type: number; content: Uint8Array }>) =>
    list.map((m) => ({ deviceId: m.deviceId, registrationId: m.registrationId, type: m.type, content: base64(m.content) }));
  switch (f.case) {
    case 'ack':
      return { type: 'ack', guids: f.value.guids };
    case 'ping':
      return { type: 'ping' };
    case 'send': {
      const v = f.value;
      return {
        type: 'send',
        id: Number(v.id),
        destination: v.destination,
        body: { ...(v.timestamp !== undefined ? { timestamp: num(v.timestamp) } : {}), messages: jsonMessages(v.messages), resend: v.resend, online: v.online, shortLived: v.shortLived },
      };
    }
    case 'sendMulti': {
      const v = f.value;
      return {
        type: 'send-multi',
        id: Number(v.id),
        body: {
          ...(v.timestamp !== undefined ? { timestamp: num(v.timestamp) } : {}),
          online: v.online,
          shortLived: v.shortLived,
          urgent: v.urgent,
          ...(v.shared ? { shared: { type: v.shared.type, content: base64(v.shared.content) } } : {}),
          recipients: v.recipients.map((r) => ({
            accountId: r.accountId,
            devices: r.devices.map((d) => ({
              deviceId: d.deviceId,
              registrationId: d.registrationId,
              ...(d.type !== undefined ? { type: d.type } : {}),
              ...(d.content !== undefined ? { content: base64(d.content) } : {}),
            })),
          })),
        },
      };
    }
    case 'sealedSend': {
      const v = f.value;
      return { type: 'sealed-send', id: Number(v.id), destination: v.destination, accessKey: base64(v.accessKey), body: { messages: jsonMessages(v.messages), resend: v.resend, online: v.online, shortLived: v.shortLived } };
    }
    case 'sealedMultiSend': {
      const v = f.value;
      return { type: 'sealed-multi-send', id: Number(v.id), accessKey: base64(v.accessKey), body: { message: base64(v.message), online: v.online, shortLived: v.shortLived } };
    }
    default:
      throw new Error('empty or unknown client frame');
  }
}
