import { open, type FileHandle } from 'node:fs/promises';
import { ErrorCode, io, LibSignalErrorBase, Mp4Sanitizer, WebpSanitizer } from '@signalapp/libsignal-client';
import { ByteReader } from './byte-reader.js';
import { stripMp4Metadata } from './mp4-metadata.js';
import { AttachmentInvalidMediaError } from './errors.js';
import { readSource, sourceHead, sourceSize, type AttachmentSource } from './source.js';

export type MediaKind = 'jpeg' | 'png' | 'webp' | 'mp4' | 'other';

/** By content, never by the declared type or file name, which a sender may get wrong. */
export function detectMedia(head: Uint8Array): MediaKind {
  const b = Buffer.from(head);
  if (b.length >= 3 && b[0] === 0xff && b[1] === 0xd8 && b[2] === 0xff) return 'jpeg';
  if (b.length >= 8 && b.subarray(0, 8).equals(PNG_SIGNATURE)) return 'png';
  if (b.length >= 12 && b.toString('latin1', 0, 4) === 'RIFF' && b.toString('latin1', 8, 12) === 'WEBP') return 'webp';
  if (b.length >= 8 && b.toString('latin1', 4, 8) === 'ftyp') return 'mp4';
  return 'other';
}

/**
 * The plaintext to encrypt, with metadata that would identify the sender's camera,
 * place or software removed: JPEG APP1 (EXIF, XMP), APP13 (IPTC) and comments; PNG
 * text and eXIf chunks; WebP EXIF/XMP chunks (after libsignal's WebpSanitizer checked
 * the file); MP4 through libsignal's Mp4Sanitizer (which validates it and puts the
 * metadata before the media), then without udta/meta boxes. Anything else passes unchanged. Streams, except WebP (whole, as libsignal needs).
 */
export async function sanitizedSource(source: AttachmentSource): Promise<{ kind: MediaKind; stream: AsyncIterable<Uint8Array> }> {
  const kind = detectMedia(await sourceHead(source, 12));
  switch (kind) {
    case 'jpeg':
      return { kind, stream: stripJpeg(readSource(source)) };
    case 'png':
      return { kind, stream: stripPng(readSource(source)) };
    case 'webp':
      return { kind, stream: once(await stripWebp(await readAll(source))) };
    case 'mp4':
      return { kind, stream: await sanitizeMp4(source) };
    default:
      return { kind, stream: readSource(source) };
  }
}

/** Convenience for small in-memory files (and tests). */
export async function sanitizeBytes(bytes: Uint8Array): Promise<Uint8Array> {
  const { stream } = await sanitizedSource({ bytes });
  const parts: Uint8Array[] = [];
  for await (const p of stream) parts.push(p);
  return Buffer.concat(parts);
}

const JPEG_DROP = new Set([0xe1, 0xed, 0xfe]);

async function* stripJpeg(source: AsyncIterable<Uint8Array>): AsyncGenerator<Uint8Array> {
  const r = new ByteReader(source);
  yield await r.read(2); // SOI
  for (;;) {
    const marker = await r.read(2);
    if (marker.byteLength < 2 || marker[0] !== 0xff) {
      // Not a segment boundary: pass the remainder as is rather than guess.
      if (marker.byteLength) yield marker;
      yield* r.rest();
      return;
    }
    const m = marker[1]!;
    if (m === 0xda) {
      // Start of scan: entropy-coded data to the end, no more metadata segments to parse.
      yield marker;
      yield* r.rest();
      return;
    }
    if (m === 0xd8 || m === 0xd9 || m === 0x01 || (m >= 0xd0 && m <= 0xd7) || m === 0xff) {
      yield marker;
      continue;
    }
    const lenBytes = await r.read(2);
    if (lenBytes.byteLength < 2) {
      yield marker;
      yield lenBytes;
      return;
    }
    const len = lenBytes.readUInt16BE(0);
    if (JPEG_DROP.has(m)) {
      await r.skip(len - 2);
      continue;
    }
    yield marker;
    yield lenBytes;
    yield* r.take(len - 2);
  }
}

const PNG_SIGNATURE = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
const PNG_DROP = new Set(['tEXt', 'iTXt', 'zTXt', 'eXIf']);

async function* stripPng(source: AsyncIterable<Uint8Array>): AsyncGenerator<Uint8Array> {
  const r = new ByteReader(source);
  yield await r.read(8);
  for (;;) {
    const header = await r.read(8);
    if (header.byteLength < 8) {
      if (header.byteLength) yield header;
      return;
    }
    const len = header.readUInt32BE(0);
    const type = header.toString('latin1', 4, 8);
    if (PNG_DROP.has(type)) {
      await r.skip(len + 4);
      continue;
    }
    yield header;
    yield* r.take(len + 4); // data and CRC
    // Whatever follows IEND is not part of the image (and a known hiding place).
    if (type === 'IEND') return;
  }
}

/** libsignal validates (its sanitizer throws on malformed files); EXIF and XMP chunks are dropped here. */
export async function stripWebp(bytes: Uint8Array): Promise<Uint8Array> {
  try {
    WebpSanitizer.sanitize(new Uint8Array(bytes));
  } catch (err) {
    if (err instanceof LibSignalErrorBase && err.code === ErrorCode.UnsupportedMediaInput) return bytes;
    throw new AttachmentInvalidMediaError('WebP', { cause: err });
  }
  const b = Buffer.from(bytes);
  const kept: Buffer[] = [];
  let dropped = false;
  for (let at = 12; at + 8 <= b.length; ) {
    const type = b.toString('latin1', at, at + 4);
    const len = b.readUInt32LE(at + 4);
    const end = Math.min(b.length, at + 8 + len + (len & 1));
    if (type === 'EXIF' || type === 'XMP ') dropped = true;
    else kept.push(b.subarray(at, end));
    at = end;
  }
  if (!dropped) return bytes;
  const out = Buffer.concat([b.subarray(0, 12), ...kept]);
  out.writeUInt32LE(out.length - 8, 4);
  // VP8X flags: the EXIF (0x08) and XMP (0x04) bits must match the chunks present.
  if (out.toString('latin1', 12, 16) === 'VP8X') out[20] = out[20]! & ~0x0c;
  return out;
}

/** libsignal reads through this: a file by position, or bytes in memory. */
class SourceInput extends io.InputStream {
  private pos = 0;
  constructor(
    private readonly fh: FileHandle | undefined,
    private readonly bytes: Uint8Array | undefined,
  ) {
    super();
  }
  async read(amount: number): Promise<Uint8Array<ArrayBuffer>> {
    if (this.bytes) {
      const out = new Uint8Array(this.bytes.subarray(this.pos, this.pos + amount));
      this.pos += out.byteLength;
      return out;
    }
    const buf = new Uint8Array(Math.min(amount, 1024 * 1024));
    const { bytesRead } = await this.fh!.read(buf, 0, buf.byteLength, this.pos);
    this.pos += bytesRead;
    return buf.subarray(0, bytesRead);
  }
  async skip(amount: number): Promise<void> {
    this.pos += amount;
  }
}

async function sanitizeMp4(source: AttachmentSource): Promise<AsyncIterable<Uint8Array>> {
  const len = await sourceSize(source);
  const fh = 'path' in source ? await open(source.path, 'r') : undefined;
  let meta: Mp4Sanitizer.SanitizedMetadata;
  try {
    meta = await Mp4Sanitizer.sanitize(new SourceInput(fh, 'bytes' in source ? source.bytes : undefined), BigInt(len));
  } catch (err) {
    // Fragmented MP4, QuickTime and the like: libsignal cannot rewrite them; send as is.
    if (err instanceof LibSignalErrorBase && err.code === ErrorCode.UnsupportedMediaInput) return readSource(source);
    throw new AttachmentInvalidMediaError('MP4', { cause: err });
  } finally {
    await fh?.close();
  }
  const offset = Number(meta.getDataOffset());
  const dataLen = Number(meta.getDataLen());
  const metadata = meta.getMetadata();
  // No new metadata from libsignal: the original before the media data is well-formed as is.
  const prefix = metadata ?? (await readAll(source, 0, offset));
  return (async function* () {
    yield stripMp4Metadata(prefix);
    yield* readSource(source, offset, offset + dataLen);
  })();
}

async function readAll(source: AttachmentSource, start = 0, end?: number): Promise<Uint8Array> {
  const parts: Uint8Array[] = [];
  for await (const p of readSource(source, start, end)) parts.push(p);
  return Buffer.concat(parts);
}

async function* once(bytes: Uint8Array): AsyncGenerator<Uint8Array> {
  yield bytes;
}
