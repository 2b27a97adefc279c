/**
 * `npm run bench -- --member-sessions N`: the SDK's look-up, on every group send, of which
 * devices of each of N members it holds a usable session with (and their registration
 * ids). Measured on the SDK's own SQLCipher store with N real PQXDH session records:
 * reading and parsing every record (what each send did before the cache, and what the
 * first send after a start still does) against the cached answer.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { processPreKeyBundle, ProtocolAddress, signalEncrypt } from '@signalapp/libsignal-client';
import { bundleFor } from '../../packages/sdk/src/sender.js';
import { openDatabase } from '../../packages/sdk/src/store/db.js';
import { ProtocolStore, type Bytes } from '../../packages/sdk/src/store/protocol-store.js';
import { b64, generateDeviceKeys, newIdentity } from '../../packages/server/src/test-support/keys.js';
import { MemorySignalStores } from '../../packages/server/src/test-support/signal-stores.js';

const ROUNDS = 5;

export async function benchMemberSessions(members: number, log: (s: string) => void): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), 'kluis-bench-sessions-'));
  const db = openDatabase(join(dir, 'store.db'), 'bench');
  try {
    const sender = newIdentity();
    const stores = new MemorySignalStores(sender, 1, generateDeviceKeys(sender));
    const local = ProtocolAddress.new('sender', 1);
    // Each session has sent one message: the record the SDK keeps until the member replies.
    const records: Array<[string, Bytes]> = [];
    for (let i = 0; i < members; i++) {
      const id = newIdentity();
      const keys = generateDeviceKeys(id, { preKeys: 1, kyberPreKeys: 1 });
      const addr = ProtocolAddress.new(`member-${i}`, 1);
      const bundle = bundleFor(b64(id.publicKey.serialize()), {
        deviceId: 1,
        registrationId: 1 + i,
        preKey: keys.upload.preKeys[0]!,
        signedPreKey: keys.upload.signedPreKey,
        kyberPreKey: keys.upload.kyberPreKeys[0]!,
      });
      await processPreKeyBundle(bundle, addr, local, stores.sessions, stores.identities, new Date());
      await signalEncrypt(new Uint8Array(64), addr, local, stores.sessions, stores.identities);
      records.push([addr.toString(), (await stores.sessions.getSession(addr))!.serialize() as Bytes]);
      if ((i + 1) % 250 === 0) log(`  ${i + 1}/${members} sessions built`);
    }
    const time = (store: ProtocolStore) => {
      const t = performance.now();
      let devices = 0;
      for (let i = 0; i < members; i++) devices += store.usableSessions(`member-${i}`).size;
      if (devices !== members) throw new Error(`found ${devices} usable sessions, expected ${members}`);
      return performance.now() - t;
    };
    const cold: number[] = [];
    const cached: number[] = [];
    for (let r = 0; r < ROUNDS; r++) {
      // A new store object over the same file has an empty cache: every record read and parsed.
      const store = new ProtocolStore(db, Date.now);
      if (r === 0) for (const [address, record] of records) store.saveSession(address, record);
      cold.push(time(store));
      cached.push(time(store));
    }
    const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
    const size = records[0]![1].length;
    console.log(`\nmember sessions: ${members} members, one device each, ${size} B per session record, median of ${ROUNDS}`);
    console.log(`  read and parse every record (each send before)  ${median(cold).toFixed(1).padStart(8)} ms per send`);
    console.log(`  cached (each send now)                          ${median(cached).toFixed(2).padStart(8)} ms per send`);
    console.log(`  ratio                                           ${(median(cold) / median(cached)).toFixed(0).padStart(8)}×`);
    console.log('  a group send asks twice (sessions to build, devices to send to), a sealed one a third time');
  } finally {
    db.close();
    await rm(dir, { recursive: true, force: true });
  }
}
