import { randomBytes } from 'node:crypto';
import { TypeCompiler } from '@sinclair/typebox/compiler';
import { Value } from '@sinclair/typebox/value';
import { describe, expect, it } from 'vitest';
import { Base64, DISPLAY_TEXT_PATTERN, DisplayText, isCanonicalBase64, isDisplayText } from './common.js';
import { OutgoingMessage } from './messages.js';

describe('canonical base64', () => {
  it('takes exactly what Buffer#toString("base64") writes', () => {
    for (let n = 0; n < 70; n++) {
      const text = randomBytes(n).toString('base64');
      expect(isCanonicalBase64(text), text).toBe(true);
    }
  });

  it('refuses every other spelling, even ones Node would decode', () => {
    const refused = [
      'QUJ', // no padding ("AB" is QUI=)
      'QUI', // the same, the right bits
      'QUJ=', // unused low bits set: decodes to "AB" as QUI= does
      'QR==', // the same with two pads
      'QQ=', // short padding
      'QQ===', // long padding
      'QQ==QUJD', // padding in the middle
      'QUJD\n', // whitespace
      'QU JD',
      'QUJ-', // URL-safe alphabet
      'QUJ_',
      'QUJDŁUJD', // Node reads the low byte of Ł as "A"
      '====',
      'not base64!',
    ];
    for (const text of refused) expect(isCanonicalBase64(text), JSON.stringify(text)).toBe(false);
    expect(isCanonicalBase64('')).toBe(true);
  });

  it('is what the Base64 schema checks in TypeBox (socket frames, clients)', () => {
    const schema = Base64(16);
    expect(Value.Check(schema, 'QUI=')).toBe(true);
    expect(Value.Check(schema, 'QUJ')).toBe(false);
    expect(Value.Check(schema, 'QUJ=')).toBe(false);
    const body = (content: string) => ({ deviceId: 1, registrationId: 1, type: 2, content });
    const check = TypeCompiler.Compile(OutgoingMessage);
    expect(check.Check(body('QUI='))).toBe(true);
    expect(check.Check(body('QUJ'))).toBe(false);
  });

  it('checks megabytes without a regex stack overflow', () => {
    const big = randomBytes(4 * 1024 * 1024 + 1).toString('base64');
    expect(isCanonicalBase64(big)).toBe(true);
    expect(big.endsWith('=')).toBe(true);
    expect(isCanonicalBase64(big.slice(0, -2) + 'B=')).toBe(false);
  });
});

describe('display text (brand, plan and admin names)', () => {
  const accepted = ['Kluis', 'Kluis Pro 🔒', '👨‍👩‍👧 Family', 'کلویس', 'מעטפת', 'クルイス', 'Ünïcödé', 'x'];
  const refused: Array<[string, string]> = [
    ['right-to-left override', 'Kluis \u202Egnp.exe'],
    ['left-to-right embedding', 'a\u202Ab'],
    ['pop directional formatting', 'a\u202Cb'],
    ['right-to-left isolate', '\u2067Kluis\u2069'],
    ['first strong isolate', 'a\u2068b'],
    ['right-to-left mark', '\u200FKluis'],
    ['left-to-right mark', 'Kluis\u200E'],
    ['Arabic letter mark', 'a\u061Cb'],
    ['lone high surrogate', 'Pro \ud83d'],
    ['lone low surrogate', '\ude00Pro'],
    ['reversed pair', '\ude00\ud83d'],
    ['NUL', 'a\u0000b'],
    ['bell', 'ops\u0007'],
    ['tab', 'a\tb'],
    ['newline', 'a\nb'],
    ['DEL', 'a\u007Fb'],
    ['C1 CSI', 'a\u009B2J'],
    ['zero-width space', 'Klu\u200Bis'],
    ['soft hyphen', 'Klu\u00ADis'],
    ['byte order mark', '\uFEFFKluis'],
    ['word joiner', 'Klu\u2060is'],
    ['line separator', 'a\u2028b'],
  ];

  it('takes names in any script, with emoji (ZWJ sequences included)', () => {
    for (const name of accepted) {
      expect(isDisplayText(name), name).toBe(true);
      expect(Value.Check(DisplayText(64), name), name).toBe(true);
      // Ajv compiles patterns with the `u` flag: the same answer there.
      expect(new RegExp(DISPLAY_TEXT_PATTERN, 'u').test(name), name).toBe(true);
    }
  });

  it('refuses controls, bidi overrides, isolates and marks, invisible characters and lone surrogates', () => {
    for (const [what, name] of refused) {
      expect(isDisplayText(name), what).toBe(false);
      expect(Value.Check(DisplayText(64), name), what).toBe(false);
      expect(new RegExp(DISPLAY_TEXT_PATTERN, 'u').test(name), what).toBe(false);
    }
    expect(Value.Check(DisplayText(64), '')).toBe(false);
    expect(Value.Check(DisplayText(4), 'Kluis')).toBe(false);
  });
});
