import { afterEach, beforeEach, expect, it } from 'vitest';
import { openTestDb, seedAccount, seedDevice, type TestDb } from '../test-support/db.js';
import { describeStores } from '../test-support/dialects.js';
import { DeviceStore, type Device } from './devices.js';
import { PreKeyStore } from './prekeys.js';

let t: TestDb;
let devices: DeviceStore;
const A = '11111111-1111-4111-8111-111111111111';

const key = (n: number) => ({ keyId: n, publicKey: Buffer.alloc(33, n), signature: Buffer.alloc(64, n) });

describeStores('DeviceStore', (dialect) => {
  beforeEach(async () => {
    t = await openTestDb(dialect);
    devices = new DeviceStore(t.db);
    await seedAccount(t.db, A);
  });
  afterEach(() => t.close());

  it('round-trips a device', async () => {
    const d: Device = {
      accountId: A,
      deviceId: 2,
      registrationId: 77,
      passwordHash: '$argon2id$x',
      name: Buffer.from('sealed name'),
      signedPreKey: key(3),
      kyberLastResort: key(4),
      createdAt: Date.UTC(2026, 0, 10, 13, 14, 15, 678),
      lastSeenDay: null,
    };
    await devices.insert(t.db, d);
    // Kept to the day: a millisecond would tie a linked device to its link code and requests.
    expect(await devices.get(t.db, A, 2)).toEqual({ ...d, createdAt: Date.UTC(2026, 0, 10) });
    await devices.replace(t.db, { ...d, createdAt: Date.UTC(2026, 0, 11, 1) });
    expect((await devices.get(t.db, A, 2))?.createdAt).toBe(Date.UTC(2026, 0, 11));
    expect(await devices.passwordHash(t.db, A, 2)).toBe('$argon2id$x');
    expect(await devices.passwordHash(t.db, A, 3)).toBeUndefined();
    expect(await devices.deviceIds(t.db, A)).toEqual([1, 2]);
  });

  it('lists registrations for many accounts at once', async () => {
    const ids = Array.from({ length: 70 }, (_, i) => `00000000-0000-4000-8000-${String(i).padStart(12, '0')}`);
    for (const id of ids) await seedAccount(t.db, id, `u${id.slice(-6)}`);
    await seedDevice(t.db, ids[5]!, 3, 999);
    const regs = await devices.registrations(t.db, [...ids, A]);
    expect(regs).toHaveLength(72);
    expect(regs).toContainEqual({ accountId: ids[5], deviceId: 3, registrationId: 999 });
  });

  it('updates last-seen only when the day moves forward', async () => {
    await devices.touch(t.db, A, 1, 86_400_000);
    await devices.touch(t.db, A, 1, 0);
    expect((await devices.get(t.db, A, 1))!.lastSeenDay).toBe(86_400_000);
  });

  it('removes linked devices and their keys (cascade)', async () => {
    await seedDevice(t.db, A, 2);
    await seedDevice(t.db, A, 3);
    const prekeys = new PreKeyStore();
    await prekeys.addEc(t.db, A, 2, [{ keyId: 1, publicKey: Buffer.alloc(33) }]);
    expect(await devices.removeLinked(t.db, A)).toEqual(expect.arrayContaining([2, 3]));
    expect(await devices.deviceIds(t.db, A)).toEqual([1]);
    expect((await prekeys.counts(t.db, A, 2)).preKeys).toBe(0);
    expect(await devices.remove(t.db, A, 1)).toBe(true);
    expect(await devices.remove(t.db, A, 1)).toBe(false);
  });
});
