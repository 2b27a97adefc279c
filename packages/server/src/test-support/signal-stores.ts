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
import type { DeviceKeySet } from './keys.js';

/** The private key records a device starts with (what generateDeviceKeys makes, without the upload). */
export type DeviceKeyRecords = Pick<DeviceKeySet, 'signed' | 'lastResort' | 'preKeys' | 'kyberPreKeys'>;

/**
 * Minimal in-memory libsignal stores: enough to prove the server's bundles and envelopes
 * work end to end, and to hold sender keys (the bench's group fan-out devices use them too).
 */
export class MemorySignalStores {
  readonly sessions: SessionStore;
  readonly identities: IdentityKeyStore;
  readonly preKeys: PreKeyStore;
  readonly signedPreKeys: SignedPreKeyStore;
  readonly kyberPreKeys: KyberPreKeyStore;
  readonly senderKeys: SenderKeyStore;

  constructor(identity: IdentityKeyPair, registrationId: number, keys: DeviceKeyRecords) {
    const sessions = new Map<string, SessionRecord>();
    const known = new Map<string, PublicKey>();
    const pre = new Map<number, PreKeyRecord>(keys.preKeys.map((k) => [k.id(), k]));
    const signed = new Map<number, SignedPreKeyRecord>([[keys.signed.id(), keys.signed]]);
    const kyber = new Map<number, KyberPreKeyRecord>([[keys.lastResort.id(), keys.lastResort], ...keys.kyberPreKeys.map((k) => [k.id(), k] as const)]);
    const senderKeys = new Map<string, SenderKeyRecord>();
    const lastResortId = keys.lastResort.id();

    this.sessions = new (class extends SessionStore {
      async saveSession(name: ProtocolAddress, record: SessionRecord) {
        sessions.set(name.toString(), record);
      }
      async getSession(name: ProtocolAddress) {
        return sessions.get(name.toString()) ?? null;
      }
      async getExistingSessions(addresses: ProtocolAddress[]) {
        return addresses.map((a) => sessions.get(a.toString())!).filter(Boolean);
      }
    })();
    this.identities = new (class extends IdentityKeyStore {
      async getIdentityKey(): Promise<PrivateKey> {
        return identity.privateKey;
      }
      async getLocalRegistrationId() {
        return registrationId;
      }
      async saveIdentity(name: ProtocolAddress, key: PublicKey) {
        const prior = known.get(name.name());
        known.set(name.name(), key);
        return prior && !prior.equals(key) ? IdentityChange.ReplacedExisting : IdentityChange.NewOrUnchanged;
      }
      async isTrustedIdentity(_name: ProtocolAddress, _key: PublicKey, _direction: Direction) {
        return true;
      }
      async getIdentity(name: ProtocolAddress) {
        return known.get(name.name()) ?? null;
      }
    })();
    this.preKeys = new (class extends PreKeyStore {
      async savePreKey(id: number, record: PreKeyRecord) {
        pre.set(id, record);
      }
      async getPreKey(id: number) {
        const k = pre.get(id);
        if (!k) throw new Error(`no prekey ${id}`);
        return k;
      }
      async removePreKey(id: number) {
        pre.delete(id);
      }
    })();
    this.signedPreKeys = new (class extends SignedPreKeyStore {
      async saveSignedPreKey(id: number, record: SignedPreKeyRecord) {
        signed.set(id, record);
      }
      async getSignedPreKey(id: number) {
        const k = signed.get(id);
        if (!k) throw new Error(`no signed prekey ${id}`);
        return k;
      }
    })();
    this.kyberPreKeys = new (class extends KyberPreKeyStore {
      async saveKyberPreKey(id: number, record: KyberPreKeyRecord) {
        kyber.set(id, record);
      }
      async getKyberPreKey(id: number) {
        const k = kyber.get(id);
        if (!k) throw new Error(`no kyber prekey ${id}`);
        return k;
      }
      async markKyberPreKeyUsed(id: number) {
        if (id !== lastResortId) kyber.delete(id);
      }
    })();
    this.senderKeys = new (class extends SenderKeyStore {
      async saveSenderKey(sender: ProtocolAddress, distributionId: Uuid, record: SenderKeyRecord) {
        senderKeys.set(`${sender.toString()}/${distributionId}`, record);
      }
      async getSenderKey(sender: ProtocolAddress, distributionId: Uuid) {
        return senderKeys.get(`${sender.toString()}/${distributionId}`) ?? null;
      }
    })();
  }
}
