import { CreateAttachmentRequest, CreateAttachmentResponse, encryptedAttachmentSize, ErrorCode } from '@kluis/protocol';
import { ApiError } from '../errors.js';
import { assertAttachmentCapacity } from './attachment-capacity.js';
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
    // Per account, in memory only: the blob row names no one. All or none.
    ctx.limits.take('attachmentReserve', auth.accountId);
    try {
      ctx.limits.takeAmount('attachmentBytes', body.size, auth.accountId);
    } catch (err) {
      ctx.limits.refund('attachmentReserve', auth.accountId);
      throw err;
    }
    const now = ctx.clock();
    try {
      await assertAttachmentCapacity(ctx.blobs, ctx.config, body.size, now);
      const blob = await ctx.blobs.create(body.size, now);
      return { id: blob.id };
    } catch (err) {
      // Refused by the server, not spent by the account.
      ctx.limits.refund('attachmentReserve', auth.accountId);
      ctx.limits.refundAmount('attachmentBytes', body.size, auth.accountId);
      throw err;
    }
  },
});
