import { ATTACHMENT_CONTENT_TYPE, AttachmentParams, ErrorCode } from '@kluis/protocol';
import { BlobNotFoundError } from '../blobs/blob-store.js';
import { ApiError } from '../errors.js';
import { attachmentError } from './attachment-errors.js';
import { defineRoute } from './route.js';

/** `bytes=N-` or `bytes=N-M` (one range); anything else is ignored, as HTTP allows. */
function parseRange(header: string | undefined, size: number): { start: number; end: number } | 'unsatisfiable' | undefined {
  const m = header && /^bytes=(\d{1,16})-(\d{1,16})?$/.exec(header.trim());
  if (!m) return undefined;
  const start = Number(m[1]);
  const end = m[2] === undefined ? size - 1 : Math.min(Number(m[2]), size - 1);
  if (start >= size || end < start) return 'unsatisfiable';
  return { start, end };
}

/** Streams a complete blob; `Range: bytes=N-` answers 206 so a broken download resumes. */
export const downloadAttachment = defineRoute({
  name: 'downloadAttachment',
  auth: 'device',
  params: AttachmentParams,
  summary: 'Download an encrypted attachment (supports Range: bytes=N-)',
  async handler(ctx, { params, http }) {
    const now = ctx.clock();
    try {
      const info = await ctx.blobs.stat(params.id, now);
      if (!info?.complete) throw new BlobNotFoundError();
      const range = parseRange(http.request.headers.range, info.size);
      if (range === 'unsatisfiable') {
        http.reply.header('content-range', `bytes */${info.size}`);
        throw new ApiError(ErrorCode.BadRequest, `the range starts beyond the attachment's ${info.size} bytes`, undefined, 416);
      }
      const stream = await ctx.blobs.read(params.id, now, range ?? { start: 0 });
      const reply = http.reply.type(ATTACHMENT_CONTENT_TYPE).header('accept-ranges', 'bytes').header('cache-control', 'no-store');
      if (range) {
        reply.code(206).header('content-range', `bytes ${range.start}-${range.end}/${info.size}`).header('content-length', String(range.end - range.start + 1));
      } else {
        reply.header('content-length', String(info.size));
      }
      return reply.send(stream);
    } catch (err) {
      throw attachmentError(err);
    }
  },
});
