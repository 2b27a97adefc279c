import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { openTestDb } from '../test-support/db.js';
import { removeTempDirs, tempDir } from '../test-support/test-server.js';
import { WalSync } from './wal-sync.js';

class CountingSync extends WalSync {
  started = 0;
  gates: Array<() => void> = [];
  protected override fdatasync(): Promise<void> {
    this.started++;
    return new Promise((resolve) => this.gates.push(resolve));
  }
}

describe('WalSync', () => {
  it('runs at most one sync and queues one more for everyone who came during it', async () => {
    const s = new CountingSync('/nonexistent/kluis.db');
    let done = 0;
    const a = s.sync().then(() => done++);
    const b = s.sync().then(() => done++);
    const c = s.sync().then(() => done++);
    expect(s.started).toBe(1);
    s.gates[0]!();
    await a;
    await new Promise((r) => setImmediate(r));
    // b and c share the second sync, which started only after the first finished.
    expect(s.started).toBe(2);
    expect(done).toBe(1);
    s.gates[1]!();
    await Promise.all([b, c]);
    expect(done).toBe(3);
    expect(s.started).toBe(2);
  });

  it('fdatasyncs the real WAL of a database, and tolerates a missing one', async () => {
    const t = await openTestDb();
    try {
      await new WalSync(t.file).sync();
      await new WalSync(join(await tempDir(), 'none.db')).sync();
      await t.adapter.syncCommitted();
    } finally {
      await t.close();
      await removeTempDirs();
    }
  });
});
