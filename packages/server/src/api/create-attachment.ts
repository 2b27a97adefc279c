import { CreateAttachmentRequest, CreateAttachmentResponse, encryptedAttachmentSize, ErrorCode } from '@kluis/protocol';
import { ApiError } from '../errors.js';
import { defineRoute } from './route.js';

/** Reserves an id for an encrypted blob of the declared size; the bytes follow by PUT. */
export const createAttachment = defineRoute({
  name: 'createAttachment',
  auth: 'device',
  body: CreateAttachmentRequest,
  response: CreateAttachmentResponse,
  summary: 'Reserve an attachment id for an encrypted blob of the given size',
  async handler(ctx, { body, auth }) {
    // Uploading is the first half of sending: an account in grace may fetch, not send.
    await ctx.subscriptions.assertCanSend(auth.accountId);
    // The limit is on the file; its blob is padded (up to 5%) and framed (IV, MAC).
    if (body.size > encryptedAttachmentSize(ctx.config.maxAttachmentBytes)) {
      throw new ApiError(ErrorCode.PayloadTooLarge, `attachments are limited to ${ctx.config.maxAttachmentBytes} bytes`);
    }
    const blob = await ctx.blobs.create(body.size, ctx.clock());
    return { id: blob.id };
  },
});
