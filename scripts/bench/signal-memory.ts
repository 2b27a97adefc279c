/**
 * Bench devices with real libsignal keys kept in memory (the group fan-out phase): the
 * same registration as accounts.ts, but the private halves stay with the device so it can
 * accept a PreKey message and hold sender keys. Plus the minimal in-memory stores.
 */
import { randomBytes, randomInt } from 'node:crypto';
import {
  Direction,
  IdentityChange,
  IdentityKeyPair,
  IdentityKeyStore,
  KEMKeyPair,
  KEMPublicKey,
  KyberPreKeyRecord,
  KyberPreKeyStore,
  PreKeyBundle,
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
import {
  deviceAuthorization,
  MAX_REGISTRATION_ID,
  Routes,
  routeParts,
  type DeviceBundle,
  type RegisterRequest,
  type RegisterResponse,
} from '@kluis/protocol';

const b64 = (b: Uint8Array) => Buffer.from(b).toString('base64');
const unb64 = (s: string) => new Uint8Array(Buffer.from(s, 'base64'));

/** All libsignal stores of one device, in memory. */
export class MemoryStores {
  readonly sessions: SessionStore;
  readonly identity: IdentityKeyStore;
  readonly preKeys: PreKeyStore;
  readonly signedPreKeys: SignedPreKeyStore;
  readonly kyberPreKeys: KyberPreKeyStore;
  readonly senderKeys: SenderKeyStore;

  constructor(identity: IdentityKeyPair, registrationId: number, keys: { signed: SignedPreKeyRecord; lastResort: KyberPreKeyRecord; preKeys: PreKeyRecord[]; kyberPreKeys: KyberPreKeyRecord[] }) {
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
    this.identity = new (class extends IdentityKeyStore {
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

export interface MemoryDevice {
  accountId: string;
  deviceId: number;
  registrationId: number;
  authorization: string;
  address: ProtocolAddress;
  stores: MemoryStores;
}

/**
 * Registers one account through the real API (POST /v1/accounts) with real keys: a signed
 * prekey, a Kyber last-resort key, and one one-time EC and Kyber prekey (what a sender's
 * bundle fetch consumes), as an SDK client would publish them. Keeps the private halves.
 */
export async function registerMemoryDevice(url: string, inviteCode: string, username: string): Promise<MemoryDevice> {
  const identity = IdentityKeyPair.generate();
  const registrationId = randomInt(1, MAX_REGISTRATION_ID + 1);
  const sign = (b: Uint8Array<ArrayBuffer>) => identity.privateKey.sign(b);
  const spkPriv = PrivateKey.generate();
  const signed = SignedPreKeyRecord.new(1, Date.now(), spkPriv.getPublicKey(), spkPriv, sign(spkPriv.getPublicKey().serialize()));
  const lrPair = KEMKeyPair.generate();
  const lastResort = KyberPreKeyRecord.new(100_001, Date.now(), lrPair, sign(lrPair.getPublicKey().serialize()));
  const otPriv = PrivateKey.generate();
  const preKey = PreKeyRecord.new(1, otPriv.getPublicKey(), otPriv);
  const otKem = KEMKeyPair.generate();
  const kyberPreKey = KyberPreKeyRecord.new(1, Date.now(), otKem, sign(otKem.getPublicKey().serialize()));
  const password = randomBytes(24).toString('base64url');
  const body: RegisterRequest = {
    inviteCode,
    username,
    identityKey: b64(identity.publicKey.serialize()),
    registrationId,
    password,
    signedPreKey: { keyId: signed.id(), publicKey: b64(signed.publicKey().serialize()), signature: b64(signed.signature()) },
    kyberLastResort: { keyId: lastResort.id(), publicKey: b64(lastResort.publicKey().serialize()), signature: b64(lastResort.signature()) },
    preKeys: [{ keyId: preKey.id(), publicKey: b64(preKey.publicKey().serialize()) }],
    kyberPreKeys: [{ keyId: kyberPreKey.id(), publicKey: b64(kyberPreKey.publicKey().serialize()), signature: b64(kyberPreKey.signature()) }],
  };
  const { method, path } = routeParts(Routes.register);
  const res = await fetch(new URL(path, url), { method, headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
  if (!res.ok) throw new Error(`registering ${username}: ${res.status} ${await res.text()}`);
  const { accountId, deviceId } = (await res.json()) as RegisterResponse;
  return {
    accountId,
    deviceId,
    registrationId,
    authorization: deviceAuthorization(accountId, deviceId, password),
    address: ProtocolAddress.new(accountId, deviceId),
    stores: new MemoryStores(identity, registrationId, { signed, lastResort, preKeys: [preKey], kyberPreKeys: [kyberPreKey] }),
  };
}

/** POST /admin/invites with the operator token, 1,000 at a time. */
export async function mintInviteCodes(url: string, operatorToken: string, count: number): Promise<string[]> {
  const codes: string[] = [];
  const { method, path } = routeParts(Routes.createInvites);
  while (codes.length < count) {
    const res = await fetch(new URL(path, url), {
      method,
      headers: { authorization: `Bearer ${operatorToken}`, 'content-type': 'application/json' },
      body: JSON.stringify({ count: Math.min(1000, count - codes.length) }),
    });
    if (!res.ok) throw new Error(`minting invites: ${res.status} ${await res.text()}`);
    codes.push(...((await res.json()) as { codes: string[] }).codes);
  }
  return codes;
}

/** The libsignal bundle of one device from GET /v1/keys (as the SDK's bundleFor builds it). */
export function bundleOf(identityKey: string, d: DeviceBundle): PreKeyBundle {
  return PreKeyBundle.new(
    d.registrationId,
    d.deviceId,
    d.preKey ? d.preKey.keyId : null,
    d.preKey ? PublicKey.deserialize(unb64(d.preKey.publicKey)) : null,
    d.signedPreKey.keyId,
    PublicKey.deserialize(unb64(d.signedPreKey.publicKey)),
    unb64(d.signedPreKey.signature),
    PublicKey.deserialize(unb64(identityKey)),
    d.kyberPreKey.keyId,
    KEMPublicKey.deserialize(unb64(d.kyberPreKey.publicKey)),
    unb64(d.kyberPreKey.signature),
  );
}

export { b64, unb64 };
