import type { Device } from '../store/devices.js';
import type { VerifiedDeviceKeys } from '../keys/device-keys.js';
import { bytes } from '../keys/device-keys.js';

/** The device row for a registration, re-registration or link, from verified keys. */
export function newDevice(input: {
  accountId: string;
  deviceId: number;
  registrationId: number;
  passwordHash: string;
  name: string | undefined;
  keys: VerifiedDeviceKeys;
  now: number;
}): Device {
  return {
    accountId: input.accountId,
    deviceId: input.deviceId,
    registrationId: input.registrationId,
    passwordHash: input.passwordHash,
    name: input.name === undefined ? null : bytes(input.name),
    signedPreKey: input.keys.signedPreKey,
    kyberLastResort: input.keys.kyberLastResort,
    createdAt: input.now,
    lastSeenDay: null,
  };
}
