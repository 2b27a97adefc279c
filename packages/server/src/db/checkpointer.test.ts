import { randomUUID } from 'node:crypto';
import { stat } from 'node:fs/promises';
import { describe, expect, it } from 'vitest';
import { EnvelopeStore } from '../store/envelopes.js';
import { openTestDb } from '../test-support/db.js';

describe('background checkpoints', () => {
  it('copy the WAL into the database file off the event loop', async () => {
    const t = await openTestDb();
    try {
      const before = (await stat(t.file)).size;
      const store = new EnvelopeStore(t.db);
      const rows = Array.from({ length: 2000 }, () => ({
        guid: randomUUID(),
        accountId: 'a',
        deviceId: 1,
        type: 2,
        sourceAccount: null,
        sourceDevice: null,
        timestamp: 1,
        serverTimestamp: 1,
        content: Buffer.alloc(1024, 7),
        expiresAt: 1,
      }));
      await t.db.transaction().execute((trx) => store.insertMany(trx, rows));
      // Automatic checkpoints are off on the main connection: only the worker moves pages.
      for (let i = 0; i < 50 && (await stat(t.file)).size < before + 2_000_000; i++) await new Promise((r) => setTimeout(r, 100));
      expect((await stat(t.file)).size).toBeGreaterThan(before + 2_000_000);
    } finally {
      await t.close();
    }
  });
});
