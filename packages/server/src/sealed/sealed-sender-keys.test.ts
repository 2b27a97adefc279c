import { afterEach, beforeEach, expect, it } from 'vitest';
import { PrivateKey, PublicKey, SenderCertificate } from '@signalapp/libsignal-client';
import { openTestDb, type TestDb } from '../test-support/db.js';
import { describeStores } from '../test-support/dialects.js';
import { accessKeyMatches, combineAccessKeys, parseAccessKeyHeader } from './access.js';
import { issueServerCertificate, SealedSenderKeys } from './sealed-sender-keys.js';

let t: TestDb;

describeStores('SealedSenderKeys', (dialect) => {
  beforeEach(async () => {
    t = await openTestDb(dialect);
  });
  afterEach(() => t.close());

  it('makes keys once; every later load (another node) gets the same trust root', async () => {
    const a = await SealedSenderKeys.loadOrCreate(t.db, 1);
    const b = await SealedSenderKeys.loadOrCreate(t.db, 2);
    expect(Buffer.from(a.trustRoot.serialize()).equals(Buffer.from(b.trustRoot.serialize()))).toBe(true);
    const identity = PrivateKey.generate().getPublicKey();
    const { certificate, expiresAt } = b.issue('11111111-1111-4111-8111-111111111111', 2, identity.serialize(), 1_000);
    const cert = SenderCertificate.deserialize(new Uint8Array(certificate));
    expect(cert.validate(a.trustRoot, 2_000)).toBe(true);
    expect(cert.validate(a.trustRoot, expiresAt + 1)).toBe(false);
    expect(cert.senderDeviceId()).toBe(2);
  });
});

it('a certificate file from another trust root is refused', () => {
  const file = issueServerCertificate(PrivateKey.generate(), 1);
  expect(() => SealedSenderKeys.fromParts(file)).not.toThrow();
  const other = Buffer.from(PrivateKey.generate().getPublicKey().serialize()).toString('base64');
  expect(() => SealedSenderKeys.fromParts({ ...file, trustRoot: other })).toThrow(/not signed/);
  expect(PublicKey.deserialize(new Uint8Array(Buffer.from(file.trustRoot, 'base64')))).toBeDefined();
});

it('access keys compare in constant time, combine by XOR, and parse strictly', () => {
  const k1 = Buffer.alloc(16, 1);
  const k2 = Buffer.alloc(16, 2);
  expect(accessKeyMatches(k1, Buffer.alloc(16, 1))).toBe(true);
  expect(accessKeyMatches(k1, k2)).toBe(false);
  expect(accessKeyMatches(null, k1)).toBe(false);
  expect(combineAccessKeys([k1, k2]).equals(Buffer.alloc(16, 3))).toBe(true);
  expect(parseAccessKeyHeader(k1.toString('base64'))?.equals(k1)).toBe(true);
  expect(parseAccessKeyHeader('nope')).toBeUndefined();
  expect(parseAccessKeyHeader(undefined)).toBeUndefined();
});
