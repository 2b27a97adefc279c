import { TypeCompiler } from '@sinclair/typebox/compiler';
import { AckFrame, ErrorCode, MAX_MESSAGE_BYTES, PingFrame, SendFrame, SendMultiFrame, type ClientFrame } from '@kluis/protocol';
import { ApiError } from '../errors.js';
import type { LiveEnvelope, OnlineEnvelope } from './bus.js';

const checkAck = TypeCompiler.Compile(AckFrame);
const checkSend = TypeCompiler.Compile(SendFrame);
const checkSendMulti = TypeCompiler.Compile(SendMultiFrame);
const checkPing = TypeCompiler.Compile(PingFrame);

/** Longest base64 text of a ciphertext within MAX_MESSAGE_BYTES. */
export const MAX_CONTENT_BASE64 = Math.ceil(MAX_MESSAGE_BYTES / 3) * 4;

export type ParsedFrame =
  | { ok: true; frame: ClientFrame }
  /** `id` is set for a send frame whose id was readable: the client waits for that response. */
  | { ok: false; error: ApiError; id?: number };

export function parseClientFrame(text: string): ParsedFrame {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return { ok: false, error: new ApiError(ErrorCode.BadRequest, 'frame is not valid JSON') };
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    return { ok: false, error: new ApiError(ErrorCode.BadRequest, 'frame must be a JSON object with a "type"') };
  }
  const type = (value as { type?: unknown }).type;
  switch (type) {
    case 'ack':
      return checkAck.Check(value) ? { ok: true, frame: value } : invalid('ack', checkAck, value);
    case 'ping':
      return checkPing.Check(value) ? { ok: true, frame: value } : invalid('ping', checkPing, value);
    case 'send':
    case 'send-multi': {
      const checker = type === 'send' ? checkSend : checkSendMulti;
      if (checker.Check(value)) return { ok: true, frame: value };
      const id = (value as { id?: unknown }).id;
      const readableId = Number.isSafeInteger(id) && (id as number) >= 0 ? (id as number) : undefined;
      if (type === 'send' ? hasOversizeContent(value) : hasOversizeMultiContent(value)) {
        return {
          ok: false,
          id: readableId,
          error: new ApiError(ErrorCode.PayloadTooLarge, `a message ciphertext is larger than ${MAX_MESSAGE_BYTES} bytes`),
        };
      }
      return { ok: false, error: invalidError(type, checker, value), id: readableId };
    }
    default:
      return {
        ok: false,
        error: new ApiError(ErrorCode.BadRequest, `unknown frame type ${JSON.stringify(type)?.slice(0, 40)}; expected ack, send, send-multi or ping`),
      };
  }
}

type Checker = { Errors(value: unknown): { First(): { path: string; message: string } | undefined } };

function invalid(kind: string, checker: Checker, value: unknown): ParsedFrame {
  return { ok: false, error: invalidError(kind, checker, value) };
}

function invalidError(kind: string, checker: Checker, value: unknown): ApiError {
  const first = checker.Errors(value).First();
  const where = first?.path ? ` at ${first.path}` : '';
  return new ApiError(ErrorCode.BadRequest, `invalid ${kind} frame${where}: ${first?.message ?? 'does not match the schema'}`);
}

function hasOversizeContent(value: unknown): boolean {
  const messages = (value as { body?: { messages?: unknown } }).body?.messages;
  if (!Array.isArray(messages)) return false;
  return messages.some((m) => typeof (m as { content?: unknown })?.content === 'string' && (m as { content: string }).content.length > MAX_CONTENT_BASE64);
}

function oversize(content: unknown): boolean {
  return typeof content === 'string' && content.length > MAX_CONTENT_BASE64;
}

function hasOversizeMultiContent(value: unknown): boolean {
  const body = (value as { body?: { shared?: { content?: unknown }; recipients?: unknown } }).body;
  if (oversize(body?.shared?.content)) return true;
  if (!Array.isArray(body?.recipients)) return false;
  return body.recipients.some((r) => {
    const devices = (r as { devices?: unknown })?.devices;
    return Array.isArray(devices) && devices.some((d) => oversize((d as { content?: unknown })?.content));
  });
}

/*
 * Server frames are assembled by hand: every field is a server-generated UUID, an
 * integer or base64, none needs escaping, and this runs once per delivered message.
 */
export function envelopeFrame(e: LiveEnvelope | OnlineEnvelope): string {
  let s = '{"type":"envelope","envelope":{"guid":"' + e.guid + '","type":' + e.type;
  if (e.sourceAccount !== null) s += ',"sourceAccount":"' + e.sourceAccount + '"';
  if (e.sourceDevice !== null) s += ',"sourceDevice":' + e.sourceDevice;
  // 0 = none (sealed envelopes, and sends that carried none).
  if (e.timestamp !== 0) s += ',"timestamp":' + e.timestamp;
  return s + ',"serverTimestamp":' + e.serverTimestamp + ',"content":"' + (e.contentBase64 ?? (e as LiveEnvelope).content.toString('base64')) + '"}}';
}

export const QUEUE_EMPTY_FRAME = '{"type":"queue-empty"}';
export const PONG_FRAME = '{"type":"pong"}';

export function errorFrame(error: ApiError): string {
  return JSON.stringify({ type: 'error', code: error.code, message: error.message });
}

export function responseFrame(id: number, status: number, body: unknown): string {
  return JSON.stringify({ type: 'response', id, status, body });
}
