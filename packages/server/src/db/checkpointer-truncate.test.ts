import { randomBytes } from 'node:crypto';
import { statSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { Kysely, sql } from 'kysely';
import { describe, expect, it } from 'vitest';
import { tempDir } from '../test-support/test-server.js';
import { Checkpointer } from './checkpointer.js';
import { GatedSqliteDialect, WriteGate } from './write-gate.js';

const walSize = (file: string) => {
  try {
    return statSync(`${file}-wal`).size;
  } catch {
    return 0;
  }
};

describe('the WAL truncate handshake', () => {
  it('empties the WAL under continuous writes, on the worker, while the writing connection waits as a promise', () =>
    writeAndWatch({ truncateMaxDelayMs: 300 }), 20_000);

  it('empties a WAL that grew past its limit long before the delay is up', () => writeAndWatch({ truncateMaxDelayMs: 60_000, walLimitFrames: 300 }), 20_000);
});

async function writeAndWatch(limits: { truncateMaxDelayMs: number; walLimitFrames?: number }): Promise<void> {
  {
    const dir = await tempDir('kluis-checkpoint-test-');
    const file = join(dir, 'test.db');
    const raw = new Database(file);
    raw.pragma('journal_mode = WAL');
    raw.pragma('synchronous = NORMAL');
    raw.pragma('wal_autocheckpoint = 0');
    raw.exec('CREATE TABLE t (id INTEGER PRIMARY KEY, b BLOB)');
    const gate = new WriteGate();
    const pauses: number[] = [];
    const failures: unknown[] = [];
    const checkpointer = new Checkpointer(file, 50, (err) => failures.push(err), {
      ...limits,
      writes: {
        pause: async () => {
          const resume = await gate.pause();
          const t = performance.now();
          return resume && (() => (pauses.push(performance.now() - t), resume()));
        },
      },
    });
    const db = new Kysely<{ t: { id: number; b: Buffer } }>({ dialect: new GatedSqliteDialect({ database: raw }, gate) });
    try {
      // Bounded: 2.5 s of back-to-back transactions (an insert and a delete each), while a
      // timer measures how long the event loop is ever held up.
      const end = Date.now() + 2_500;
      let n = 0;
      let emptied = 0;
      let was = walSize(file);
      let lag = 0;
      let last = performance.now();
      const ticker = setInterval(() => {
        const now = performance.now();
        lag = Math.max(lag, now - last - 5);
        last = now;
      }, 5);
      while (Date.now() < end) {
        await db.transaction().execute(async (trx) => {
          await trx.insertInto('t').values({ id: ++n, b: randomBytes(1024) }).execute();
          await trx.deleteFrom('t').where('id', '=', n - 1).execute();
        });
        const size = walSize(file);
        if (size < was) emptied++;
        was = size;
        await new Promise((r) => setImmediate(r));
      }
      clearInterval(ticker);
      expect(failures).toEqual([]);
      expect(n).toBeGreaterThan(200);
      // Emptied several times while the writes went on (about every 300 ms), each time in a pause.
      expect(emptied).toBeGreaterThanOrEqual(3);
      expect(pauses.length).toBeGreaterThanOrEqual(3);
      expect(gate.isPaused).toBe(false);
      await sql`select 1`.execute(db);
      console.log(
        `${n} transactions, ${pauses.length} truncates on the worker, writes paused ${Math.max(...pauses).toFixed(1)} ms at most, ` +
          `event loop held up ${lag.toFixed(1)} ms at most`,
      );
    } finally {
      await checkpointer.stop();
      await db.destroy();
      await rm(dir, { recursive: true, force: true });
    }
  }
}
