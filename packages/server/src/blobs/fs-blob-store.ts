import { randomBytes } from 'node:crypto';
import { mkdir, open, rename, stat, statfs, unlink, type FileHandle } from 'node:fs/promises';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { INCOMPLETE_ATTACHMENT_TTL_MS } from '@kluis/protocol';
import type { Db } from '../db/schema.js';
import { BlobMetaStore, DAY_MS, type OutstandingUploads } from '../store/blobs.js';
import { BlobBusyError, BlobNotFoundError, BlobOffsetError, BlobTooLargeError, type BlobInfo, type BlobStore, type ByteRange, type DiskSpace } from './blob-store.js';

/** Ids are the only thing that reaches a path; they must never be able to leave the directory. */
const SAFE_ID = /^[A-Za-z0-9_-]{22}$/;

/**
 * Blobs as files in one directory: `<id>.part` while the upload runs (appended in
 * place, fsynced before the received count moves), renamed to `<id>` once complete, so
 * a reader never sees a half-written blob. Metadata lives in the `blobs` table. In a
 * cluster the directory must be shared by every node (NFS or similar).
 */
export class FsBlobStore implements BlobStore {
  private readonly meta = new BlobMetaStore();
  /**
   * This process's uploads in progress. A new PUT for the same id stops the old one
   * first: the client reconnected, so the old connection is dead even if the socket
   * has not said so yet.
   */
  private readonly active = new Map<string, { stop(): void; done: Promise<void> }>();
  private ready: Promise<void> | undefined;

  constructor(
    private readonly db: Db,
    readonly dir: string,
    private readonly ttlMs: number,
  ) {}

  private async ensureDir(): Promise<void> {
    await (this.ready ??= mkdir(this.dir, { recursive: true, mode: 0o700 }).then(() => undefined));
  }

  private path(id: string, part = false): string {
    if (!SAFE_ID.test(id)) throw new BlobNotFoundError();
    return join(this.dir, part ? `${id}.part` : id);
  }

  async create(size: number, now: number): Promise<BlobInfo> {
    await this.ensureDir();
    const id = randomBytes(16).toString('base64url');
    return this.meta.insert(this.db, { id, size, createdAt: now, expiresAt: now + this.ttlMs });
  }

  async stat(id: string, now: number): Promise<BlobInfo | undefined> {
    if (!SAFE_ID.test(id)) return undefined;
    const row = await this.meta.get(this.db, id);
    return row && row.expiresAt > now ? row : undefined;
  }

  async append(id: string, offset: number, body: AsyncIterable<Uint8Array> & { destroy?(err?: Error): void }, now: number): Promise<BlobInfo> {
    const previous = this.active.get(id);
    if (previous) {
      previous.stop();
      await previous.done;
    }
    if (this.active.has(id)) throw new BlobBusyError();
    const info = await this.stat(id, now);
    if (!info) throw new BlobNotFoundError();
    if (info.complete || offset !== info.received) throw new BlobOffsetError(info.received);
    let finished!: () => void;
    this.active.set(id, { stop: () => body.destroy?.(new BlobBusyError('a newer upload of this attachment took over')), done: new Promise<void>((r) => (finished = r)) });
    try {
      await this.ensureDir();
      const part = this.path(id, true);
      let fh: FileHandle;
      try {
        fh = await open(part, offset === 0 ? 'w' : 'r+', 0o600);
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
        // The partial file is gone (disk replaced, manual cleanup): start over from 0.
        await this.meta.setReceived(this.db, id, info.received, 0, false);
        throw new BlobOffsetError(0);
      }
      let written = offset;
      let failure: unknown;
      try {
        // A crash may have left bytes past the recorded count: they were never acknowledged.
        await fh.truncate(offset);
        try {
          for await (const chunk of body) {
            if (written + chunk.byteLength > info.size) {
              failure = new BlobTooLargeError(info.size);
              break;
            }
            await writeAll(fh, chunk, written);
            written += chunk.byteLength;
          }
        } catch (err) {
          // The client went away mid-body: keep what arrived so it can resume.
          failure = err;
        }
        await fh.sync();
      } finally {
        await fh.close();
      }
      const complete = written === info.size;
      if (complete) {
        await rename(part, this.path(id));
        await syncDir(this.dir);
      }
      if (written !== offset || complete) await this.meta.setReceived(this.db, id, offset, written, complete);
      if (failure) throw failure;
      return { ...info, received: written, complete };
    } finally {
      this.active.delete(id);
      finished();
    }
  }

  async read(id: string, now: number, range: ByteRange = { start: 0 }): Promise<Readable> {
    const info = await this.stat(id, now);
    if (!info?.complete) throw new BlobNotFoundError();
    let fh: FileHandle;
    try {
      fh = await open(this.path(id), 'r');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') throw new BlobNotFoundError();
      throw err;
    }
    // A file that is not the size it was completed at (disk trouble, tampering) is not served half.
    if ((await fh.stat()).size !== info.size) {
      await fh.close();
      throw new BlobNotFoundError();
    }
    return fh.createReadStream({ start: range.start, end: range.end ?? info.size - 1, autoClose: true, highWaterMark: 256 * 1024 });
  }

  async delete(id: string): Promise<void> {
    // Files first: if this stops half-way, the row is still there for the next expiry run.
    for (const p of [this.path(id), this.path(id, true)]) {
      await unlink(p).catch((err: NodeJS.ErrnoException) => {
        if (err.code !== 'ENOENT') throw err;
      });
    }
    await this.meta.remove(this.db, id);
  }

  listExpired(now: number, limit: number): Promise<string[]> {
    return this.meta.expired(this.db, now, incompleteCutoff(now), limit);
  }

  outstanding(now: number): Promise<OutstandingUploads> {
    return this.meta.outstanding(this.db, now, incompleteCutoff(now));
  }

  async diskSpace(): Promise<DiskSpace> {
    await this.ensureDir();
    const s = await statfs(this.dir);
    // bavail: what an unprivileged writer (this server) may still use, not the root reserve.
    return { free: s.bavail * s.bsize, total: s.blocks * s.bsize };
  }

  /** Bytes of the partial file on disk (tests, diagnostics). */
  async partSize(id: string): Promise<number | undefined> {
    return stat(this.path(id, true)).then(
      (s) => s.size,
      () => undefined,
    );
  }

  /** Where a complete blob lives (tests flip bytes in it). */
  filePath(id: string): string {
    return this.path(id);
  }
}

/**
 * Reservation days are stored rounded down, so an upload is certainly older than a day
 * only once its day began more than two days ago: abandoned uploads go 24 to 48 hours
 * after they were reserved.
 */
function incompleteCutoff(now: number): number {
  return now - INCOMPLETE_ATTACHMENT_TTL_MS - DAY_MS;
}

async function writeAll(fh: FileHandle, chunk: Uint8Array, position: number): Promise<void> {
  let done = 0;
  while (done < chunk.byteLength) {
    const { bytesWritten } = await fh.write(chunk, done, chunk.byteLength - done, position + done);
    done += bytesWritten;
  }
}

/** Makes a rename durable (the directory entry), as a database commit is. */
export async function syncDir(dir: string): Promise<void> {
  const fh = await open(dir, 'r');
  try {
    await fh.sync();
  } finally {
    await fh.close();
  }
}
