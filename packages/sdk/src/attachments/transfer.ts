import { randomBytes } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import { mkdtemp, open, rename, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { basename, dirname, join } from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { ProtocolViolationError, ServerError } from '../errors.js';
import { toServerError, type HttpApi } from '../transport/http.js';
import { AttachmentDecryptor, encryptAttachment, newAttachmentKey, type EncryptedStats } from './crypto.js';
import { AttachmentCorruptError, AttachmentTooLargeError, AttachmentTransferError } from './errors.js';
import { DIGEST_BYTES, KEY_BYTES } from './padding.js';
import { pointerFrom, type AttachmentMeta, type AttachmentPointer } from './pointer.js';
import { backoffMs, isRetryable, retrying, sleep, type RetryOptions } from './retry.js';
import { sanitizedSource } from './sanitize.js';
import { readSource, type AttachmentSource } from './source.js';

/** The HTTP calls attachments need (HttpApi has them; tests may pass a stand-in). */
export type AttachmentApi = Pick<
  HttpApi,
  'createAttachment' | 'attachmentStatus' | 'uploadAttachmentBytes' | 'downloadAttachmentBytes'
>;

export interface TransferOptions {
  retry?: RetryOptions;
  /** A stalled connection counts as broken after this long without a byte. */
  idleMs?: number;
  /** Strip JPEG/PNG/WebP/MP4 metadata before encrypting (default true). */
  sanitize?: boolean;
  /** Where the encrypted copy waits during upload (default: the OS temp dir). */
  tmpDir?: string;
  /** Blob bytes transferred so far, and the total. */
  onProgress?: (done: number, total: number) => void;
}

const DEFAULT_IDLE_MS = 30_000;

/**
 * Strips metadata, encrypts (Signal's scheme) into a temp file, uploads it with
 * resume: on a broken connection it asks the server how far it got and continues
 * from there. Returns the pointer to put in the message.
 */
export async function uploadAttachment(api: AttachmentApi, source: AttachmentSource, meta: AttachmentMeta, opts: TransferOptions = {}): Promise<AttachmentPointer> {
  const key = newAttachmentKey();
  const dir = await mkdtemp(join(opts.tmpDir ?? tmpdir(), 'kluis-upload-'));
  try {
    const blobPath = join(dir, 'blob');
    const plaintext = opts.sanitize === false ? readSource(source) : (await sanitizedSource(source)).stream;
    const stats: Partial<EncryptedStats> = {};
    await pipeline(Readable.from(encryptAttachment(plaintext, key, stats)), createWriteStream(blobPath, { mode: 0o600 }));
    const size = stats.size!;
    let id: string;
    try {
      ({ id } = await retrying(() => api.createAttachment(size), opts.retry));
    } catch (err) {
      if (err instanceof ServerError && err.status === 413) throw new AttachmentTooLargeError(size, err.message, { cause: err });
      throw err;
    }
    await sendBlob(api, id, blobPath, size, opts);
    return pointerFrom({ id, key, digest: stats.digest!, size: stats.plaintextSize! }, meta);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

async function sendBlob(api: AttachmentApi, id: string, path: string, size: number, opts: TransferOptions): Promise<void> {
  const attempts = opts.retry?.attempts ?? 6;
  const idleMs = opts.idleMs ?? DEFAULT_IDLE_MS;
  let offset = 0;
  let failures = 0;
  for (;;) {
    const before = offset;
    try {
      const r = await api.uploadAttachmentBytes(id, offset, createReadStream(path, { start: offset, highWaterMark: 256 * 1024 }), size - offset, idleMs);
      const body = r.body as { received?: unknown; complete?: unknown } | undefined;
      if (r.status === 200 && body?.complete === true) {
        opts.onProgress?.(size, size);
        return;
      }
      if ((r.status === 200 || r.status === 409) && typeof body?.received === 'number') {
        // 409: another attempt got further (or less far) than we thought; go from the server's count.
        offset = body.received;
        // An earlier attempt finished the upload and only its answer was lost.
        if (offset >= size && (await api.attachmentStatus(id)).complete) return;
      } else if (r.status !== 409 && !isRetryable(toServerError(r))) {
        // (A 409 without a count: an older attempt is still being wound down; try again.)
        throw toServerError(r);
      }
    } catch (err) {
      if (!isRetryable(err)) throw err;
      try {
        const status = await api.attachmentStatus(id);
        if (status.complete) return;
        offset = status.received;
      } catch (statusErr) {
        if (!isRetryable(statusErr)) throw statusErr;
      }
    }
    opts.onProgress?.(offset, size);
    // Progress resets the count: only failures in a row without a byte gained are bounded.
    failures = offset > before ? 0 : failures + 1;
    if (failures >= attempts) throw new AttachmentTransferError(`uploading the attachment failed ${failures} times in a row at byte ${offset} of ${size}`);
    if (failures > 0) await (opts.retry?.sleep ?? sleep)(backoffMs(failures, opts.retry));
  }
}

function checkPointer(p: AttachmentPointer): void {
  if (p.key?.byteLength !== KEY_BYTES || p.digest?.byteLength !== DIGEST_BYTES || !Number.isSafeInteger(p.size) || p.size < 0) {
    throw new ProtocolViolationError('the attachment pointer is malformed (key, digest or size)');
  }
}

/**
 * Downloads, verifies and decrypts to `destPath`. The plaintext goes to a temp file
 * beside it and is renamed into place only after MAC and digest check out, so a
 * corrupt or truncated blob never shows; a broken connection resumes with Range.
 */
export async function downloadAttachment(api: AttachmentApi, pointer: AttachmentPointer, destPath: string, opts: TransferOptions = {}): Promise<void> {
  checkPointer(pointer);
  const attempts = opts.retry?.attempts ?? 6;
  const idleMs = opts.idleMs ?? DEFAULT_IDLE_MS;
  const dec = new AttachmentDecryptor(pointer.key, pointer.digest, pointer.size);
  const tmp = join(dirname(destPath), `.${basename(destPath)}.${randomBytes(6).toString('hex')}.kluis-part`);
  const out = await open(tmp, 'wx', 0o600);
  let position = 0;
  let closed = false;
  let done = false;
  const write = async (plain: Buffer) => {
    for (let at = 0; at < plain.byteLength; ) {
      const { bytesWritten } = await out.write(plain, at, plain.byteLength - at, position);
      at += bytesWritten;
      position += bytesWritten;
    }
  };
  try {
    let failures = 0;
    while (dec.offset < dec.totalLength) {
      const before = dec.offset;
      try {
        const res = await api.downloadAttachmentBytes(pointer.id, dec.offset, idleMs);
        const expected = dec.offset === 0 ? 200 : 206;
        if (res.status !== expected) {
          res.body.destroy();
          // The server holds fewer bytes than the pointer's size implies.
          if (res.status === 416) throw new AttachmentCorruptError('truncated');
          if (res.status === 200 || res.status === 206) throw new ProtocolViolationError(`the server answered ${res.status} to a download from byte ${dec.offset}`);
          throw toServerError({ status: res.status, body: undefined });
        }
        for await (const chunk of res.body) await write(dec.update(chunk as Buffer));
        // A body that ended early without an error: more to fetch from where it stopped.
      } catch (err) {
        if (err instanceof AttachmentCorruptError || !isRetryable(err)) throw err;
      }
      if (dec.offset >= dec.totalLength) break;
      opts.onProgress?.(dec.offset, dec.totalLength);
      failures = dec.offset > before ? 0 : failures + 1;
      if (failures >= attempts) throw new AttachmentTransferError(`downloading the attachment failed ${failures} times in a row at byte ${dec.offset} of ${dec.totalLength}`);
      if (failures > 0) await (opts.retry?.sleep ?? sleep)(backoffMs(failures, opts.retry));
    }
    await write(dec.final());
    await out.sync();
    await out.close();
    closed = true;
    await rename(tmp, destPath);
    done = true;
    opts.onProgress?.(dec.totalLength, dec.totalLength);
  } finally {
    if (!closed) await out.close().catch(() => {});
    if (!done) await rm(tmp, { force: true });
  }
}
