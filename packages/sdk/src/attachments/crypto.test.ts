import { createDecipheriv, createHash, createHmac, randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { AttachmentDecryptor, encryptAttachment, newAttachmentKey, type EncryptedStats } from './crypto.js';
import { AttachmentCorruptError } from './errors.js';
import { encryptedSize, paddedSize } from './padding.js';

async function encrypt(plain: Uint8Array, key = newAttachmentKey()): Promise<{ blob: Buffer; stats: EncryptedStats; key: Uint8Array }> {
  const stats: Partial<EncryptedStats> = {};
  const parts: Buffer[] = [];
  async function* source() {
    for (let i = 0; i < plain.length; i += 7000) yield plain.subarray(i, i + 7000);
  }
  for await (const p of encryptAttachment(source(), key, stats)) parts.push(p);
  return { blob: Buffer.concat(parts), stats: stats as EncryptedStats, key };
}

function decrypt(blob: Uint8Array, key: Uint8Array, digest: Uint8Array, size: number, pieces = 3): Buffer {
  const d = new AttachmentDecryptor(key, digest, size);
  const out: Buffer[] = [];
  const step = Math.max(1, Math.ceil(blob.length / pieces));
  for (let i = 0; i < blob.length; i += step) out.push(d.update(blob.subarray(i, i + step)));
  out.push(d.final());
  return Buffer.concat(out);
}

describe('padding', () => {
  it("follows Signal's buckets: at least 541, at most 5% over, never under", () => {
    expect(paddedSize(0)).toBe(541);
    expect(paddedSize(1)).toBe(541);
    expect(paddedSize(541)).toBe(541);
    for (const n of [542, 1000, 4096, 65_537, 1_000_000, 5 * 1024 * 1024, 100 * 1024 * 1024]) {
      expect(paddedSize(n)).toBeGreaterThanOrEqual(n);
      expect(paddedSize(n)).toBeLessThanOrEqual(Math.ceil(n * 1.05));
      expect(paddedSize(n)).toBe(Math.max(541, Math.floor(1.05 ** Math.ceil(Math.log(n) / Math.log(1.05)))));
    }
    // Neighbouring sizes share a bucket: the server cannot tell them apart.
    expect(paddedSize(1_000_000)).toBe(paddedSize(1_000_001));
  });
});

describe("Signal's attachment scheme", () => {
  it('produces IV ‖ AES-256-CBC(padded) ‖ HMAC-SHA256(IV ‖ ciphertext), digest = SHA-256(blob)', async () => {
    const plain = randomBytes(1234);
    const { blob, stats, key } = await encrypt(plain);
    expect(blob.length).toBe(encryptedSize(1234));
    expect(stats).toMatchObject({ plaintextSize: 1234, size: blob.length });
    expect(Buffer.from(stats.digest).equals(createHash('sha256').update(blob).digest())).toBe(true);
    const k = Buffer.from(key);
    const iv = blob.subarray(0, 16);
    const ct = blob.subarray(16, blob.length - 32);
    expect(createHmac('sha256', k.subarray(32)).update(blob.subarray(0, blob.length - 32)).digest().equals(blob.subarray(blob.length - 32))).toBe(true);
    const decipher = createDecipheriv('aes-256-cbc', k.subarray(0, 32), iv);
    const padded = Buffer.concat([decipher.update(ct), decipher.final()]);
    expect(padded.length).toBe(paddedSize(1234));
    expect(padded.subarray(0, 1234).equals(plain)).toBe(true);
    expect(padded.subarray(1234).every((b) => b === 0)).toBe(true);
  });

  it.each([0, 1, 15, 16, 17, 541, 542, 100_000])('round-trips %i bytes, fed in pieces', async (n) => {
    const plain = randomBytes(n);
    const { blob, stats, key } = await encrypt(plain);
    for (const pieces of [1, 5, blob.length]) expect(decrypt(blob, key, stats.digest, n, pieces).equals(plain)).toBe(true);
  });

  it('refuses any flipped byte (IV, ciphertext, MAC), truncation, extension and a wrong digest or size', async () => {
    const plain = randomBytes(5000);
    const { blob, stats, key } = await encrypt(plain);
    for (const at of [0, 15, 16, 100, blob.length - 33, blob.length - 32, blob.length - 1]) {
      const bad = Buffer.from(blob);
      bad[at]! ^= 0x01;
      expect(() => decrypt(bad, key, stats.digest, 5000)).toThrow(AttachmentCorruptError);
    }
    expect(() => decrypt(blob.subarray(0, blob.length - 1), key, stats.digest, 5000)).toThrow(AttachmentCorruptError);
    expect(() => decrypt(blob.subarray(0, 40), key, stats.digest, 5000)).toThrow(/truncated/);
    expect(() => decrypt(Buffer.concat([blob, Buffer.alloc(1)]), key, stats.digest, 5000)).toThrow(AttachmentCorruptError);
    const wrongDigest = Buffer.from(stats.digest);
    wrongDigest[0]! ^= 1;
    expect(() => decrypt(blob, key, wrongDigest, 5000)).toThrow(/digest/);
    expect(() => decrypt(blob, key, stats.digest, 4999)).toThrow(AttachmentCorruptError);
    const otherKey = Buffer.from(key);
    otherKey[40]! ^= 1;
    expect(() => decrypt(blob, otherKey, stats.digest, 5000)).toThrow(/MAC/);
    try {
      decrypt(blob.subarray(1), key, stats.digest, 5000);
      expect.unreachable();
    } catch (err) {
      expect((err as AttachmentCorruptError).code).toBe('ATTACHMENT_CORRUPT');
    }
  });
});
