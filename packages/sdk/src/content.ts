/**
 * The plaintext inside every 1:1 ciphertext. For now UTF-8 JSON; a later issue moves it to
 * protobuf, so nothing outside this module may depend on the encoding.
 * Padding as Signal does: the content, then 0x80, then zeros up to a multiple of 160 bytes.
 */
import { KluisError } from './errors.js';

export const CONTENT_VERSION = 1;
export const PADDING_BLOCK = 160;

export type Content =
  | { v: 1; kind: 'text'; text: string; timestamp: number; senderUsername: string }
  | {
      v: 1;
      kind: 'sync-sent';
      text: string;
      timestamp: number;
      senderUsername: string;
      /** Peer username the original went to. */
      destination: string;
      destinationAccountId: string;
    };

export type ContentInput = Content extends infer C ? (C extends { v: 1 } ? Omit<C, 'v'> : never) : never;

export class ContentError extends KluisError {
  constructor(message: string) {
    super('BAD_CONTENT', message);
  }
}

export function pad(plain: Uint8Array): Uint8Array<ArrayBuffer> {
  const len = Math.ceil((plain.length + 1) / PADDING_BLOCK) * PADDING_BLOCK;
  const out = new Uint8Array(len);
  out.set(plain, 0);
  out[plain.length] = 0x80;
  return out;
}

export function unpad(padded: Uint8Array): Uint8Array {
  for (let i = padded.length - 1; i >= 0; i--) {
    const b = padded[i]!;
    if (b === 0x80) return padded.subarray(0, i);
    if (b !== 0) throw new ContentError('invalid padding');
  }
  throw new ContentError('invalid padding: no 0x80 terminator');
}

export function encodeContent(c: ContentInput): Uint8Array<ArrayBuffer> {
  const body = { v: CONTENT_VERSION, ...c };
  return pad(new TextEncoder().encode(JSON.stringify(body)));
}

export function decodeContent(bytes: Uint8Array): Content {
  let raw: unknown;
  try {
    raw = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(unpad(bytes)));
  } catch (e) {
    if (e instanceof ContentError) throw e;
    throw new ContentError('content is not UTF-8 JSON');
  }
  if (typeof raw !== 'object' || raw === null) throw new ContentError('content is not an object');
  const o = raw as Record<string, unknown>;
  if (o.v !== CONTENT_VERSION) throw new ContentError(`unsupported content version ${String(o.v)}`);
  const str = (k: string) => {
    if (typeof o[k] !== 'string') throw new ContentError(`content.${k} must be a string`);
    return o[k] as string;
  };
  if (typeof o.timestamp !== 'number' || !Number.isSafeInteger(o.timestamp) || o.timestamp < 0)
    throw new ContentError('content.timestamp must be a non-negative integer');
  const base = { v: 1 as const, text: str('text'), timestamp: o.timestamp, senderUsername: str('senderUsername') };
  switch (o.kind) {
    case 'text':
      return { ...base, kind: 'text' };
    case 'sync-sent':
      return { ...base, kind: 'sync-sent', destination: str('destination'), destinationAccountId: str('destinationAccountId') };
    default:
      throw new ContentError(`unknown content kind ${String(o.kind)}`);
  }
}
