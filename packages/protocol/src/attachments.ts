import { Type, type Static } from '@sinclair/typebox';
import { ErrorCode } from './errors.js';

/** Signal's default send limit (plaintext); the server's `--max-attachment-bytes` may lower or raise it. */
export const DEFAULT_MAX_ATTACHMENT_BYTES = 100 * 1024 * 1024;

/**
 * Signal's logarithmic size buckets for attachment plaintext, max(541, floor(1.05^ceil(log1.05 n))):
 * a blob's length tells the server the file's size only to within 5%. Never below n
 * (guarding against floating-point rounding at bucket edges).
 */
export function paddedAttachmentSize(plaintextSize: number): number {
  const bucket = Math.floor(1.05 ** Math.ceil(Math.log(plaintextSize) / Math.log(1.05)));
  return Math.max(541, plaintextSize, bucket);
}

/** Blob length for a plaintext size: IV (16) ‖ AES-256-CBC(padded, PKCS#7) ‖ HMAC-SHA256 (32). */
export function encryptedAttachmentSize(plaintextSize: number): number {
  return 16 + (Math.floor(paddedAttachmentSize(plaintextSize) / 16) + 1) * 16 + 32;
}
export const DEFAULT_ATTACHMENT_TTL_DAYS = 30;
/** An upload that has not completed within this long is deleted (the client starts over). */
export const INCOMPLETE_ATTACHMENT_TTL_MS = 24 * 60 * 60 * 1000;

/** 128 random bits, base64url without padding (22 characters). */
export const ATTACHMENT_ID_PATTERN = '^[A-Za-z0-9_-]{22}$';
export const AttachmentId = Type.String({ pattern: ATTACHMENT_ID_PATTERN });

/** The size of the encrypted blob the client is about to upload. */
export const CreateAttachmentRequest = Type.Object(
  { size: Type.Integer({ minimum: 1, maximum: Number.MAX_SAFE_INTEGER }) },
  { additionalProperties: false },
);
export type CreateAttachmentRequest = Static<typeof CreateAttachmentRequest>;

export const CreateAttachmentResponse = Type.Object({ id: AttachmentId });
export type CreateAttachmentResponse = Static<typeof CreateAttachmentResponse>;

export const AttachmentParams = Type.Object({ id: AttachmentId }, { additionalProperties: false });
export type AttachmentParams = Static<typeof AttachmentParams>;

/** `?offset=N`: where this PUT's body starts; must equal the bytes the server already holds. */
export const AttachmentUploadQuery = Type.Object(
  { offset: Type.String({ pattern: '^(0|[1-9][0-9]{0,15})$' }) },
  { additionalProperties: false },
);
export type AttachmentUploadQuery = Static<typeof AttachmentUploadQuery>;

export const AttachmentStatus = Type.Object({
  size: Type.Integer({ minimum: 0 }),
  received: Type.Integer({ minimum: 0 }),
  complete: Type.Boolean(),
});
export type AttachmentStatus = Static<typeof AttachmentStatus>;

/** 409 on PUT: the offset did not match; resume from `received`. */
export const AttachmentOffsetBody = Type.Object({
  code: Type.Literal(ErrorCode.Conflict),
  message: Type.String(),
  received: Type.Integer({ minimum: 0 }),
});
export type AttachmentOffsetBody = Static<typeof AttachmentOffsetBody>;

export const ATTACHMENT_CONTENT_TYPE = 'application/octet-stream';
