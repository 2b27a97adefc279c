import { Type, type Static } from '@sinclair/typebox';
import { Base64, CodeInput, DeviceId, Password, RegistrationId, UsernameInput, Uuid } from './common.js';
import { DeviceKeys, EcPublicKey } from './keys.js';

/** Device name sealed by the client to the account identity key; the server cannot read it. */
export const SealedDeviceName = Base64(512);

/** POST /v1/accounts: redeem an invite, create the account and its primary device. */
export const RegisterRequest = Type.Object(
  {
    inviteCode: CodeInput,
    username: UsernameInput,
    identityKey: EcPublicKey,
    registrationId: RegistrationId,
    password: Password,
    name: Type.Optional(SealedDeviceName),
    ...DeviceKeys,
  },
  { additionalProperties: false },
);
export type RegisterRequest = Static<typeof RegisterRequest>;

export const RegisterResponse = Type.Object({
  accountId: Uuid,
  deviceId: DeviceId,
  username: Type.String(),
});
export type RegisterResponse = Static<typeof RegisterResponse>;

/**
 * PUT /v1/accounts/identity (primary only): a reinstall with a fresh identity key.
 * Every linked device is removed and queued envelopes are dropped: nothing sent to the
 * old identity can be read by the new one.
 */
export const ReregisterRequest = Type.Object(
  {
    identityKey: EcPublicKey,
    registrationId: RegistrationId,
    password: Password,
    name: Type.Optional(SealedDeviceName),
    ...DeviceKeys,
  },
  { additionalProperties: false },
);
export type ReregisterRequest = Static<typeof ReregisterRequest>;

/** GET /v1/accounts/me */
export const WhoAmIResponse = Type.Object({
  accountId: Uuid,
  username: Type.String(),
  deviceId: DeviceId,
  identityKey: EcPublicKey,
});
export type WhoAmIResponse = Static<typeof WhoAmIResponse>;

/** GET /v1/accounts/username/:username */
export const UsernameLookupResponse = Type.Object({
  accountId: Uuid,
  username: Type.String(),
});
export type UsernameLookupResponse = Static<typeof UsernameLookupResponse>;

export const UsernameParams = Type.Object({ username: UsernameInput });
export type UsernameParams = Static<typeof UsernameParams>;
