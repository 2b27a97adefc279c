export type { AttachmentPointer, AttachmentMeta } from './pointer.js';
export type { AttachmentSource } from './source.js';
export { uploadAttachment, downloadAttachment, type AttachmentApi, type TransferOptions } from './transfer.js';
export { encryptAttachment, AttachmentDecryptor, newAttachmentKey, type EncryptedStats } from './crypto.js';
export { paddedSize, encryptedSize } from './padding.js';
export { sanitizedSource, sanitizeBytes, detectMedia, type MediaKind } from './sanitize.js';
export { AttachmentCorruptError, AttachmentTooLargeError, AttachmentInvalidMediaError, AttachmentTransferError } from './errors.js';
export type { RetryOptions } from './retry.js';
