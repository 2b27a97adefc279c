import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, describe, expect, it } from 'vitest';
import { Client } from '@kluis/sdk';
import { Harness, type TestServer } from '../harness/index.js';
import { until } from '../../packages/sdk/src/testing/helpers.js';

const h = new Harness();
afterAll(() => h.dispose());

async function user(server: TestServer, name: string): Promise<Client> {
  const c = await Client.open({ profileDir: await h.tempDir(name), passphrase: h.passphrase, bootstrap: false });
  h.onDispose(() => c.close());
  const [invite] = await server.mintInvites(1);
  await c.register({ serverUrl: server.url, inviteCode: invite!, username: `${name}${Date.now().toString(36)}` });
  return c;
}

/** Stored envelope ciphertexts per recipient account, read with a connection of our own (closed at once). */
function storedContents(dataDir: string): Map<string, Buffer[]> {
  const db = new Database(join(dataDir, 'kluis.db'), { readonly: true, fileMustExist: true });
  try {
    const out = new Map<string, Buffer[]>();
    for (const r of db.prepare('SELECT account_id, content FROM envelopes').all() as Array<{ account_id: string; content: Buffer }>) {
      out.set(r.account_id, [...(out.get(r.account_id) ?? []), r.content]);
    }
    return out;
  } finally {
    db.close();
  }
}

/** What a copy of the data directory holds: the database file and the WAL, raw bytes (free pages and old frames included). */
async function diskBytes(dataDir: string): Promise<Buffer> {
  const parts = await Promise.all(['kluis.db', 'kluis.db-wal'].map((f) => readFile(join(dataDir, f)).catch(() => Buffer.alloc(0))));
  return Buffer.concat(parts);
}

/** 48 bytes from the middle of a ciphertext: random-looking, so any match is that envelope. */
const slice = (content: Buffer) => content.subarray(Math.floor(content.length / 2) - 24, Math.floor(content.length / 2) + 24);

describe('acked envelopes leave no trace on disk', () => {
  it('are gone from the database file (secure_delete) and the WAL (TRUNCATE checkpoint) soon after the ack', async () => {
    const server = await h.startServer();
    const alice = await user(server, 'alice');
    const bob = await user(server, 'bob');
    const carol = await user(server, 'carol');
    await alice.connect();
    for (let i = 0; i < 6; i++) await alice.send(bob.account!.username, `for bob ${i}: ${'x'.repeat(i * 400)}`);
    for (let i = 0; i < 2; i++) await alice.send(carol.account!.username, `for carol ${i}`);
    const stored = storedContents(server.dataDir);
    const forBob = stored.get(bob.account!.accountId)!.map(slice);
    const forCarol = stored.get(carol.account!.accountId)!.map(slice);
    expect(forBob.length).toBeGreaterThanOrEqual(6);
    // The ciphertexts are on disk now (in the WAL or the database): the search sees them.
    const before = await diskBytes(server.dataDir);
    expect(forBob.every((s) => before.includes(s))).toBe(true);

    await bob.connect();
    await until('bob has all six', async () => (await bob.messages.list()).filter((m) => m.text.startsWith('for bob')).length === 6);
    await until('acked and deleted', () => !storedContents(server.dataDir).has(bob.account!.accountId));
    const t0 = Date.now();
    await until('no acked ciphertext left on disk', async () => {
      const bytes = await diskBytes(server.dataDir);
      return forBob.every((s) => !bytes.includes(s));
    }, 10_000);
    const erasedAfterMs = Date.now() - t0;
    // Carol's are still queued (she never connected): still there, so the search is not blind.
    const after = await diskBytes(server.dataDir);
    expect(forCarol.every((s) => after.includes(s))).toBe(true);
    console.log(`acked envelopes erased from database file and WAL ${erasedAfterMs} ms after their rows were deleted`);
  });

  it('are gone from the database file and the WAL within the bound while writes never stop', async () => {
    const server = await h.startServer();
    const [alice, bob, dave, erin] = [await user(server, 'alice'), await user(server, 'bob'), await user(server, 'dave'), await user(server, 'erin')];
    await alice.connect();
    await erin.connect();
    await dave.connect();
    // First contact (identified), so the load below is the ordinary path.
    await erin.send(dave.account!.username, 'hello dave');
    await until('dave has it', async () => (await dave.messages.list()).some((m) => m.text === 'hello dave'));
    for (let i = 0; i < 6; i++) await alice.send(bob.account!.username, `for bob ${i}: ${'y'.repeat(i * 300)}`);
    const forBob = storedContents(server.dataDir).get(bob.account!.accountId)!.map(slice);
    expect(forBob.length).toBeGreaterThanOrEqual(6);

    // Continuous writes: erin → dave back to back (each an insert, dave's ack a delete), so
    // the database is never quiet for a checkpoint interval; only the time bound can empty the WAL.
    let load = true;
    const sendTimes: number[] = [];
    const loader = (async () => {
      for (let i = 0; load && i < 5_000; i++) {
        await erin.send(dave.account!.username, `load ${i}`);
        sendTimes.push(Date.now());
      }
    })();
    try {
      await bob.connect();
      await until('bob has all six', async () => (await bob.messages.list()).filter((m) => m.text.startsWith('for bob')).length === 6);
      await until('acked and deleted', () => !storedContents(server.dataDir).has(bob.account!.accountId));
      const t0 = Date.now();
      await until('no acked ciphertext left on disk under load', async () => {
        const bytes = await diskBytes(server.dataDir);
        return forBob.every((s) => !bytes.includes(s));
      }, 15_000);
      const erasedAfterMs = Date.now() - t0;
      // The load really ran all along: sends completed in every second of the wait.
      const during = sendTimes.filter((t) => t >= t0);
      const seconds = new Set(during.map((t) => Math.floor((t - t0) / 1000)));
      expect(seconds.size).toBeGreaterThanOrEqual(Math.floor(erasedAfterMs / 1000));
      // The bound: 5 s of continuous writes (checkpointer.ts truncateMaxDelayMs) plus the
      // handshake and this poll's own pace.
      expect(erasedAfterMs).toBeLessThan(9_000);
      console.log(`under continuous writes (${during.length} sends during the wait): acked envelopes erased from database file and WAL ${erasedAfterMs} ms after their rows were deleted`);
    } finally {
      load = false;
      await loader;
    }
  }, 60_000);
});
