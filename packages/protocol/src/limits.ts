/** Limits shared by server and clients; the server enforces them, clients stay within them. */
export const MAX_PREKEYS_PER_UPLOAD = 100;
export const PREKEY_REFILL_THRESHOLD = 10;
export const MAX_DEVICES_PER_ACCOUNT = 6;
/** Largest accepted request body, and largest single ciphertext (Signal's limit). */
export const MAX_MESSAGE_BYTES = 96 * 1024;
export const LINK_CODE_TTL_MS = 10 * 60 * 1000;
export const DEFAULT_ENVELOPE_TTL_MS = 30 * 24 * 60 * 60 * 1000;
/**
 * How long a `shortLived` envelope (call signals) is kept at least: the server rounds its
 * expiry up to the next coarse step (an hour), so it goes within the hour after this.
 */
export const SHORT_LIVED_TTL_MS = 2 * 60 * 1000;
export const MAX_ACKS_PER_FRAME = 256;
export const MAX_DEVICE_ID = 127;
/** Registration ids above 0x3FFF break libsignal's multi-recipient encryption. */
export const MAX_REGISTRATION_ID = 0x3fff;
export const USERNAME_MIN = 3;
export const USERNAME_MAX = 32;
export const USERNAME_PATTERN = '^[a-z0-9_.]{3,32}$';
export const PRIMARY_DEVICE_ID = 1;
/** Accounts one multi-recipient send (PUT /v1/messages) may name: the largest group. */
export const MAX_GROUP_MEMBERS = 1000;
/** Largest avatar image a client puts into a profile. */
export const MAX_PROFILE_AVATAR_BYTES = 64 * 1024;
/** Largest display name, in UTF-8 bytes. */
export const MAX_PROFILE_NAME_BYTES = 256;
/**
 * Largest WebSocket frame the server accepts. A multi-recipient send above it goes over
 * HTTP instead (its body limit is larger), so the per-socket buffer stays small.
 */
export const MAX_SOCKET_FRAME_BYTES = 1024 * 1024;
