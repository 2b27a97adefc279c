import { afterAll, describe, expect, it } from 'vitest';
import { join } from 'node:path';
import { IdentityKeyPair } from '@signalapp/libsignal-client';
import { KeyManager, PREKEY_TARGET, ROTATE_AFTER_MS } from './prekeys.js';
import { openDatabase } from './store/db.js';
import { DataStore } from './store/data-store.js';
import { ProtocolStore } from './store/protocol-store.js';
import { tempDir } from './store/test-util.js';

const t = tempDir();
afterAll(() => t.cleanup());

describe('KeyManager one-time prekeys', () => {
  it('tops up to the target, and rotations leave no gap in the one-time Kyber ids', () => {
    let now = 1_000_000;
    const db = openDatabase(join(t.dir, 'keys.db'), 'pw');
    const keys = new KeyManager(new ProtocolStore(db, () => now), new DataStore(db, () => now), () => now);
    const identity = IdentityKeyPair.generate();
    const full = keys.generateFullSet(identity);
    const kyberIds = full.upload.kyberPreKeys.map((k) => k.keyId);
    const lastResortIds = [full.kyberLastResort.upload.keyId];
    let stored = { preKeys: PREKEY_TARGET, kyberPreKeys: PREKEY_TARGET };
    // Each round: some first contacts took keys, then a maintenance run (a rotation every other round).
    for (const used of [3, 1, 7, 2]) {
      now += ROTATE_AFTER_MS / 2 + 1;
      stored = { preKeys: stored.preKeys - used, kyberPreKeys: stored.kyberPreKeys - used };
      const plan = keys.planMaintenance(identity, stored)!;
      expect(plan.request.preKeys).toHaveLength(used);
      expect(plan.request.kyberPreKeys).toHaveLength(used);
      kyberIds.push(...plan.request.kyberPreKeys!.map((k) => k.keyId));
      if (plan.request.kyberLastResort) lastResortIds.push(plan.request.kyberLastResort.keyId);
      plan.accepted();
      stored = { preKeys: PREKEY_TARGET, kyberPreKeys: PREKEY_TARGET };
    }
    expect(lastResortIds.length).toBeGreaterThan(1);
    // Consecutive: the ids a server holds say nothing about when rotations happened between uses.
    for (let i = 1; i < kyberIds.length; i++) expect(kyberIds[i]).toBe(kyberIds[i - 1]! + 1);
    for (const id of lastResortIds) expect(kyberIds).not.toContain(id);
    // At the target: nothing to upload (signed keys are fresh).
    expect(keys.planMaintenance(identity, stored)).toBeUndefined();
    db.close();
  });
});
