import { Readable } from 'node:stream';
import { ATTACHMENT_CONTENT_TYPE, AttachmentParams, AttachmentStatus, AttachmentUploadQuery, ErrorCode } from '@kluis/protocol';
import { BlobNotFoundError, BlobOffsetError } from '../blobs/blob-store.js';
import { ApiError } from '../errors.js';
import { attachmentError } from './attachment-errors.js';
import { defineRoute } from './route.js';

/**
 * Streams the request body into the blob from `?offset=N` (which must be where the
 * server's copy ends, else 409 with `received`). The body is never buffered: the
 * octet-stream parser hands the raw stream through, and the declared size is the limit.
 */
export const uploadAttachment = defineRoute({
  name: 'uploadAttachment',
  auth: 'device',
  params: AttachmentParams,
  query: AttachmentUploadQuery,
  response: AttachmentStatus,
  summary: 'Append bytes (application/octet-stream) to an attachment from ?offset=N',
  async handler(ctx, { params, query, body, http }) {
    if (!(body instanceof Readable)) {
      throw new ApiError(ErrorCode.BadRequest, `the attachment body must be sent as ${ATTACHMENT_CONTENT_TYPE}`, undefined, 415);
    }
    const offset = Number(query.offset);
    const now = ctx.clock();
    try {
      const info = await ctx.blobs.stat(params.id, now);
      if (!info) throw new BlobNotFoundError();
      // Early answer for the common case; append checks again once older uploads stopped.
      if (info.complete || offset !== info.received) throw new BlobOffsetError(info.received);
      const length = Number(http.request.headers['content-length'] ?? NaN);
      if (Number.isFinite(length) && offset + length > info.size) {
        throw new ApiError(ErrorCode.PayloadTooLarge, `the body runs past the declared attachment size of ${info.size} bytes`);
      }
      // The offset is checked inside append, after any older upload of this id has stopped.
      const done = await ctx.blobs.append(params.id, offset, body, now);
      return { size: done.size, received: done.received, complete: done.complete };
    } catch (err) {
      // An unread body is drained by Node after the answer, so the client reads the 409/413
      // instead of a broken pipe; a client that got its answer hangs up by itself. A body
      // read part-way (the disk filled, the size overflowed) leaves the rest of it on the
      // connection, so that connection is not reused for the client's next request.
      if (!http.request.raw.complete) http.reply.header('connection', 'close');
      throw attachmentError(err);
    }
  },
});
