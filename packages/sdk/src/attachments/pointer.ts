/**
 * What describes a file, wherever an attachment appears (a pointer on the wire, a row in
 * the messages table, a stored message, a file to send): the other shapes extend this.
 */
export interface AttachmentMeta {
  contentType: string;
  fileName?: string;
  width?: number;
  height?: number;
  durationMs?: number;
  voiceNote?: boolean;
}

/**
 * What a message carries so the recipient can fetch and decrypt an attachment. The
 * content format maps it to a protobuf message with the same fields.
 */
export interface AttachmentPointer extends AttachmentMeta {
  /** The server's blob id. */
  id: string;
  /** AES-256 key ‖ HMAC-SHA256 key (64 bytes). */
  key: Uint8Array;
  /** SHA-256 of the whole encrypted blob (32 bytes). */
  digest: Uint8Array;
  /** The true plaintext size (the blob is padded). */
  size: number;
}

/** Copies only the fields that are set, so the pointer has no `undefined` keys. */
export function pointerFrom(base: Pick<AttachmentPointer, 'id' | 'key' | 'digest' | 'size'>, meta: AttachmentMeta): AttachmentPointer {
  const pointer: AttachmentPointer = { ...base, contentType: meta.contentType };
  if (meta.fileName !== undefined) pointer.fileName = meta.fileName;
  if (meta.width !== undefined) pointer.width = meta.width;
  if (meta.height !== undefined) pointer.height = meta.height;
  if (meta.durationMs !== undefined) pointer.durationMs = meta.durationMs;
  if (meta.voiceNote !== undefined) pointer.voiceNote = meta.voiceNote;
  return pointer;
}
