import { afterAll, describe, expect, it } from 'vitest';
import { join } from 'node:path';
import { randomUUID } from 'node:crypto';
import {
  Aci,
  CiphertextMessageType,
  ErrorCode,
  Fingerprint,
  IdentityKeyPair,
  KEMPublicKey,
  LibSignalErrorBase,
  PreKeyBundle,
  PreKeySignalMessage,
  ProtocolAddress,
  PublicKey,
  SignalMessage,
  processPreKeyBundle,
  signalDecrypt,
  signalDecryptPreKey,
  signalEncrypt,
  type CiphertextMessage,
} from '@signalapp/libsignal-client';
import { openDatabase } from './db.js';
import { ProtocolStore, type Zone } from './protocol-store.js';
import { DataStore } from './data-store.js';
import { Adapters } from './adapters.js';
import { KeyManager } from '../prekeys.js';
import { generateRegistrationId, unb64 } from '../keys.js';
import { tempDir } from './test-util.js';

const t = tempDir();
afterAll(() => t.cleanup());

class Device {
  readonly accountId = randomUUID();
  readonly deviceId = 1;
  readonly identity: IdentityKeyPair;
  readonly registrationId = generateRegistrationId();
  readonly store: ProtocolStore;
  readonly keys: KeyManager;
  readonly address: ProtocolAddress;
  constructor(name: string, identity = IdentityKeyPair.generate()) {
    this.identity = identity;
    const db = openDatabase(join(t.dir, `${name}-${randomUUID()}.db`), 'pw');
    this.store = new ProtocolStore(db, Date.now);
    this.keys = new KeyManager(this.store, new DataStore(db, Date.now), Date.now);
    this.address = ProtocolAddress.new(this.accountId, this.deviceId);
  }
  adapters(zone?: Zone) {
    return new Adapters(this.store, { identityKeyPair: this.identity, registrationId: this.registrationId }, zone, Date.now);
  }
  /** A bundle as the server would hand out: one-time EC + one-time Kyber key. */
  bundle(withOneTime = true): PreKeyBundle {
    const set = this.keys.generateFullSet(this.identity, 2);
    const u = set.upload;
    const pk = withOneTime ? u.preKeys[0]! : undefined;
    const kyber = withOneTime ? u.kyberPreKeys[0]! : u.kyberLastResort;
    return PreKeyBundle.new(
      this.registrationId,
      this.deviceId,
      pk ? pk.keyId : null,
      pk ? PublicKey.deserialize(unb64(pk.publicKey)) : null,
      u.signedPreKey.keyId,
      PublicKey.deserialize(unb64(u.signedPreKey.publicKey)),
      unb64(u.signedPreKey.signature),
      this.identity.publicKey,
      kyber.keyId,
      KEMPublicKey.deserialize(unb64(kyber.publicKey)),
      unb64(kyber.signature),
    );
  }
  async encrypt(to: Device, text: string, zone?: Zone): Promise<CiphertextMessage> {
    const a = this.adapters(zone);
    return signalEncrypt(new TextEncoder().encode(text), to.address, this.address, a.sessions, a.identity);
  }
  async decrypt(from: Device, msg: CiphertextMessage, zone?: Zone): Promise<string> {
    const a = this.adapters(zone);
    const bytes = msg.serialize();
    const pt =
      msg.type() === CiphertextMessageType.PreKey
        ? await signalDecryptPreKey(
            PreKeySignalMessage.deserialize(bytes),
            from.address,
            this.address,
            a.sessions,
            a.identity,
            a.preKeys,
            a.signedPreKeys,
            a.kyberPreKeys,
          )
        : await signalDecrypt(SignalMessage.deserialize(bytes), from.address, this.address, a.sessions, a.identity);
    return new TextDecoder().decode(pt);
  }
}

describe('libsignal adapters over the zoned store', () => {
  it('PQXDH session: prekey message, reply, ratchet; one-time keys consumed on commit only', async () => {
    const alice = new Device('alice');
    const bob = new Device('bob');
    const bundle = bob.bundle();
    const a = alice.adapters();
    await processPreKeyBundle(bundle, bob.address, alice.address, a.sessions, a.identity);

    const first = await alice.encrypt(bob, 'hello bob');
    expect(first.type()).toBe(CiphertextMessageType.PreKey);
    const preKeysBefore = bob.store.countPreKeys();
    const kyberBefore = bob.store.countKyberPreKeys();

    // A discarded zone: nothing consumed, the same message decrypts again later.
    const z1 = bob.store.zone();
    expect(await bob.decrypt(alice, first, z1)).toBe('hello bob');
    expect(bob.store.getSession(alice.address.toString())).toBeUndefined();
    bob.store.discard(z1);
    expect(bob.store.countPreKeys()).toBe(preKeysBefore);

    const z2 = bob.store.zone();
    expect(await bob.decrypt(alice, first, z2)).toBe('hello bob');
    bob.store.commit(z2);
    expect(bob.store.countPreKeys()).toBe(preKeysBefore - 1);
    expect(bob.store.countKyberPreKeys()).toBe(kyberBefore - 1);
    expect(bob.store.getSession(alice.address.toString())).toBeDefined();

    // Replaying the committed prekey message is a duplicate.
    await expect(bob.decrypt(alice, first)).rejects.toSatisfy(
      (e: unknown) => e instanceof LibSignalErrorBase && e.code === ErrorCode.DuplicatedMessage,
    );

    const reply = await bob.encrypt(alice, 'hi alice');
    expect(reply.type()).toBe(CiphertextMessageType.Whisper);
    expect(await alice.decrypt(bob, reply)).toBe('hi alice');
    for (let i = 0; i < 5; i++) {
      const m = await alice.encrypt(bob, `m${i}`);
      expect(m.type()).toBe(CiphertextMessageType.Whisper);
      expect(await bob.decrypt(alice, m)).toBe(`m${i}`);
    }
    // Trusted on first use on both sides.
    expect(alice.store.getIdentity(bob.accountId)?.status).toBe('trusted');
    expect(bob.store.getIdentity(alice.accountId)?.status).toBe('trusted');
  });

  it('last-resort Kyber key is kept after use', async () => {
    const alice = new Device('alice');
    const bob = new Device('bob');
    const bundle = bob.bundle(false);
    const a = alice.adapters();
    await processPreKeyBundle(bundle, bob.address, alice.address, a.sessions, a.identity);
    const lr = bob.store.listKyberPreKeys(true);
    expect(lr.length).toBe(1);
    expect(await bob.decrypt(alice, await alice.encrypt(bob, 'x'))).toBe('x');
    expect(bob.store.listKyberPreKeys(true).length).toBe(1);
  });

  it('a changed identity is refused for sending and marked pending when receiving', async () => {
    const alice = new Device('alice');
    const bob = new Device('bob');
    const a = alice.adapters();
    await processPreKeyBundle(bob.bundle(), bob.address, alice.address, a.sessions, a.identity);
    await bob.decrypt(alice, await alice.encrypt(bob, 'one'));

    // Bob reinstalls with a new identity key but keeps his account id.
    const bob2 = Object.assign(new Device('bob2'), { accountId: bob.accountId, address: bob.address });
    const a2 = alice.adapters();
    const err = await processPreKeyBundle(bob2.bundle(), bob.address, alice.address, a2.sessions, a2.identity).catch((e) => e);
    expect(err).toBeInstanceOf(LibSignalErrorBase);
    expect((err as LibSignalErrorBase).code).toBe(ErrorCode.UntrustedIdentity);
    expect(a2.identity.untrusted.map((u) => u.accountId)).toEqual([bob.accountId]);
    expect(alice.store.getIdentity(bob.accountId)?.status).toBe('trusted');

    // Bob (new key) writes first: Alice accepts the message, the contact becomes changed-pending.
    const b = bob2.adapters();
    await processPreKeyBundle(alice.bundle(), alice.address, bob.address, b.sessions, b.identity);
    const zone = alice.store.zone();
    const ad = alice.adapters(zone);
    const msg = await bob2.encrypt(alice, 'new phone');
    const pt = await signalDecryptPreKey(
      PreKeySignalMessage.deserialize(msg.serialize()),
      bob.address,
      alice.address,
      ad.sessions,
      ad.identity,
      ad.preKeys,
      ad.signedPreKeys,
      ad.kyberPreKeys,
    );
    expect(new TextDecoder().decode(pt)).toBe('new phone');
    expect(ad.identity.changed.map((c) => c.accountId)).toEqual([bob.accountId]);
    alice.store.commit(zone);
    const row = alice.store.getIdentity(bob.accountId)!;
    expect(row.status).toBe('changed-pending');
    expect(PublicKey.deserialize(row.pendingKey!).equals(bob2.identity.publicKey)).toBe(true);
    expect(PublicKey.deserialize(row.publicKey).equals(bob.identity.publicKey)).toBe(true);
    // Sending on the new session is refused until the key is trusted.
    await expect(alice.encrypt(bob2, 'blocked')).rejects.toSatisfy(
      (e: unknown) => e instanceof LibSignalErrorBase && e.code === ErrorCode.UntrustedIdentity,
    );
    alice.store.putIdentity({ ...row, publicKey: row.pendingKey!, pendingKey: null, status: 'trusted' });
    expect(await bob2.decrypt(alice, await alice.encrypt(bob2, 'ok now'))).toBe('ok now');
  });

  it('usable sessions are cached per account and follow every committed or rolled-back write', async () => {
    const alice = new Device('alice');
    const bob = new Device('bob');
    const bobAt = (d: number) => ProtocolAddress.new(bob.accountId, d);
    expect(alice.store.usableDevices(bob.accountId)).toEqual([]);
    // A session built in a zone is not there until the zone commits.
    const z = alice.store.zone();
    const za = alice.adapters(z);
    await processPreKeyBundle(bob.bundle(), bob.address, alice.address, za.sessions, za.identity);
    expect(alice.store.usableDevices(bob.accountId)).toEqual([]);
    alice.store.commit(z);
    expect([...alice.store.usableSessions(bob.accountId)]).toEqual([[1, bob.registrationId]]);
    // A second device, written outside a zone; a copy under device 3 then deleted.
    const record = alice.store.getSession(bob.address.toString())!;
    alice.store.saveSession(bobAt(2).toString(), record);
    alice.store.saveSession(bobAt(3).toString(), record);
    expect(alice.store.usableDevices(bob.accountId)).toEqual([1, 2, 3]);
    alice.store.deleteSession(bobAt(3).toString());
    expect(alice.store.usableDevices(bob.accountId)).toEqual([1, 2]);
    // A write inside a transaction that rolls back: the cached answer is still the database's.
    expect(() =>
      alice.store.transaction(() => {
        alice.store.deleteSession(bobAt(2).toString());
        throw new Error('rolled back');
      }),
    ).toThrow('rolled back');
    expect(alice.store.usableDevices(bob.accountId)).toEqual([1, 2]);
    // A broken record is not usable.
    alice.store.saveSession(bobAt(2).toString(), new Uint8Array([1, 2, 3]));
    expect(alice.store.usableDevices(bob.accountId)).toEqual([1]);
  });

  it('fingerprints are equal on both sides', () => {
    const alice = new Device('alice');
    const bob = new Device('bob');
    const fp = (me: Device, them: Device) =>
      Fingerprint.new(
        5200,
        2,
        Aci.fromUuid(me.accountId).getServiceIdBinary(),
        me.identity.publicKey,
        Aci.fromUuid(them.accountId).getServiceIdBinary(),
        them.identity.publicKey,
      )
        .displayableFingerprint()
        .toString();
    const a = fp(alice, bob);
    expect(a).toMatch(/^\d{60}$/);
    expect(fp(bob, alice)).toBe(a);
  });
});
