import { Type } from '@sinclair/typebox';
import { MAX_DEVICE_ID, MAX_REGISTRATION_ID, USERNAME_MAX, USERNAME_MIN } from './limits.js';

/** Standard base64 of raw bytes (keys, signatures, ciphertexts). */
export const Base64 = (maxBytes: number) =>
  Type.String({
    pattern: '^[A-Za-z0-9+/]*={0,2}$',
    maxLength: Math.ceil(maxBytes / 3) * 4,
    contentEncoding: 'base64',
  });

export const Uuid = Type.String({
  pattern: '^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$',
});
export const DeviceId = Type.Integer({ minimum: 1, maximum: MAX_DEVICE_ID });
export const RegistrationId = Type.Integer({ minimum: 1, maximum: MAX_REGISTRATION_ID });
export const KeyId = Type.Integer({ minimum: 0, maximum: 0xffffff });
/** Loose on purpose: the server normalises and answers INVALID_USERNAME with the rule. */
export const UsernameInput = Type.String({ minLength: 1, maxLength: USERNAME_MAX * 2 });
export const Username = Type.String({ minLength: USERNAME_MIN, maxLength: USERNAME_MAX });
export const CodeInput = Type.String({ minLength: 1, maxLength: 64 });
/** A client-chosen device password (random, ≥ 128 bits); stored by the server as argon2id. */
export const Password = Type.String({ minLength: 22, maxLength: 128 });
export const Timestamp = Type.Integer({ minimum: 0, maximum: 8.64e15 });
