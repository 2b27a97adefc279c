import { createCipheriv, createDecipheriv, createHash, createHmac, randomBytes, timingSafeEqual, type Decipher, type Hash, type Hmac } from 'node:crypto';
import { AttachmentCorruptError } from './errors.js';
import { DIGEST_BYTES, encryptedSize, IV_BYTES, KEY_BYTES, MAC_BYTES, paddedSize } from './padding.js';

/*
 * Signal's attachment scheme, on Node's crypto: a 64-byte key (AES-256 key ‖ HMAC-SHA256
 * key), blob = IV ‖ AES-256-CBC(plaintext ‖ zero padding) ‖ HMAC-SHA256(IV ‖ ciphertext),
 * digest = SHA-256(blob). The pointer carries key, digest and the true size.
 */

export function newAttachmentKey(): Uint8Array {
  return new Uint8Array(randomBytes(KEY_BYTES));
}

function splitKey(key: Uint8Array): { aes: Buffer; mac: Buffer } {
  if (key.byteLength !== KEY_BYTES) throw new TypeError(`an attachment key is ${KEY_BYTES} bytes, got ${key.byteLength}`);
  const k = Buffer.from(key.buffer, key.byteOffset, key.byteLength);
  return { aes: k.subarray(0, 32), mac: k.subarray(32, 64) };
}

export interface EncryptedStats {
  /** Plaintext bytes read from the source (the pointer's `size`). */
  plaintextSize: number;
  /** Blob bytes produced. */
  size: number;
  digest: Uint8Array;
}

const ZEROS = Buffer.alloc(64 * 1024);

/**
 * Encrypts a stream chunk by chunk (memory stays at one chunk). The plaintext size is
 * learned at the end, where the zero padding goes, so the source need not be measured
 * first. `stats` is filled once the generator has finished.
 */
export async function* encryptAttachment(
  source: AsyncIterable<Uint8Array>,
  key: Uint8Array,
  stats: Partial<EncryptedStats>,
  iv: Uint8Array = randomBytes(IV_BYTES),
): AsyncGenerator<Buffer> {
  const { aes, mac } = splitKey(key);
  const cipher = createCipheriv('aes-256-cbc', aes, iv);
  const hmac = createHmac('sha256', mac);
  const hash = createHash('sha256');
  let size = 0;
  const out = (bytes: Buffer): Buffer => {
    hmac.update(bytes);
    hash.update(bytes);
    size += bytes.byteLength;
    return bytes;
  };
  yield out(Buffer.from(iv));
  let plaintextSize = 0;
  for await (const chunk of source) {
    plaintextSize += chunk.byteLength;
    const ct = cipher.update(chunk);
    if (ct.byteLength > 0) yield out(ct);
  }
  for (let left = paddedSize(plaintextSize) - plaintextSize; left > 0; left -= ZEROS.byteLength) {
    const ct = cipher.update(ZEROS.subarray(0, Math.min(left, ZEROS.byteLength)));
    if (ct.byteLength > 0) yield out(ct);
  }
  yield out(cipher.final());
  const tag = hmac.digest();
  hash.update(tag);
  size += tag.byteLength;
  yield tag;
  stats.plaintextSize = plaintextSize;
  stats.size = size;
  stats.digest = new Uint8Array(hash.digest());
}

/**
 * Decrypts a blob fed in pieces (in order, possibly across several HTTP responses when a
 * download resumes). Plaintext comes out before the MAC is known, so the caller must
 * keep it out of sight until `final()` has verified length, MAC, digest and padding.
 */
export class AttachmentDecryptor {
  private readonly aes: Buffer;
  private readonly hmac: Hmac;
  private readonly hash: Hash;
  private readonly expectedLength: number;
  private decipher: Decipher | undefined;
  private head = Buffer.alloc(0);
  /** The last MAC_BYTES seen: the tag, once the stream ends. */
  private tail = Buffer.alloc(0);
  private received = 0;
  private emitted = 0;

  constructor(
    key: Uint8Array,
    private readonly digest: Uint8Array,
    private readonly size: number,
  ) {
    const { aes, mac } = splitKey(key);
    if (digest.byteLength !== DIGEST_BYTES) throw new TypeError(`an attachment digest is ${DIGEST_BYTES} bytes`);
    if (!Number.isSafeInteger(size) || size < 0) throw new TypeError('an attachment size is a non-negative integer');
    this.aes = aes;
    this.hmac = createHmac('sha256', mac);
    this.hash = createHash('sha256');
    this.expectedLength = encryptedSize(size);
  }

  /** Blob bytes consumed so far: where a resumed download continues (Range: bytes=N-). */
  get offset(): number {
    return this.received;
  }

  get totalLength(): number {
    return this.expectedLength;
  }

  /** Plaintext for these blob bytes (padding already cut off). */
  update(chunk: Uint8Array): Buffer {
    this.received += chunk.byteLength;
    if (this.received > this.expectedLength) throw new AttachmentCorruptError('longer than its size says');
    this.hash.update(chunk);
    let data = Buffer.concat([this.tail, chunk]);
    const keep = Math.min(MAC_BYTES, data.byteLength);
    this.tail = data.subarray(data.byteLength - keep);
    data = data.subarray(0, data.byteLength - keep);
    if (data.byteLength === 0) return Buffer.alloc(0);
    this.hmac.update(data);
    if (!this.decipher) {
      this.head = Buffer.concat([this.head, data]);
      if (this.head.byteLength < IV_BYTES) return Buffer.alloc(0);
      this.decipher = createDecipheriv('aes-256-cbc', this.aes, this.head.subarray(0, IV_BYTES));
      data = this.head.subarray(IV_BYTES);
      this.head = Buffer.alloc(0);
    }
    return this.cut(this.decipher.update(data));
  }

  /** Throws AttachmentCorruptError unless every check passes; returns the last plaintext. */
  final(): Buffer {
    if (this.received !== this.expectedLength || !this.decipher) throw new AttachmentCorruptError('truncated');
    const tag = this.hmac.digest();
    if (!timingSafeEqual(tag, this.tail)) throw new AttachmentCorruptError('bad MAC');
    if (!timingSafeEqual(this.hash.digest(), Buffer.from(this.digest))) throw new AttachmentCorruptError('digest mismatch');
    let last: Buffer;
    try {
      last = this.cut(this.decipher.final());
    } catch (err) {
      throw Object.assign(new AttachmentCorruptError('bad padding'), { cause: err });
    }
    if (this.emitted !== this.size) throw new AttachmentCorruptError('shorter than its size says');
    return last;
  }

  /** Plaintext up to the pointer's size; what follows is padding and must be zeros. */
  private cut(plain: Buffer): Buffer {
    const room = this.size - this.emitted;
    if (plain.byteLength <= room) {
      this.emitted += plain.byteLength;
      return plain;
    }
    if (!plain.subarray(room).every((b) => b === 0)) throw new AttachmentCorruptError('size does not match the content');
    this.emitted += room;
    return plain.subarray(0, room);
  }
}
