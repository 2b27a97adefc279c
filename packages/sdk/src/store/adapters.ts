import {
  Direction,
  IdentityChange,
  IdentityKeyPair,
  IdentityKeyStore,
  KyberPreKeyRecord,
  KyberPreKeyStore,
  PreKeyRecord,
  PreKeyStore,
  PrivateKey,
  ProtocolAddress,
  PublicKey,
  SenderKeyRecord,
  SenderKeyStore,
  SessionRecord,
  SessionStore,
  SignedPreKeyRecord,
  SignedPreKeyStore,
  type Uuid,
} from '@signalapp/libsignal-client';
import type { ProtocolStore, Zone } from './protocol-store.js';

/**
 * Thin libsignal store adapters over one ProtocolStore, all bound to the same zone (or none).
 *
 * Identity policy (ours, not libsignal's):
 * - Receiving: always trusted. A key that differs from the trusted one is stored as pending
 *   (status changed-pending): the message is accepted, sending is blocked until trust().
 * - Sending: trusted only when the key equals the trusted key and no change is pending.
 *   A refused key is remembered in `untrusted` so the caller can record and report it.
 */
export interface LocalIdentity {
  identityKeyPair: IdentityKeyPair;
  registrationId: number;
}

export interface IdentityEvent {
  accountId: string;
  key: Uint8Array<ArrayBuffer>;
}

export class Adapters {
  readonly sessions: SessionAdapter;
  readonly identity: IdentityAdapter;
  readonly preKeys: PreKeyAdapter;
  readonly signedPreKeys: SignedPreKeyAdapter;
  readonly kyberPreKeys: KyberPreKeyAdapter;
  readonly senderKeys: SenderKeyAdapter;

  constructor(
    readonly store: ProtocolStore,
    readonly local: LocalIdentity,
    readonly zone: Zone | undefined,
    now: () => number,
  ) {
    this.sessions = new SessionAdapter(store, zone);
    this.identity = new IdentityAdapter(store, zone, local, now);
    this.preKeys = new PreKeyAdapter(store, zone);
    this.signedPreKeys = new SignedPreKeyAdapter(store, zone);
    this.kyberPreKeys = new KyberPreKeyAdapter(store, zone);
    this.senderKeys = new SenderKeyAdapter(store, zone);
  }
}

export class SessionAdapter extends SessionStore {
  constructor(
    private readonly store: ProtocolStore,
    private readonly zone: Zone | undefined,
  ) {
    super();
  }
  async saveSession(name: ProtocolAddress, record: SessionRecord): Promise<void> {
    this.store.saveSession(name.toString(), record.serialize(), this.zone);
  }
  async getSession(name: ProtocolAddress): Promise<SessionRecord | null> {
    const bytes = this.store.getSession(name.toString(), this.zone);
    return bytes ? SessionRecord.deserialize(bytes) : null;
  }
  async getExistingSessions(addresses: ProtocolAddress[]): Promise<SessionRecord[]> {
    return addresses.map((a) => {
      const bytes = this.store.getSession(a.toString(), this.zone);
      if (!bytes) throw new Error(`no session for ${a.toString()}`);
      return SessionRecord.deserialize(bytes);
    });
  }
}

export class IdentityAdapter extends IdentityKeyStore {
  /** Keys refused for sending during this adapter's life. */
  readonly untrusted: IdentityEvent[] = [];
  /** Keys that replaced a trusted one while receiving (now pending). */
  readonly changed: IdentityEvent[] = [];

  constructor(
    private readonly store: ProtocolStore,
    private readonly zone: Zone | undefined,
    private readonly local: LocalIdentity,
    private readonly now: () => number,
  ) {
    super();
  }
  async getIdentityKey(): Promise<PrivateKey> {
    return this.local.identityKeyPair.privateKey;
  }
  override async getIdentityKeyPair(): Promise<IdentityKeyPair> {
    return this.local.identityKeyPair;
  }
  async getLocalRegistrationId(): Promise<number> {
    return this.local.registrationId;
  }
  async saveIdentity(name: ProtocolAddress, key: PublicKey): Promise<IdentityChange> {
    const accountId = name.name();
    const bytes = key.serialize();
    const row = this.store.getIdentity(accountId, this.zone);
    const now = this.now();
    if (!row) {
      this.store.putIdentity(
        { accountId, publicKey: bytes, status: 'trusted', pendingKey: null, verified: false, firstSeen: now, updatedAt: now },
        this.zone,
      );
      return IdentityChange.NewOrUnchanged;
    }
    if (equal(row.publicKey, bytes)) return IdentityChange.NewOrUnchanged;
    if (row.pendingKey && equal(row.pendingKey, bytes) && row.status === 'changed-pending') return IdentityChange.ReplacedExisting;
    this.store.putIdentity({ ...row, status: 'changed-pending', pendingKey: bytes, verified: false, updatedAt: now }, this.zone);
    this.changed.push({ accountId, key: bytes });
    return IdentityChange.ReplacedExisting;
  }
  async isTrustedIdentity(name: ProtocolAddress, key: PublicKey, direction: Direction): Promise<boolean> {
    if (direction === Direction.Receiving) return true;
    const accountId = name.name();
    const row = this.store.getIdentity(accountId, this.zone);
    if (!row) return true; // first use
    const bytes = key.serialize();
    if (row.status === 'trusted' && equal(row.publicKey, bytes)) return true;
    this.untrusted.push({ accountId, key: bytes });
    return false;
  }
  async getIdentity(name: ProtocolAddress): Promise<PublicKey | null> {
    const row = this.store.getIdentity(name.name(), this.zone);
    return row ? PublicKey.deserialize(row.publicKey) : null;
  }
}

export class PreKeyAdapter extends PreKeyStore {
  constructor(
    private readonly store: ProtocolStore,
    private readonly zone: Zone | undefined,
  ) {
    super();
  }
  async savePreKey(id: number, record: PreKeyRecord): Promise<void> {
    this.store.savePreKey(id, record.serialize(), this.zone);
  }
  async getPreKey(id: number): Promise<PreKeyRecord> {
    const bytes = this.store.getPreKey(id, this.zone);
    if (!bytes) throw new Error(`no prekey ${id}`);
    return PreKeyRecord.deserialize(bytes);
  }
  async removePreKey(id: number): Promise<void> {
    this.store.removePreKey(id, this.zone);
  }
}

export class SignedPreKeyAdapter extends SignedPreKeyStore {
  constructor(
    private readonly store: ProtocolStore,
    private readonly zone: Zone | undefined,
  ) {
    super();
  }
  async saveSignedPreKey(id: number, record: SignedPreKeyRecord): Promise<void> {
    this.store.saveSignedPreKey({ id, record: record.serialize(), createdAt: record.timestamp(), replacedAt: null }, this.zone);
  }
  async getSignedPreKey(id: number): Promise<SignedPreKeyRecord> {
    const row = this.store.getSignedPreKey(id, this.zone);
    if (!row) throw new Error(`no signed prekey ${id}`);
    return SignedPreKeyRecord.deserialize(row.record);
  }
}

export class KyberPreKeyAdapter extends KyberPreKeyStore {
  constructor(
    private readonly store: ProtocolStore,
    private readonly zone: Zone | undefined,
  ) {
    super();
  }
  async saveKyberPreKey(id: number, record: KyberPreKeyRecord): Promise<void> {
    const existing = this.store.getKyberPreKey(id, this.zone);
    this.store.saveKyberPreKey(
      { id, record: record.serialize(), lastResort: existing?.lastResort ?? false, createdAt: record.timestamp(), replacedAt: null },
      this.zone,
    );
  }
  async getKyberPreKey(id: number): Promise<KyberPreKeyRecord> {
    const row = this.store.getKyberPreKey(id, this.zone);
    if (!row) throw new Error(`no kyber prekey ${id}`);
    return KyberPreKeyRecord.deserialize(row.record);
  }
  async markKyberPreKeyUsed(id: number, _signedPreKeyId: number, _baseKey: PublicKey): Promise<void> {
    this.store.markKyberPreKeyUsed(id, this.zone);
  }
}

export class SenderKeyAdapter extends SenderKeyStore {
  constructor(
    private readonly store: ProtocolStore,
    private readonly zone: Zone | undefined,
  ) {
    super();
  }
  async saveSenderKey(sender: ProtocolAddress, distributionId: Uuid, record: SenderKeyRecord): Promise<void> {
    this.store.saveSenderKey(sender.toString(), String(distributionId), record.serialize(), this.zone);
  }
  async getSenderKey(sender: ProtocolAddress, distributionId: Uuid): Promise<SenderKeyRecord | null> {
    const bytes = this.store.getSenderKey(sender.toString(), String(distributionId), this.zone);
    return bytes ? SenderKeyRecord.deserialize(bytes) : null;
  }
}

export function equal(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}
