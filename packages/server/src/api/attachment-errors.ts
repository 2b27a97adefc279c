import { ErrorCode } from '@kluis/protocol';
import { BlobError, BlobOffsetError } from '../blobs/blob-store.js';
import { ApiError } from '../errors.js';

/** BlobStore errors as the client sees them; anything else goes on unchanged (a 500, logged without ids). */
export function attachmentError(err: unknown): unknown {
  const e = err as { code?: unknown; message?: unknown } | null;
  // The uploader hung up mid-body: nothing to answer, nothing to log as a server fault.
  if (e && (e.code === 'ECONNRESET' || e.message === 'aborted')) return new ApiError(ErrorCode.BadRequest, 'the upload was interrupted; resume from the received count');
  // The disk filled under a running upload: what was written is kept, so it can resume.
  if (e && (e.code === 'ENOSPC' || e.code === 'EDQUOT')) {
    return new ApiError(ErrorCode.StorageFull, "the server's attachment storage is full; the upload can resume from the received count later", { retryAfterSeconds: 600 });
  }
  if (!(err instanceof BlobError)) return err;
  switch (err.code) {
    case 'BLOB_NOT_FOUND':
      return new ApiError(ErrorCode.NotFound, err.message);
    case 'BLOB_OFFSET':
      return new ApiError(ErrorCode.Conflict, err.message, { received: (err as BlobOffsetError).received });
    case 'BLOB_TOO_LARGE':
      return new ApiError(ErrorCode.PayloadTooLarge, err.message);
    case 'BLOB_BUSY':
      return new ApiError(ErrorCode.Conflict, err.message);
  }
}
