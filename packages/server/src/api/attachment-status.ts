import { AttachmentParams, AttachmentStatus } from '@kluis/protocol';
import { BlobNotFoundError } from '../blobs/blob-store.js';
import { attachmentError } from './attachment-errors.js';
import { defineRoute } from './route.js';

/** How far an upload got, so an interrupted client resumes at `received`. */
export const attachmentStatus = defineRoute({
  name: 'attachmentStatus',
  auth: 'device',
  params: AttachmentParams,
  response: AttachmentStatus,
  summary: "An attachment's declared size and the bytes received so far",
  async handler(ctx, { params }) {
    const info = await ctx.blobs.stat(params.id, ctx.clock());
    if (!info) throw attachmentError(new BlobNotFoundError());
    return { size: info.size, received: info.received, complete: info.complete };
  },
});
