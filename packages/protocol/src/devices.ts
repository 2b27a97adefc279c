import { Type, type Static } from '@sinclair/typebox';
import { Base64, CodeInput, DeviceId, Password, RegistrationId, Timestamp, Uuid } from './common.js';
import { DeviceKeys, EcPublicKey } from './keys.js';
import { SealedDeviceName } from './accounts.js';

/*
 * Linking a device, in four steps; the identity key pair never crosses the server in
 * the clear:
 * 1. primary: POST /v1/devices/link-codes                 -> code (10 minutes)
 * 2. new device: POST /v1/link/request {code, publicKey}  (a one-time EC key it made)
 * 3. primary: POST /v1/devices/link-codes/status until 'requested', shows a
 *    verification number of that key, then POST /v1/devices/link-codes/provision with
 *    the account secrets sealed (HPKE, PublicKey.seal) to it
 * 4. new device: POST /v1/link/fetch -> sealed secrets; it opens them, signs its own
 *    prekeys with the identity key and POST /v1/link/complete -> its device id.
 */
export const LinkCodeResponse = Type.Object({ code: Type.String(), expiresAt: Timestamp });
export type LinkCodeResponse = Static<typeof LinkCodeResponse>;

export const LinkState = Type.Union([
  Type.Literal('waiting'),
  Type.Literal('requested'),
  Type.Literal('provisioned'),
  Type.Literal('linked'),
]);
export type LinkState = Static<typeof LinkState>;

export const LinkCodeBody = Type.Object({ code: CodeInput }, { additionalProperties: false });
export type LinkCodeBody = Static<typeof LinkCodeBody>;

export const LinkStatusResponse = Type.Object({
  state: LinkState,
  publicKey: Type.Optional(EcPublicKey),
  deviceId: Type.Optional(DeviceId),
});
export type LinkStatusResponse = Static<typeof LinkStatusResponse>;

export const LinkRequest = Type.Object({ code: CodeInput, publicKey: EcPublicKey }, { additionalProperties: false });
export type LinkRequest = Static<typeof LinkRequest>;

/** Sealed account secrets: identity key pair, account id, username. A few hundred bytes. */
export const SealedProvision = Base64(4096);
export const ProvisionRequest = Type.Object(
  { code: CodeInput, sealed: SealedProvision },
  { additionalProperties: false },
);
export type ProvisionRequest = Static<typeof ProvisionRequest>;

export const LinkFetchResponse = Type.Object({
  state: LinkState,
  sealed: Type.Optional(SealedProvision),
});
export type LinkFetchResponse = Static<typeof LinkFetchResponse>;

export const LinkCompleteRequest = Type.Object(
  {
    code: CodeInput,
    registrationId: RegistrationId,
    password: Password,
    name: Type.Optional(SealedDeviceName),
    ...DeviceKeys,
  },
  { additionalProperties: false },
);
export type LinkCompleteRequest = Static<typeof LinkCompleteRequest>;

export const LinkCompleteResponse = Type.Object({ accountId: Uuid, deviceId: DeviceId });
export type LinkCompleteResponse = Static<typeof LinkCompleteResponse>;

export const DeviceInfo = Type.Object({
  deviceId: DeviceId,
  name: Type.Optional(SealedDeviceName),
  /** Midnight UTC of the day it was registered or linked: the server keeps no finer time. */
  createdAt: Timestamp,
  /** Midnight UTC of the last day the device connected: the server keeps no finer time. */
  lastSeenDay: Type.Optional(Timestamp),
});
export type DeviceInfo = Static<typeof DeviceInfo>;

export const DeviceListResponse = Type.Object({ devices: Type.Array(DeviceInfo) });
export type DeviceListResponse = Static<typeof DeviceListResponse>;

export const DeviceIdParams = Type.Object({ deviceId: Type.String({ pattern: '^[0-9]{1,3}$' }) });
export type DeviceIdParams = Static<typeof DeviceIdParams>;

export const KeysParams = Type.Object({
  accountId: Uuid,
  deviceId: Type.String({ pattern: '^([0-9]{1,3}|\\*)$' }),
});
export type KeysParams = Static<typeof KeysParams>;
