import { readFileSync } from 'node:fs';
import { PrivateKey, PublicKey, SenderCertificate, ServerCertificate } from '@signalapp/libsignal-client';
import { SENDER_CERTIFICATE_TTL_MS } from '@kluis/protocol';
import type { Db } from '../db/schema.js';

/** What `kluis admin trust-root issue` writes: the server's certificate and signing key. */
export interface ServerCertificateFile {
  keyId: number;
  /** base64 of the trust root's public key (what clients pin). */
  trustRoot: string;
  /** base64 ServerCertificate, signed by the trust root. */
  certificate: string;
  /** base64 private key matching the certificate. */
  privateKey: string;
}

/**
 * The deployment's sealed-sender keys. The trust root's private key never reaches the
 * serving path: it signs a server certificate once (offline, or at a first start where it
 * is then thrown away), and the server signs sender certificates with its own key.
 */
export class SealedSenderKeys {
  constructor(
    readonly trustRoot: PublicKey,
    private readonly certificate: ServerCertificate,
    private readonly key: PrivateKey,
  ) {}

  /** A sender certificate for one device: its account, device and identity key; 7 days. */
  issue(accountId: string, deviceId: number, identityKey: Uint8Array, now: number): { certificate: Uint8Array; expiresAt: number } {
    const expiresAt = now + SENDER_CERTIFICATE_TTL_MS;
    const cert = SenderCertificate.new(
      accountId,
      null,
      deviceId,
      PublicKey.deserialize(new Uint8Array(identityKey)),
      expiresAt,
      this.certificate,
      this.key,
    );
    return { certificate: cert.serialize(), expiresAt };
  }

  static fromFile(path: string): SealedSenderKeys {
    const f = JSON.parse(readFileSync(path, 'utf8')) as ServerCertificateFile;
    return SealedSenderKeys.fromParts(f);
  }

  static fromParts(f: ServerCertificateFile): SealedSenderKeys {
    const b = (s: string) => new Uint8Array(Buffer.from(s, 'base64'));
    const trustRoot = PublicKey.deserialize(b(f.trustRoot));
    const certificate = ServerCertificate.deserialize(b(f.certificate));
    // A certificate not signed by this trust root would make every sealed message fail at the receivers.
    if (!trustRoot.verify(certificate.certificateData(), certificate.signature()))
      throw new Error('the server certificate is not signed by the given trust root');
    return new SealedSenderKeys(trustRoot, certificate, PrivateKey.deserialize(b(f.privateKey)));
  }

  /**
   * Keys from the database, made on the first start of the first node (a single node
   * needs no setup; every node of a cluster shares them). The throwaway trust root's
   * private key is dropped right after signing.
   */
  static async loadOrCreate(db: Db, now: number): Promise<SealedSenderKeys> {
    const existing = await db.selectFrom('sealed_sender_keys').selectAll().orderBy('key_id', 'desc').executeTakeFirst();
    if (!existing) {
      const f = issueServerCertificate(PrivateKey.generate(), 1);
      await db
        .insertInto('sealed_sender_keys')
        .values({
          key_id: f.keyId,
          trust_root: Buffer.from(f.trustRoot, 'base64'),
          certificate: Buffer.from(f.certificate, 'base64'),
          private_key: Buffer.from(f.privateKey, 'base64'),
          created_at: now,
        })
        .onConflict((oc) => oc.column('key_id').doNothing())
        .execute();
    }
    // Several nodes starting together: whichever insert won is what everyone uses.
    const row = (await db.selectFrom('sealed_sender_keys').selectAll().orderBy('key_id', 'desc').executeTakeFirst())!;
    return SealedSenderKeys.fromParts({
      keyId: row.key_id,
      trustRoot: Buffer.from(row.trust_root).toString('base64'),
      certificate: Buffer.from(row.certificate).toString('base64'),
      privateKey: Buffer.from(row.private_key).toString('base64'),
    });
  }
}

/** Signs a fresh server key with the trust root (what `kluis admin trust-root issue` does). */
export function issueServerCertificate(trustRoot: PrivateKey, keyId: number): ServerCertificateFile {
  const serverKey = PrivateKey.generate();
  const certificate = ServerCertificate.new(keyId, serverKey.getPublicKey(), trustRoot);
  const b = (x: Uint8Array) => Buffer.from(x).toString('base64');
  return {
    keyId,
    trustRoot: b(trustRoot.getPublicKey().serialize()),
    certificate: b(certificate.serialize()),
    privateKey: b(serverKey.serialize()),
  };
}
