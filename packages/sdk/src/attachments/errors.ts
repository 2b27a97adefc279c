import { KluisError } from '../errors.js';

/** The downloaded blob fails its MAC, digest, length or padding: nothing was written. */
export class AttachmentCorruptError extends KluisError {
  constructor(reason: string) {
    super('ATTACHMENT_CORRUPT', `the attachment is corrupt or was tampered with (${reason}); nothing was saved`);
  }
}

/** The file is larger than the server accepts (or than an attachment pointer can describe). */
export class AttachmentTooLargeError extends KluisError {
  constructor(size: number, serverSays: string, options?: { cause?: unknown }) {
    super('ATTACHMENT_TOO_LARGE', `the attachment is ${size} bytes encrypted: ${serverSays}`, options);
  }
}

/** A WebP or MP4 that the media sanitizer found malformed: sending it could harm the recipient's decoder. */
export class AttachmentInvalidMediaError extends KluisError {
  constructor(kind: string, options?: { cause?: unknown }) {
    super('ATTACHMENT_INVALID_MEDIA', `the ${kind} file is malformed and was not sent`, options);
  }
}

/** An upload or download that kept failing after every retry. */
export class AttachmentTransferError extends KluisError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('ATTACHMENT_TRANSFER', message, options);
  }
}
