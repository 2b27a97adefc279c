import type { HttpApi } from '../transport/http.js';
import { ProfileUnreadableError } from './errors.js';
import { decryptProfile, encryptProfile, profileVersion, type UserProfile } from './profile-crypto.js';

/** Encrypts `profile` under `profileKey` and replaces the account's profile on the server. Returns its version. */
export async function publishProfile(api: HttpApi, profileKey: Uint8Array, accountId: string, profile: UserProfile): Promise<string> {
  const { version, ciphertext } = encryptProfile(profileKey, accountId, profile);
  await api.setProfile({ version, ciphertext: Buffer.from(ciphertext).toString('base64') });
  return version;
}

/**
 * Fetches and opens an account's profile with the key its owner shared. Undefined when
 * the account has none; ProfileUnreadableError (`stale`: the owner has since changed
 * the key, or not yet re-uploaded under the key we hold) when it does not open.
 */
export async function fetchProfile(
  api: HttpApi,
  profileKey: Uint8Array,
  accountId: string,
): Promise<(UserProfile & { version: string }) | undefined> {
  const stored = await api.getProfile(accountId);
  if (!stored) return undefined;
  if (stored.version !== profileVersion(profileKey, accountId)) {
    throw new ProfileUnreadableError('the profile on the server was written with another profile key', { stale: true });
  }
  return { ...decryptProfile(profileKey, accountId, Buffer.from(stored.ciphertext, 'base64')), version: stored.version };
}
