import type { IdentityKeyPair } from '@signalapp/libsignal-client';
import { MAX_PREKEYS_PER_UPLOAD, type KeyUploadRequest, type PreKey, type KyberPreKey } from '@kluis/protocol';
import {
  generateKyberPreKey,
  generatePreKey,
  generateSignedPreKey,
  MAX_KEY_ID,
  nextKeyId,
  randomKeyId,
  type GeneratedKyberPreKey,
  type GeneratedSignedPreKey,
} from './keys.js';
import type { DataStore } from './store/data-store.js';
import type { ProtocolStore } from './store/protocol-store.js';

const HALF_KEY_SPACE = Math.floor(MAX_KEY_ID / 2);

export const ROTATE_AFTER_MS = 2 * 24 * 3600_000;
/** Replaced signed / last-resort keys stay this long, so envelopes queued for us still decrypt. */
export const KEEP_REPLACED_MS = 30 * 24 * 3600_000;

/**
 * One-time keys the server holds for us after every top-up: the count it stores then stays
 * at this, whatever number of first contacts used keys (it drops only while we are offline).
 * At most one upload's worth, so it stays under the server's per-device cap.
 */
export const PREKEY_TARGET = MAX_PREKEYS_PER_UPLOAD;

type Counter = 'nextPreKeyId' | 'nextSignedPreKeyId' | 'nextKyberPreKeyId' | 'nextKyberLastResortId';

/** A counter's next id, starting it at a random id the first time. */
function startedCounter(data: DataStore, name: Counter): number {
  const id = data.get<number>(name) ?? randomKeyId();
  data.set(name, id);
  return id;
}

/** Allocates `count` consecutive key ids from a persistent counter. */
function allocate(data: DataStore, counter: Counter, count: number, first: () => number = randomKeyId): number[] {
  let id = data.get<number>(counter) ?? first();
  const ids: number[] = [];
  for (let i = 0; i < count; i++) {
    ids.push(id);
    id = nextKeyId(id);
  }
  data.set(counter, id);
  return ids;
}

export interface FullKeySet {
  signedPreKey: GeneratedSignedPreKey;
  kyberLastResort: GeneratedKyberPreKey;
  upload: {
    signedPreKey: KeyUploadRequest['signedPreKey'] & {};
    kyberLastResort: KeyUploadRequest['kyberLastResort'] & {};
    preKeys: PreKey[];
    kyberPreKeys: KyberPreKey[];
  };
}

/**
 * Generates keys and stores their private halves (before the server ever sees the public ones).
 */
export class KeyManager {
  constructor(
    private readonly store: ProtocolStore,
    private readonly data: DataStore,
    private readonly now: () => number,
  ) {}

  /** A complete set for registration / linking: signed, last-resort, 100 EC + 100 Kyber one-time keys. */
  generateFullSet(identity: IdentityKeyPair, count = MAX_PREKEYS_PER_UPLOAD): FullKeySet {
    return this.store.transaction(() => {
      const signedPreKey = this.newSignedPreKey(identity);
      const kyberLastResort = this.newKyberLastResort(identity);
      const preKeys = this.newPreKeys(count);
      const kyberPreKeys = this.newKyberPreKeys(identity, count);
      return {
        signedPreKey,
        kyberLastResort,
        upload: { signedPreKey: signedPreKey.upload, kyberLastResort: kyberLastResort.upload, preKeys, kyberPreKeys },
      };
    });
  }

  newPreKeys(count: number): PreKey[] {
    return this.store.transaction(() =>
      allocate(this.data, 'nextPreKeyId', count).map((id) => {
        const k = generatePreKey(id);
        this.store.savePreKey(id, k.record.serialize());
        return k.upload;
      }),
    );
  }

  newKyberPreKeys(identity: IdentityKeyPair, count: number): KyberPreKey[] {
    const now = this.now();
    return this.store.transaction(() =>
      allocate(this.data, 'nextKyberPreKeyId', count).map((id) => {
        const k = generateKyberPreKey(identity, id, now);
        this.store.saveKyberPreKey({ id, record: k.record.serialize(), lastResort: false, createdAt: now, replacedAt: null });
        return k.upload;
      }),
    );
  }

  newSignedPreKey(identity: IdentityKeyPair): GeneratedSignedPreKey {
    const now = this.now();
    const [id] = allocate(this.data, 'nextSignedPreKeyId', 1);
    const k = generateSignedPreKey(identity, id!, now);
    this.store.saveSignedPreKey({ id: id!, record: k.record.serialize(), createdAt: now, replacedAt: null });
    return k;
  }

  newKyberLastResort(identity: IdentityKeyPair): GeneratedKyberPreKey {
    const now = this.now();
    // Its own counter, half the id space from the one-time keys': taking ids from theirs left
    // a gap in the server's one-time ids at each rotation, and the gap's place counted the keys used since.
    const oneTime = startedCounter(this.data, 'nextKyberPreKeyId');
    let [id] = allocate(this.data, 'nextKyberLastResortId', 1, () => ((oneTime - 1 + HALF_KEY_SPACE) % MAX_KEY_ID) + 1);
    while (this.store.getKyberPreKey(id!)) [id] = allocate(this.data, 'nextKyberLastResortId', 1);
    const k = generateKyberPreKey(identity, id!, now);
    this.store.saveKyberPreKey({ id: id!, record: k.record.serialize(), lastResort: true, createdAt: now, replacedAt: null });
    return k;
  }

  /**
   * What to upload now: one-time keys when the server holds fewer than the threshold, and a
   * new signed / last-resort key when the current one is older than two days. Returns
   * undefined when nothing is due, else the request and a function to call once the server
   * accepted it (marks the previous keys replaced).
   */
  planMaintenance(
    identity: IdentityKeyPair,
    counts: { preKeys: number; kyberPreKeys: number },
  ): { request: KeyUploadRequest; accepted(): void } | undefined {
    const now = this.now();
    const request: KeyUploadRequest = {};
    // Back to the target, not only below a threshold: a stored count under it would tell how many first contacts we had.
    if (counts.preKeys < PREKEY_TARGET) request.preKeys = this.newPreKeys(PREKEY_TARGET - counts.preKeys);
    if (counts.kyberPreKeys < PREKEY_TARGET) request.kyberPreKeys = this.newKyberPreKeys(identity, PREKEY_TARGET - counts.kyberPreKeys);
    const currentSigned = this.store.listSignedPreKeys().filter((k) => k.replacedAt === null);
    const currentLastResort = this.store.listKyberPreKeys(true).filter((k) => k.replacedAt === null);
    const newestSigned = Math.max(-Infinity, ...currentSigned.map((k) => k.createdAt));
    const newestLastResort = Math.max(-Infinity, ...currentLastResort.map((k) => k.createdAt));
    let newSignedId: number | undefined;
    let newLastResortId: number | undefined;
    if (now - newestSigned >= ROTATE_AFTER_MS) {
      const k = this.newSignedPreKey(identity);
      request.signedPreKey = k.upload;
      newSignedId = k.upload.keyId;
    }
    if (now - newestLastResort >= ROTATE_AFTER_MS) {
      const k = this.newKyberLastResort(identity);
      request.kyberLastResort = k.upload;
      newLastResortId = k.upload.keyId;
    }
    if (Object.keys(request).length === 0) return undefined;
    return {
      request,
      accepted: () => {
        this.store.transaction(() => {
          if (newSignedId !== undefined)
            for (const k of currentSigned) if (k.id !== newSignedId) this.store.saveSignedPreKey({ ...k, replacedAt: now });
          if (newLastResortId !== undefined)
            for (const k of currentLastResort) if (k.id !== newLastResortId) this.store.saveKyberPreKey({ ...k, replacedAt: now });
        });
      },
    };
  }

  /** Deletes signed and last-resort keys replaced more than KEEP_REPLACED_MS ago. */
  pruneReplaced(): void {
    const cutoff = this.now() - KEEP_REPLACED_MS;
    this.store.transaction(() => {
      for (const k of this.store.listSignedPreKeys()) if (k.replacedAt !== null && k.replacedAt < cutoff) this.store.removeSignedPreKey(k.id);
      for (const k of this.store.listKyberPreKeys(true))
        if (k.replacedAt !== null && k.replacedAt < cutoff) this.store.removeKyberPreKey(k.id);
    });
  }
}
