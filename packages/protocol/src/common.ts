import { FormatRegistry, Type } from '@sinclair/typebox';
import { MAX_DEVICE_ID, MAX_REGISTRATION_ID, USERNAME_MAX, USERNAME_MIN } from './limits.js';

/** The `format` of every Base64 schema: Ajv (the server's HTTP API) and TypeBox (socket frames, clients) check it with isCanonicalBase64. */
export const BASE64_FORMAT = 'base64';

/**
 * Canonical standard base64, exactly as Buffer#toString('base64') writes it: the
 * alphabet A–Z a–z 0–9 + /, a length that is a multiple of 4, '=' padding only at the
 * end, the unused low bits of the last group zero. Node's decoder takes far more (no
 * padding, the URL-safe alphabet, whitespace, other characters skipped, other low bits)
 * and reads it as other bytes, or as the same bytes under another spelling ("QUJ" and
 * "QUI=" both decode to "AB"), so a server that stores the decoded bytes would rewrite
 * what it was sent. A round trip through the native codec is the whole check: no regex
 * to backtrack on megabytes, and ~3× faster than the alphabet regex it replaces.
 */
export function isCanonicalBase64(value: string): boolean {
  if (value.length % 4 !== 0) return false;
  return Buffer.from(value, 'base64').toString('base64') === value;
}

// Registered on import: every TypeBox check of a protocol schema goes through this module.
FormatRegistry.Set(BASE64_FORMAT, isCanonicalBase64);

/** Standard base64 of raw bytes (keys, signatures, ciphertexts), canonical (see isCanonicalBase64). */
export const Base64 = (maxBytes: number) =>
  Type.String({
    format: BASE64_FORMAT,
    maxLength: Math.ceil(maxBytes / 3) * 4,
    contentEncoding: 'base64',
  });

/**
 * Characters refused in every name typed by one person for others to read (brand, plan and
 * admin token names): C0 and C1 controls and DEL; bidirectional embeddings, overrides and
 * isolates (U+202A–U+202E, U+2066–U+2069) and the invisible direction marks (U+200E,
 * U+200F, U+061C), which reorder or disguise what the console and the app show ("Trojan
 * Source"); invisible characters that make two names look the same (U+00AD soft hyphen,
 * U+180E, U+200B zero-width space, U+2060–U+2064, U+FEFF, U+FFF9–U+FFFB); line and
 * paragraph separators (U+2028, U+2029); and lone surrogates, which are not text at all.
 * ZWJ and ZWNJ (U+200D, U+200C) stay: emoji and several scripts need them.
 *
 * Written to mean the same with Ajv's `u` flag (the server) and without it (TypeBox): the
 * second alternative takes a well-formed surrogate pair when code units are matched one by
 * one, and can never match when a pair is a single code point.
 */
export const DISPLAY_TEXT_PATTERN =
  '^(?:[^\\u0000-\\u001F\\u007F-\\u009F\\u00AD\\u061C\\u180E\\u200B\\u200E\\u200F\\u2028-\\u202E\\u2060-\\u2069\\uFEFF\\uFFF9-\\uFFFB\\uD800-\\uDFFF]|[\\uD800-\\uDBFF][\\uDC00-\\uDFFF])*$';
const displayText = new RegExp(DISPLAY_TEXT_PATTERN);

/** True when `value` has none of the characters DISPLAY_TEXT_PATTERN refuses. */
export function isDisplayText(value: string): boolean {
  return displayText.test(value);
}

/** A name shown to others (console, app): 1 to maxLength characters, none of them refused (see DISPLAY_TEXT_PATTERN). */
export const DisplayText = (maxLength: number) =>
  Type.String({
    minLength: 1,
    maxLength,
    pattern: DISPLAY_TEXT_PATTERN,
    description: `1 to ${maxLength} characters; no control, bidirectional-override or invisible formatting characters`,
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
