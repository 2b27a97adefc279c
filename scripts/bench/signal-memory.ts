/**
 * Bench devices with real libsignal keys kept in memory (the group fan-out phase): the
 * same registration as accounts.ts, but the private halves stay with the device so it can
 * accept a PreKey message and hold sender keys. The stores are the server tests' in-memory
 * ones; the bundle of a fetched device is built by the SDK's own bundleFor.
 */
import { ProtocolAddress } from '@signalapp/libsignal-client';
import { deviceAuthorization } from '@kluis/protocol';
import { bundleFor } from '../../packages/sdk/src/sender.js';
import { b64, generateDeviceKeys, newIdentity, newPassword, newRegistrationId } from '../../packages/server/src/test-support/keys.js';
import { MemorySignalStores } from '../../packages/server/src/test-support/signal-stores.js';
import { mintInviteCodes, postRegistration } from './accounts.js';

/** All libsignal stores of one device, in memory; `identity` names the identity store as the group phases read it. */
export class MemoryStores extends MemorySignalStores {
  get identity() {
    return this.identities;
  }
}

export interface MemoryDevice {
  accountId: string;
  deviceId: number;
  registrationId: number;
  authorization: string;
  address: ProtocolAddress;
  stores: MemoryStores;
}

/**
 * Registers one account through the real API (POST /v1/accounts) with real keys: a signed
 * prekey, a Kyber last-resort key, and one one-time EC and Kyber prekey (what a sender's
 * bundle fetch consumes), as an SDK client would publish them. Keeps the private halves.
 */
export async function registerMemoryDevice(url: string, inviteCode: string, username: string): Promise<MemoryDevice> {
  const identity = newIdentity();
  const registrationId = newRegistrationId();
  const keys = generateDeviceKeys(identity, { preKeys: 1, kyberPreKeys: 1 });
  const password = newPassword();
  const { accountId, deviceId } = await postRegistration(url, {
    inviteCode,
    username,
    identityKey: b64(identity.publicKey.serialize()),
    registrationId,
    password,
    ...keys.upload,
  });
  return {
    accountId,
    deviceId,
    registrationId,
    authorization: deviceAuthorization(accountId, deviceId, password),
    address: ProtocolAddress.new(accountId, deviceId),
    stores: new MemoryStores(identity, registrationId, keys),
  };
}

export { b64, bundleFor as bundleOf, mintInviteCodes };
