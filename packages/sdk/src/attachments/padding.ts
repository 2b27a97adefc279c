import { encryptedAttachmentSize, paddedAttachmentSize } from '@kluis/protocol';

/** Signal's sizes: IV, HMAC-SHA256 tag, key, digest. */
export const IV_BYTES = 16;
export const MAC_BYTES = 32;
export const KEY_BYTES = 64;
export const DIGEST_BYTES = 32;

/** Signal's logarithmic buckets (the formula lives in protocol: the server's limit uses it too). */
export const paddedSize = paddedAttachmentSize;
/** IV ‖ AES-256-CBC(padded plaintext, PKCS#7) ‖ HMAC. */
export const encryptedSize = encryptedAttachmentSize;
