/**
 * The byte patterns a secret could take in a seized artifact. A server holder greps raw
 * bytes, so every form a careless implementation might write is searched: the bytes as
 * they are, UTF-16LE (a text field written by Windows-flavoured code), hex and base64
 * (JSON bodies, logs). Base64 is searched at all three alignments, because a secret
 * embedded in a longer base64 string encodes differently depending on its byte offset.
 */
export type Encoding = 'raw' | 'utf16le' | 'hex' | 'base64' | 'base64url';

export const ENCODINGS: readonly Encoding[] = ['raw', 'utf16le', 'hex', 'base64', 'base64url'];

export interface Pattern {
  encoding: Encoding;
  bytes: Buffer;
}

/** Shorter patterns would match random ciphertext by chance (a 6-char base64 run: 1 in 2^36). */
const MIN_PATTERN_BYTES = 6;

/** Every form of `value` (text: its UTF-8 bytes, plus UTF-16LE of the text). */
export function patternsOf(value: string | Uint8Array): Pattern[] {
  const raw = typeof value === 'string' ? Buffer.from(value, 'utf8') : Buffer.from(value);
  const out: Pattern[] = [{ encoding: 'raw', bytes: raw }];
  if (typeof value === 'string') out.push({ encoding: 'utf16le', bytes: Buffer.from(value, 'utf16le') });
  else out.push({ encoding: 'utf16le', bytes: Buffer.from(raw.toString('latin1'), 'utf16le') });
  const hex = raw.toString('hex');
  out.push({ encoding: 'hex', bytes: Buffer.from(hex) });
  if (/[a-f]/.test(hex)) out.push({ encoding: 'hex', bytes: Buffer.from(hex.toUpperCase()) });
  for (const b64 of base64Alignments(raw)) {
    out.push({ encoding: 'base64', bytes: Buffer.from(b64) });
    const url = b64.replace(/\+/g, '-').replace(/\//g, '_');
    if (url !== b64) out.push({ encoding: 'base64url', bytes: Buffer.from(url) });
  }
  return out.filter((p) => p.bytes.length >= MIN_PATTERN_BYTES);
}

/**
 * The base64 characters determined by `raw` alone when it starts at byte offset 0, 1 or 2
 * of a longer encoded string: the characters shared with the neighbouring bytes are cut.
 */
export function base64Alignments(raw: Buffer): string[] {
  const out: string[] = [];
  for (const offset of [0, 1, 2]) {
    const encoded = Buffer.concat([Buffer.alloc(offset), raw]).toString('base64');
    const skip = [0, 2, 3][offset]!;
    const whole = Math.floor((offset + raw.length) / 3) * 4;
    const s = encoded.slice(skip, whole);
    if (s.length > 0) out.push(s);
  }
  return out;
}

/** `pattern` in the form a given encoding produces, for planting in tests. */
export function encodeAs(value: string | Uint8Array, encoding: Encoding): Buffer {
  const raw = typeof value === 'string' ? Buffer.from(value, 'utf8') : Buffer.from(value);
  switch (encoding) {
    case 'raw':
      return raw;
    case 'utf16le':
      return typeof value === 'string' ? Buffer.from(value, 'utf16le') : Buffer.from(raw.toString('latin1'), 'utf16le');
    case 'hex':
      return Buffer.from(raw.toString('hex'));
    case 'base64':
      return Buffer.from(raw.toString('base64'));
    case 'base64url':
      return Buffer.from(raw.toString('base64url'));
  }
}

/** Occurrences of `pattern` in `haystack`. */
export function countOccurrences(haystack: Buffer, pattern: Buffer): number {
  let n = 0;
  for (let i = haystack.indexOf(pattern); i !== -1; i = haystack.indexOf(pattern, i + 1)) n++;
  return n;
}
