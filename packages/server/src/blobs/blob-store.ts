import type { Readable } from 'node:stream';
import type { BlobRow, OutstandingUploads } from '../store/blobs.js';

/** What a caller may learn of a blob: sizes and lifetime, nothing about its owner. */
export type BlobInfo = BlobRow;

/** Inclusive byte range, as in an HTTP Range header; `end` defaults to the last byte. */
export interface ByteRange {
  start: number;
  end?: number;
}

/**
 * Storage for encrypted attachment blobs: bytes somewhere (a directory now), metadata in
 * the database. Implementations stream in both directions and never hold a whole blob
 * in memory. Every method that takes `now` treats a blob past its expiry as absent.
 */
export interface BlobStore {
  /** A new, empty blob of `size` bytes with a fresh random id. */
  create(size: number, now: number): Promise<BlobInfo>;
  /**
   * Appends `body` from `offset`, which must equal the bytes already received
   * (else BlobOffsetError with the true count). Whatever arrived before the body broke
   * off is kept, so the uploader can resume; the blob completes when received = size.
   */
  append(id: string, offset: number, body: AsyncIterable<Uint8Array>, now: number): Promise<BlobInfo>;
  stat(id: string, now: number): Promise<BlobInfo | undefined>;
  /** The bytes of a complete blob; throws BlobNotFoundError if it is absent or incomplete. */
  read(id: string, now: number, range?: ByteRange): Promise<Readable>;
  delete(id: string): Promise<void>;
  /**
   * Ids past their expiry, and uploads left incomplete for longer than a day (24–48 h:
   * reservation times are whole days). Nothing else deletes a blob: it is fetched any
   * number of times until then, so no one can take it away from another recipient.
   */
  listExpired(now: number, limit: number): Promise<string[]>;
  /** Incomplete uploads the sweep has not reached yet (the store-wide reservation caps). */
  outstanding(now: number): Promise<OutstandingUploads>;
  /** Free and total bytes of the filesystem the blobs are written to. */
  diskSpace(): Promise<DiskSpace>;
}

export interface DiskSpace {
  free: number;
  total: number;
}

/** Errors with a `code`, mapped to HTTP statuses by the API layer. */
export class BlobError extends Error {
  constructor(
    readonly code: 'BLOB_NOT_FOUND' | 'BLOB_OFFSET' | 'BLOB_TOO_LARGE' | 'BLOB_BUSY',
    message: string,
  ) {
    super(message);
    this.name = new.target.name;
  }
}

export class BlobNotFoundError extends BlobError {
  constructor() {
    super('BLOB_NOT_FOUND', 'no such attachment (unknown, expired, deleted or not yet complete)');
  }
}

/** The upload's offset is not where the server's copy ends; resume from `received`. */
export class BlobOffsetError extends BlobError {
  constructor(readonly received: number) {
    super('BLOB_OFFSET', `the server holds ${received} bytes of this attachment; continue from offset ${received}`);
  }
}

export class BlobTooLargeError extends BlobError {
  constructor(size: number) {
    super('BLOB_TOO_LARGE', `the body runs past the declared attachment size of ${size} bytes`);
  }
}

export class BlobBusyError extends BlobError {
  constructor(message = 'another upload of this attachment is in progress') {
    super('BLOB_BUSY', message);
  }
}
