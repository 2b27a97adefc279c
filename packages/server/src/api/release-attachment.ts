import { AttachmentParams } from '@kluis/protocol';
import { attachmentError } from './attachment-errors.js';
import { defineRoute } from './route.js';

/**
 * A recipient device is done with the blob (downloaded, or the message went away).
 * Releases are counted, never attributed: the server does not learn who fetched what.
 */
export const releaseAttachment = defineRoute({
  name: 'releaseAttachment',
  auth: 'device',
  params: AttachmentParams,
  summary: 'Tell the server this device no longer needs an attachment',
  async handler(ctx, { params }) {
    try {
      await ctx.blobs.release(params.id, ctx.clock());
      return {};
    } catch (err) {
      throw attachmentError(err);
    }
  },
});
