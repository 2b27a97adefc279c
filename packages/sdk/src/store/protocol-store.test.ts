import { afterAll, beforeEach, describe, expect, it } from 'vitest';
import { join } from 'node:path';
import { openDatabase, type Db } from './db.js';
import { ProtocolStore } from './protocol-store.js';
import { DataStore } from './data-store.js';
import { tempDir } from './test-util.js';

const t = tempDir();
afterAll(() => t.cleanup());
let n = 0;
let db: Db;
let store: ProtocolStore;
let data: DataStore;
const bytes = (...b: number[]) => new Uint8Array(b);

beforeEach(() => {
  db = openDatabase(join(t.dir, `s${n++}.db`), 'pw');
  store = new ProtocolStore(db, () => 1000);
  data = new DataStore(db, () => 1000);
});

describe('ProtocolStore zones', () => {
  it('writes outside a zone go straight to the database', () => {
    store.saveSession('acc.1', bytes(1));
    expect(store.getSession('acc.1')).toEqual(bytes(1));
  });

  it('reads inside a zone see buffered writes; outside they do not until commit', () => {
    store.saveSession('acc.1', bytes(1));
    const z = store.zone();
    store.saveSession('acc.1', bytes(2), z);
    store.saveSession('acc.2', bytes(3), z);
    store.removePreKey(5, z);
    expect(store.getSession('acc.1', z)).toEqual(bytes(2));
    expect(store.getSession('acc.1')).toEqual(bytes(1));
    expect(store.getSession('acc.2')).toBeUndefined();
    expect(store.sessionsForAccount('acc', z).map((s) => s.deviceId)).toEqual([1, 2]);
    expect(store.sessionsForAccount('acc').map((s) => s.deviceId)).toEqual([1]);
    store.commit(z);
    expect(store.getSession('acc.1')).toEqual(bytes(2));
    expect(store.getSession('acc.2')).toEqual(bytes(3));
    expect(z.state).toBe('committed');
    expect(() => store.saveSession('acc.1', bytes(9), z)).toThrow(/committed/);
  });

  it('discard leaves the database untouched', () => {
    store.savePreKey(1, bytes(7));
    store.saveSession('acc.1', bytes(1));
    const z = store.zone();
    store.removePreKey(1, z);
    store.deleteSession('acc.1', z);
    expect(store.getPreKey(1, z)).toBeUndefined();
    expect(store.getSession('acc.1', z)).toBeUndefined();
    expect(store.sessionsForAccount('acc', z)).toEqual([]);
    store.discard(z);
    expect(store.getPreKey(1)).toEqual(bytes(7));
    expect(store.getSession('acc.1')).toEqual(bytes(1));
  });

  it('commit applies extra writes in the same transaction; a failing extra rolls everything back', () => {
    const z = store.zone();
    store.saveSession('acc.1', bytes(1), z);
    store.commit(z, () => data.markProcessed('g1'));
    expect(data.isProcessed('g1')).toBe(true);

    const z2 = store.zone();
    store.saveSession('acc.1', bytes(2), z2);
    expect(() =>
      store.commit(z2, () => {
        data.markProcessed('g2');
        throw new Error('boom');
      }),
    ).toThrow('boom');
    expect(store.getSession('acc.1')).toEqual(bytes(1));
    expect(data.isProcessed('g2')).toBe(false);
  });

  it('identities round-trip, including pending keys', () => {
    const z = store.zone();
    store.putIdentity(
      { accountId: 'a', publicKey: bytes(1), status: 'changed-pending', pendingKey: bytes(2), verified: false, firstSeen: 1, updatedAt: 2 },
      z,
    );
    expect(store.getIdentity('a')).toBeUndefined();
    expect(store.getIdentity('a', z)?.pendingKey).toEqual(bytes(2));
    store.commit(z);
    expect(store.getIdentity('a')).toMatchObject({ status: 'changed-pending', publicKey: bytes(1), pendingKey: bytes(2) });
  });

  it('markKyberPreKeyUsed deletes one-time keys and keeps last-resort keys', () => {
    store.saveKyberPreKey({ id: 1, record: bytes(1), lastResort: false, createdAt: 1, replacedAt: null });
    store.saveKyberPreKey({ id: 2, record: bytes(2), lastResort: true, createdAt: 1, replacedAt: null });
    const z = store.zone();
    store.markKyberPreKeyUsed(1, z);
    store.markKyberPreKeyUsed(2, z);
    expect(store.getKyberPreKey(1, z)).toBeUndefined();
    expect(store.getKyberPreKey(2, z)?.lastResort).toBe(true);
    expect(store.getKyberPreKey(1)).toBeDefined();
    store.commit(z);
    expect(store.getKyberPreKey(1)).toBeUndefined();
    expect(store.getKyberPreKey(2)).toBeDefined();
    expect(store.countKyberPreKeys()).toBe(0);
  });

  it('sender keys and signed prekeys are zoned too', () => {
    const z = store.zone();
    store.saveSenderKey('a.1', 'd1', bytes(4), z);
    store.saveSignedPreKey({ id: 3, record: bytes(5), createdAt: 10, replacedAt: null }, z);
    expect(store.getSenderKey('a.1', 'd1')).toBeUndefined();
    expect(store.getSenderKey('a.1', 'd1', z)).toEqual(bytes(4));
    store.commit(z);
    expect(store.getSenderKey('a.1', 'd1')).toEqual(bytes(4));
    expect(store.listSignedPreKeys().map((k) => k.id)).toEqual([3]);
  });
});

describe('DataStore', () => {
  const msg = (id: string, conversation: string, ts: number) => ({
    id,
    conversation,
    peerAccountId: 'p',
    direction: 'incoming' as const,
    senderAccountId: 'p',
    senderUsername: conversation,
    senderDevice: 1,
    timestamp: ts,
    serverTimestamp: ts,
    body: `m${ts}`,
    sync: false,
    status: null,
  });

  it('dedupes messages by id and by dedupe key; lists the last N in order', () => {
    expect(data.insertMessage(msg('g1', 'bob', 1), 'k1')).toBe(true);
    expect(data.insertMessage(msg('g1', 'bob', 1), 'k9')).toBe(false);
    expect(data.insertMessage(msg('g2', 'bob', 1), 'k1')).toBe(false);
    data.insertMessage(msg('g3', 'carol', 2), 'k3');
    data.insertMessage(msg('g4', 'bob', 3), 'k4');
    expect(data.isProcessed('g1')).toBe(true);
    expect(data.listMessages().map((m) => m.id)).toEqual(['g1', 'g3', 'g4']);
    expect(data.listMessages({ conversation: 'bob' }).map((m) => m.id)).toEqual(['g1', 'g4']);
    expect(data.listMessages({ limit: 1 }).map((m) => m.id)).toEqual(['g4']);
  });

  it('kv, contacts, sent content and pruning', () => {
    data.set('x', { a: 1 });
    expect(data.get('x')).toEqual({ a: 1 });
    data.putContact('acc', 'bob');
    expect(data.accountIdOf('bob')).toBe('acc');
    expect(data.usernameOf('acc')).toBe('bob');
    data.putSentContent(5, 'acc', bytes(1, 2));
    expect(data.getSentContent(5, 'acc')?.content).toEqual(bytes(1, 2));
    data.bumpResends(5, 'acc');
    expect(data.getSentContent(5, 'acc')?.resends).toBe(1);
    data.prune(1000 + 25 * 3600_000);
    expect(data.getSentContent(5, 'acc')).toBeUndefined();
  });
});
