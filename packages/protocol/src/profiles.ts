import { Type, type Static } from '@sinclair/typebox';
import { Base64, Uuid } from './common.js';

/**
 * Encrypted profiles (display name + avatar). The server keeps one opaque ciphertext
 * per account and a version the client derived from its profile key; it can read
 * neither the name nor the avatar, nor tell whose key opens them.
 */

/** Largest stored profile ciphertext (nonce + padded plaintext + tag). */
export const MAX_PROFILE_CIPHERTEXT_BYTES = 96 * 1024;
// In limits.ts (no schemas there) so that the CLI's help can show them without loading TypeBox.
export { MAX_PROFILE_AVATAR_BYTES, MAX_PROFILE_NAME_BYTES } from './limits.js';

/** Lowercase hex of 32 bytes: a commitment to (profile key, account id), not the key. */
export const PROFILE_VERSION_PATTERN = '^[0-9a-f]{64}$';
export const ProfileVersion = Type.String({ pattern: PROFILE_VERSION_PATTERN });

/** PUT /v1/profile: replaces the calling account's profile. */
export const SetProfileRequest = Type.Object(
  {
    version: ProfileVersion,
    ciphertext: Base64(MAX_PROFILE_CIPHERTEXT_BYTES),
  },
  { additionalProperties: false },
);
export type SetProfileRequest = Static<typeof SetProfileRequest>;

export const ProfileParams = Type.Object({ accountId: Uuid }, { additionalProperties: false });
export type ProfileParams = Static<typeof ProfileParams>;

/** GET /v1/profile/:accountId; 404 when the account has none. */
export const ProfileResponse = Type.Object({
  version: ProfileVersion,
  ciphertext: Base64(MAX_PROFILE_CIPHERTEXT_BYTES),
});
export type ProfileResponse = Static<typeof ProfileResponse>;
