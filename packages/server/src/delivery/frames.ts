import {
  ACCESS_KEY_BYTES,
  decodeClientFrame,
  encodeServerFrame,
  EnvelopeType,
  ErrorCode,
  MAX_ACKS_PER_FRAME,
  MAX_DEVICE_ID,
  MAX_DEVICES_PER_ACCOUNT,
  MAX_GROUP_MEMBERS,
  MAX_MESSAGE_BYTES,
  MAX_REGISTRATION_ID,
  type SocketWire,
  type WireClientFrame,
} from '@kluis/protocol';
import { ApiError } from '../errors.js';
import type { LiveEnvelope, OnlineEnvelope } from './bus.js';
import type { DecodedMultiSendRequest } from './multi-send.js';
import type { DecodedSendRequest, OutgoingCiphertext } from './send.js';

/** Longest base64 text of a ciphertext within MAX_MESSAGE_BYTES (the HTTP routes' body limits). */
export const MAX_CONTENT_BASE64 = Math.ceil(MAX_MESSAGE_BYTES / 3) * 4;
/** A libsignal multi-recipient message for a whole group (as PUT /v1/sealed takes it). */
export const MAX_SEALED_MULTI_BYTES = 4 * 1024 * 1024;

/** A client frame, checked and with its ciphertexts as views into the frame's bytes. */
export type ClientFrame =
  | { type: 'ack'; guids: string[] }
  | { type: 'ping' }
  | { type: 'send'; id: number; destination: string; body: DecodedSendRequest }
  | { type: 'send-multi'; id: number; body: DecodedMultiSendRequest }
  | { type: 'sealed-send'; id: number; destination: string; accessKey: Buffer | undefined; body: DecodedSendRequest }
  | { type: 'sealed-multi-send'; id: number; accessKey: Buffer | undefined; body: { message: Buffer; online: boolean; shortLived: boolean } };

export type ParsedFrame =
  | { ok: true; frame: ClientFrame }
  /** `id` is set for a send frame whose id was readable: the client waits for that response. */
  | { ok: false; error: ApiError; id?: number };

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const ENVELOPE_TYPES: ReadonlySet<number> = new Set(Object.values(EnvelopeType));
const MAX_TIMESTAMP = 8.64e15;

/** Thrown inside the checks below; becomes the frame's error answer. */
class FrameError extends Error {
  constructor(
    readonly status: 'bad' | 'too-large',
    message: string,
  ) {
    super(message);
  }
}

/**
 * Decodes and checks one binary frame: structure and lengths, never characters of a
 * payload. The checks are the JSON schemas' of the HTTP routes (SendRequest,
 * MultiSendRequest, …), so both transports take exactly the same sends.
 */
export function parseClientFrame(data: Buffer): ParsedFrame {
  let wire: WireClientFrame;
  try {
    wire = decodeClientFrame(data);
  } catch {
    return { ok: false, error: bad('frame is not a valid protobuf ClientFrame') };
  }
  const f = wire.frame;
  const id = 'id' in (f.value ?? {}) ? readableId((f.value as { id: bigint }).id) : undefined;
  try {
    switch (f.case) {
      case 'ack':
        return { ok: true, frame: { type: 'ack', guids: checkGuids(f.value.guids) } };
      case 'ping':
        return { ok: true, frame: { type: 'ping' } };
      case 'send':
        return { ok: true, frame: { type: 'send', id: checkId(f.value.id), destination: checkUuid(f.value.destination, 'destination'), body: checkSend(f.value) } };
      case 'sendMulti':
        return { ok: true, frame: { type: 'send-multi', id: checkId(f.value.id), body: checkMulti(f.value) } };
      case 'sealedSend':
        return {
          ok: true,
          frame: {
            type: 'sealed-send',
            id: checkId(f.value.id),
            destination: checkUuid(f.value.destination, 'destination'),
            accessKey: accessKey(f.value.accessKey),
            body: checkSend(f.value),
          },
        };
      case 'sealedMultiSend': {
        const message = f.value.message;
        if (message.length === 0) throw new FrameError('bad', 'the multi-recipient message is empty');
        if (message.length > MAX_SEALED_MULTI_BYTES) throw new FrameError('too-large', `the multi-recipient message is larger than ${MAX_SEALED_MULTI_BYTES} bytes`);
        return {
          ok: true,
          frame: {
            type: 'sealed-multi-send',
            id: checkId(f.value.id),
            accessKey: accessKey(f.value.accessKey),
            body: { message: asBuffer(message), online: f.value.online, shortLived: f.value.shortLived },
          },
        };
      }
      default:
        return { ok: false, error: bad('empty or unknown frame; expected ack, send, send-multi, sealed-send, sealed-multi-send or ping') };
    }
  } catch (err) {
    if (!(err instanceof FrameError)) throw err;
    const error = err.status === 'too-large' ? new ApiError(ErrorCode.PayloadTooLarge, err.message) : bad(`invalid ${frameName(f.case)} frame: ${err.message}`);
    return { ok: false, error, id };
  }
}

function frameName(c: string | undefined): string {
  return c === 'sendMulti' ? 'send-multi' : c === 'sealedSend' ? 'sealed-send' : c === 'sealedMultiSend' ? 'sealed-multi-send' : (c ?? 'unknown');
}

function readableId(id: bigint): number | undefined {
  return id <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(id) : undefined;
}

function checkId(id: bigint): number {
  const n = readableId(id);
  if (n === undefined) throw new FrameError('bad', 'id must be at most 2^53 - 1');
  return n;
}

function checkUuid(value: string, what: string): string {
  if (!UUID.test(value)) throw new FrameError('bad', `${what} must be a lower-case UUID`);
  return value;
}

function checkGuids(guids: string[]): string[] {
  if (guids.length < 1 || guids.length > MAX_ACKS_PER_FRAME) throw new FrameError('bad', `an ack names 1 to ${MAX_ACKS_PER_FRAME} guids`);
  for (const g of guids) checkUuid(g, 'every guid');
  return guids;
}

function checkTimestamp(t: bigint | undefined): number | undefined {
  if (t === undefined) return undefined;
  if (t > BigInt(MAX_TIMESTAMP)) throw new FrameError('bad', 'timestamp is out of range');
  return Number(t);
}

function checkDevice(deviceId: number, registrationId: number): void {
  if (deviceId < 1 || deviceId > MAX_DEVICE_ID) throw new FrameError('bad', `device ids are 1 to ${MAX_DEVICE_ID}`);
  if (registrationId < 1 || registrationId > MAX_REGISTRATION_ID) throw new FrameError('bad', `registration ids are 1 to ${MAX_REGISTRATION_ID}`);
}

function checkType(type: number): number {
  if (!ENVELOPE_TYPES.has(type)) throw new FrameError('bad', `envelope type ${type} is not one of ${[...ENVELOPE_TYPES].join(', ')}`);
  return type;
}

/** Empty ciphertexts are refused by the send path itself, with the HTTP route's message. */
function checkContent(content: Uint8Array): Buffer {
  if (content.length > MAX_MESSAGE_BYTES) throw new FrameError('too-large', `a message ciphertext is larger than ${MAX_MESSAGE_BYTES} bytes`);
  return asBuffer(content);
}

function checkSend(s: SocketWire.Send | SocketWire.SealedSend): DecodedSendRequest {
  if (s.messages.length < 1 || s.messages.length > MAX_DEVICES_PER_ACCOUNT) throw new FrameError('bad', `a send carries 1 to ${MAX_DEVICES_PER_ACCOUNT} messages`);
  const messages: OutgoingCiphertext[] = s.messages.map((m) => {
    checkDevice(m.deviceId, m.registrationId);
    return { deviceId: m.deviceId, registrationId: m.registrationId, type: checkType(m.type), content: checkContent(m.content) };
  });
  const timestamp = 'timestamp' in s ? checkTimestamp(s.timestamp) : undefined;
  return { ...(timestamp !== undefined ? { timestamp } : {}), messages, resend: s.resend, online: s.online, shortLived: s.shortLived };
}

function checkMulti(m: SocketWire.SendMulti): DecodedMultiSendRequest {
  if (m.recipients.length < 1 || m.recipients.length > MAX_GROUP_MEMBERS) throw new FrameError('bad', `a multi send names 1 to ${MAX_GROUP_MEMBERS} recipients`);
  const recipients = m.recipients.map((r) => {
    checkUuid(r.accountId, 'every recipient accountId');
    if (r.devices.length > MAX_DEVICES_PER_ACCOUNT) throw new FrameError('bad', `a recipient lists at most ${MAX_DEVICES_PER_ACCOUNT} devices`);
    return {
      accountId: r.accountId,
      devices: r.devices.map((d) => {
        checkDevice(d.deviceId, d.registrationId);
        return {
          deviceId: d.deviceId,
          registrationId: d.registrationId,
          ...(d.type !== undefined ? { type: checkType(d.type) } : {}),
          ...(d.content !== undefined ? { content: checkContent(d.content) } : {}),
        };
      }),
    };
  });
  const timestamp = checkTimestamp(m.timestamp);
  return {
    ...(timestamp !== undefined ? { timestamp } : {}),
    online: m.online,
    shortLived: m.shortLived,
    urgent: m.urgent,
    ...(m.shared ? { shared: { type: checkType(m.shared.type), content: checkContent(m.shared.content) } } : {}),
    recipients,
  };
}

/** Absent or malformed keys are both undefined: they answer the same 401 as a wrong key. */
function accessKey(bytes: Uint8Array): Buffer | undefined {
  return bytes.length === ACCESS_KEY_BYTES ? asBuffer(bytes) : undefined;
}

/** A Buffer view of decoded bytes (no copy): the stores and libsignal take Buffers. */
function asBuffer(bytes: Uint8Array): Buffer {
  return Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

function bad(message: string): ApiError {
  return new ApiError(ErrorCode.BadRequest, message);
}

/*
 * The envelope push (and the send's response) is encoded by hand: it runs once per delivered message, writes the
 * stored ciphertext into the frame with one copy, and its layout (ServerFrame.envelope,
 * socket.proto) is fixed; frames.test.ts checks it against the generated decoder.
 */
const GUID_BYTES = 36;

function varintSize(n: number): number {
  let size = 1;
  while (n >= 0x80) {
    n = Math.floor(n / 128);
    size++;
  }
  return size;
}

function writeVarint(buf: Buffer, pos: number, n: number): number {
  while (n >= 0x80) {
    buf[pos++] = (n % 128) | 0x80;
    n = Math.floor(n / 128);
  }
  buf[pos++] = n;
  return pos;
}

export function envelopeFrame(e: LiveEnvelope | OnlineEnvelope): Buffer {
  const content = e.content;
  // Envelope fields: 1 guid, 2 type, 3 source_account, 4 source_device, 5 timestamp, 6 server_timestamp, 7 content.
  let inner = 2 + GUID_BYTES + 1 + varintSize(e.type) + 1 + varintSize(e.serverTimestamp) + 1 + varintSize(content.length) + content.length;
  if (e.sourceAccount !== null) inner += 2 + GUID_BYTES;
  if (e.sourceDevice !== null) inner += 1 + varintSize(e.sourceDevice);
  if (e.timestamp !== 0) inner += 1 + varintSize(e.timestamp);
  const buf = Buffer.allocUnsafe(1 + varintSize(inner) + inner);
  buf[0] = 0x0a; // ServerFrame.envelope, length-delimited
  let pos = writeVarint(buf, 1, inner);
  buf[pos++] = 0x0a;
  buf[pos++] = GUID_BYTES;
  pos += buf.write(e.guid, pos, GUID_BYTES, 'latin1');
  buf[pos++] = 0x10;
  pos = writeVarint(buf, pos, e.type);
  if (e.sourceAccount !== null) {
    buf[pos++] = 0x1a;
    buf[pos++] = GUID_BYTES;
    pos += buf.write(e.sourceAccount, pos, GUID_BYTES, 'latin1');
  }
  if (e.sourceDevice !== null) {
    buf[pos++] = 0x20;
    pos = writeVarint(buf, pos, e.sourceDevice);
  }
  // 0 = none (sealed envelopes, and sends that carried none).
  if (e.timestamp !== 0) {
    buf[pos++] = 0x28;
    pos = writeVarint(buf, pos, e.timestamp);
  }
  buf[pos++] = 0x30;
  pos = writeVarint(buf, pos, e.serverTimestamp);
  buf[pos++] = 0x3a;
  pos = writeVarint(buf, pos, content.length);
  content.copy(buf, pos);
  return buf;
}

export const QUEUE_EMPTY_FRAME = Buffer.from(encodeServerFrame({ frame: { case: 'queueEmpty', value: {} } }));
export const PONG_FRAME = Buffer.from(encodeServerFrame({ frame: { case: 'pong', value: {} } }));

export function errorFrame(error: ApiError): Buffer {
  return Buffer.from(encodeServerFrame({ frame: { case: 'error', value: { code: error.code, message: error.message } } }));
}

/** Hand-encoded as well: one per send. ServerFrame.response = {1 id, 2 status, 3 body}. */
export function responseFrame(id: number, status: number, body: unknown): Buffer {
  const text = JSON.stringify(body) ?? '';
  const textBytes = Buffer.byteLength(text);
  const inner = 1 + varintSize(id) + 1 + varintSize(status) + 1 + varintSize(textBytes) + textBytes;
  const buf = Buffer.allocUnsafe(1 + varintSize(inner) + inner);
  buf[0] = 0x1a; // ServerFrame.response, length-delimited
  let pos = writeVarint(buf, 1, inner);
  buf[pos++] = 0x08;
  pos = writeVarint(buf, pos, id);
  buf[pos++] = 0x10;
  pos = writeVarint(buf, pos, status);
  buf[pos++] = 0x1a;
  pos = writeVarint(buf, pos, textBytes);
  buf.write(text, pos, textBytes, 'utf8');
  return buf;
}
