import { AttachmentParams, ExpectDownloadsRequest } from '@kluis/protocol';
import { attachmentError } from './attachment-errors.js';
import { defineRoute } from './route.js';

/**
 * The uploader, after sending the message: this many recipient devices will fetch the
 * blob. Once as many released it, it is deleted (else it expires with its TTL). Set once.
 */
export const expectAttachmentDownloads = defineRoute({
  name: 'expectAttachmentDownloads',
  auth: 'device',
  params: AttachmentParams,
  body: ExpectDownloadsRequest,
  summary: 'Say how many recipient devices will download an attachment',
  async handler(ctx, { params, body }) {
    try {
      await ctx.blobs.expect(params.id, body.recipients, ctx.clock());
      return {};
    } catch (err) {
      throw attachmentError(err);
    }
  },
});
