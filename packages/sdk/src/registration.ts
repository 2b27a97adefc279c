import { IdentityKeyPair } from '@signalapp/libsignal-client';
import type { AccountState } from './account.js';
import type { Ctx } from './context.js';
import { sealDeviceName } from './device-name.js';
import { b64, generatePassword, generateRegistrationId } from './keys.js';
import type { FullKeySet } from './prekeys.js';
import { HttpApi, normalizeServerUrl } from './transport/http.js';

/** What registering or linking this profile needs from its Client. */
export interface Enrolment {
  readonly ctx: Ctx;
  /** Makes `account` this profile's account, with `ownDevices` as our device list, in one transaction. */
  adopt(account: AccountState, ownDevices: number[]): void;
}

/** A new device's secrets and the key set whose private halves are already stored. */
export interface DeviceKeys {
  identityKeyPair: IdentityKeyPair;
  registrationId: number;
  password: string;
  set: FullKeySet;
}

export function newDeviceKeys(ctx: Ctx, identityKeyPair: IdentityKeyPair): DeviceKeys {
  const registrationId = generateRegistrationId();
  const password = generatePassword();
  return { identityKeyPair, registrationId, password, set: ctx.keys.generateFullSet(identityKeyPair) };
}

/** The fields that registration, re-registration and link completion requests share. */
export function deviceUpload(k: DeviceKeys, deviceName?: string) {
  return {
    registrationId: k.registrationId,
    password: k.password,
    ...sealDeviceName(k.identityKeyPair.publicKey, deviceName),
    ...k.set.upload,
  };
}

/**
 * Sends a new device's keys. If the server refuses, the stored private halves belong to no
 * device, and a retry generates a fresh set, so they are dropped.
 */
export async function uploadNewDevice<T>(ctx: Ctx, upload: () => Promise<T>): Promise<T> {
  try {
    return await upload();
  } catch (e) {
    ctx.store.wipeOwnKeys();
    throw e;
  }
}

export function accountFor(
  k: DeviceKeys,
  where: { accountId: string; username: string; deviceId: number; serverUrl: string },
): AccountState {
  return {
    accountId: where.accountId,
    username: where.username,
    deviceId: where.deviceId,
    serverUrl: where.serverUrl,
    password: k.password,
    registrationId: k.registrationId,
    identityKeyPair: k.identityKeyPair,
  };
}

/** Redeems an invite and registers this profile as the account's primary device. */
export async function register(
  host: Enrolment,
  o: { serverUrl: string; inviteCode: string; username: string; deviceName?: string },
): Promise<void> {
  const serverUrl = normalizeServerUrl(o.serverUrl);
  const api = new HttpApi(serverUrl);
  const k = newDeviceKeys(host.ctx, IdentityKeyPair.generate());
  const res = await uploadNewDevice(host.ctx, () =>
    api.register({
      inviteCode: o.inviteCode,
      username: o.username,
      identityKey: b64(k.identityKeyPair.publicKey.serialize()),
      ...deviceUpload(k, o.deviceName),
    }),
  );
  host.adopt(accountFor(k, { ...res, serverUrl }), [res.deviceId]);
}

/**
 * A reinstall of the primary `me` with a fresh identity key pair, registration id, password
 * and keys. Client.reregister stops the socket around it, so nothing is decrypted while the
 * identity is swapped.
 */
export async function reregister(host: Enrolment, me: AccountState): Promise<void> {
  const { ctx } = host;
  const k = newDeviceKeys(ctx, IdentityKeyPair.generate());
  // No wipe on refusal here: the old identity's keys are still the live ones.
  await ctx.api().reregister({ identityKey: b64(k.identityKeyPair.publicKey.serialize()), ...deviceUpload(k) });
  ctx.store.transaction(() => {
    ctx.store.resetForNewIdentity(keepIds(k.set));
    ctx.store.deleteIdentity(me.accountId);
    host.adopt(accountFor(k, me), [me.deviceId]);
  });
}

function keepIds(set: FullKeySet): { preKeys: number[]; signedPreKeys: number[]; kyberPreKeys: number[] } {
  return {
    preKeys: set.upload.preKeys.map((k) => k.keyId),
    signedPreKeys: [set.upload.signedPreKey.keyId],
    kyberPreKeys: [...set.upload.kyberPreKeys.map((k) => k.keyId), set.upload.kyberLastResort.keyId],
  };
}
