import type { Client } from '@kluis/sdk';

/**
 * What the app needs and the SDK's public surface does not offer yet, kept in one place
 * so it can go once the SDK grows these:
 * - whether a contact's identity key is in the "changed, not yet accepted" state (the
 *   'identity-changed' event says so only once, and a restarted app must still block);
 * - "marked as verified": the SDK's identity row has a `verified` flag but no method to
 *   set it, so the app keeps, in the profile's encrypted store, the safety number the
 *   user verified; a changed key changes the number, which un-verifies it by itself.
 */
const VERIFIED_KEY = 'app.verifiedSafetyNumbers';

function internals(client: Client) {
  return client._internals;
}

export function accountIdOf(client: Client, username: string): string | undefined {
  return internals(client).data.accountIdOf(username);
}

export function identityPending(client: Client, username: string): boolean {
  const id = accountIdOf(client, username);
  return id !== undefined && internals(client).store.getIdentity(id)?.status === 'changed-pending';
}

/** Usernames whose changed identity key waits to be accepted. */
export function pendingIdentities(client: Client, usernames: string[]): string[] {
  return usernames.filter((u) => identityPending(client, u));
}

function verifiedMap(client: Client): Record<string, string> {
  return internals(client).data.get<Record<string, string>>(VERIFIED_KEY) ?? {};
}

export function isVerified(client: Client, username: string, safetyNumber: string): boolean {
  return verifiedMap(client)[username] === safetyNumber;
}

export function setVerified(client: Client, username: string, safetyNumber: string | undefined): void {
  const map = verifiedMap(client);
  if (safetyNumber === undefined) delete map[username];
  else map[username] = safetyNumber;
  internals(client).data.set(VERIFIED_KEY, map);
}
