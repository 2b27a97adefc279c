export { ProfileInvalidError, ProfileUnreadableError } from './errors.js';
export {
  decryptProfile,
  encryptProfile,
  generateProfileKey,
  PROFILE_CIPHERTEXT_BUCKETS,
  PROFILE_KEY_BYTES,
  profileVersion,
  type EncryptedProfile,
  type UserProfile,
} from './profile-crypto.js';
export { fetchProfile, publishProfile } from './profile-api.js';
