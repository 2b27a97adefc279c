import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { truncate, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { afterEach, beforeEach, expect, it } from 'vitest';
import { openTestDb, type TestDb } from '../test-support/db.js';
import { describeStores } from '../test-support/dialects.js';
import { tempDir } from '../test-support/test-server.js';
import { BlobNotFoundError, BlobOffsetError, BlobTooLargeError } from './blob-store.js';
import { FsBlobStore } from './fs-blob-store.js';

const DAY = 86_400_000;
let t: TestDb;
let store: FsBlobStore;
let dir: string;

async function* chunks(...parts: Buffer[]) {
  for (const p of parts) yield p;
}
async function readAll(s: AsyncIterable<Buffer>): Promise<Buffer> {
  const out: Buffer[] = [];
  for await (const c of s) out.push(c);
  return Buffer.concat(out);
}

describeStores('FsBlobStore', (dialect) => {
  beforeEach(async () => {
    t = await openTestDb(dialect);
    dir = join(await tempDir('kluis-blobs-'), 'blobs');
    store = new FsBlobStore(t.db, dir, 30 * DAY);
  });
  afterEach(() => t.close());

  it('appends from the received offset, completes by rename, and reads ranges', async () => {
    const data = randomBytes(1000);
    const blob = await store.create(1000, 0);
    expect(await store.append(blob.id, 0, chunks(data.subarray(0, 300)), 1)).toMatchObject({ received: 300, complete: false });
    expect(existsSync(join(dir, `${blob.id}.part`))).toBe(true);
    await expect(store.read(blob.id, 1)).rejects.toBeInstanceOf(BlobNotFoundError);
    await expect(store.append(blob.id, 0, chunks(data), 1)).rejects.toEqual(new BlobOffsetError(300));
    expect(await store.append(blob.id, 300, chunks(data.subarray(300, 600), data.subarray(600)), 1)).toMatchObject({ received: 1000, complete: true });
    expect(existsSync(join(dir, `${blob.id}.part`))).toBe(false);
    expect((await readAll(await store.read(blob.id, 1))).equals(data)).toBe(true);
    expect((await readAll(await store.read(blob.id, 1, { start: 990 }))).equals(data.subarray(990))).toBe(true);
    expect((await readAll(await store.read(blob.id, 1, { start: 5, end: 9 }))).equals(data.subarray(5, 10))).toBe(true);
  });

  it('drops bytes past the recorded count (a crash mid-upload) before resuming', async () => {
    const data = randomBytes(100);
    const blob = await store.create(100, 0);
    await store.append(blob.id, 0, chunks(data.subarray(0, 40)), 1);
    // Written but never counted: the server died before the row was updated.
    await writeFile(join(dir, `${blob.id}.part`), Buffer.concat([data.subarray(0, 40), Buffer.alloc(30, 0xee)]));
    await store.append(blob.id, 40, chunks(data.subarray(40)), 1);
    expect((await readAll(await store.read(blob.id, 1))).equals(data)).toBe(true);
  });

  it('keeps whole chunks within the size and refuses the overflow', async () => {
    const blob = await store.create(10, 0);
    await expect(store.append(blob.id, 0, chunks(randomBytes(6), randomBytes(6)), 1)).rejects.toBeInstanceOf(BlobTooLargeError);
    expect(await store.stat(blob.id, 1)).toMatchObject({ received: 6, complete: false });
  });

  it('a newer upload stops a stalled one and resumes from what it had written', async () => {
    const blob = await store.create(20, 0);
    const stalled = new PassThrough();
    const first = store.append(blob.id, 0, stalled, 1).catch((err: unknown) => err);
    stalled.write(Buffer.alloc(8, 1));
    await new Promise((r) => setTimeout(r, 50));
    await expect(store.append(blob.id, 0, chunks(Buffer.alloc(20)), 1)).rejects.toEqual(new BlobOffsetError(8));
    expect(String(await first)).toMatch(/took over/);
    expect(await store.append(blob.id, 8, chunks(Buffer.alloc(12, 2)), 1)).toMatchObject({ complete: true });
  });

  it('will not serve a file whose size changed on disk, nor an expired blob', async () => {
    const blob = await store.create(50, 0);
    await store.append(blob.id, 0, chunks(randomBytes(50)), 1);
    await truncate(store.filePath(blob.id), 49);
    await expect(store.read(blob.id, 1)).rejects.toBeInstanceOf(BlobNotFoundError);
    expect(await store.stat(blob.id, 30 * DAY)).toBeUndefined();
    expect(await store.listExpired(30 * DAY, 10)).toEqual([blob.id]);
    await store.delete(blob.id);
    expect(existsSync(store.filePath(blob.id))).toBe(false);
    expect(await store.listExpired(30 * DAY, 10)).toEqual([]);
  });

  it('keeps a complete blob for every reader until its TTL, and sweeps an abandoned upload 24 to 48 hours after its day', async () => {
    const start = Date.UTC(2026, 0, 10, 23, 59);
    const blob = await store.create(5, start);
    // Whole days only: the row cannot be placed next to the message that carries it.
    expect(blob).toMatchObject({ createdAt: Date.UTC(2026, 0, 10), expiresAt: Date.UTC(2026, 1, 10) });
    await store.append(blob.id, 0, chunks(randomBytes(5)), start);
    for (let i = 0; i < 5; i++) expect((await readAll(await store.read(blob.id, start + i * DAY))).length).toBe(5);
    expect(await store.listExpired(start + 30 * DAY, 10)).toEqual([]);
    expect(await store.listExpired(Date.UTC(2026, 1, 10), 10)).toEqual([blob.id]);

    const abandoned = await store.create(5, start);
    await store.append(abandoned.id, 0, chunks(randomBytes(2)), start);
    expect(await store.outstanding(start + DAY)).toEqual({ count: 1, bytes: 5, remaining: 3 });
    // Never sooner than a day after it began (its day began a minute before that)…
    expect(await store.listExpired(start + DAY, 10)).toEqual([]);
    // …and swept, no longer counted, once its day began more than two days ago.
    expect(await store.listExpired(Date.UTC(2026, 0, 12) + 1, 10)).toEqual([abandoned.id]);
    expect(await store.outstanding(Date.UTC(2026, 0, 12) + 1)).toEqual({ count: 0, bytes: 0, remaining: 0 });
  });

  it('reports the free and total space of the blob filesystem', async () => {
    const space = await store.diskSpace();
    expect(space.total).toBeGreaterThan(0);
    expect(space.free).toBeGreaterThan(0);
    expect(space.free).toBeLessThanOrEqual(space.total);
  });
});
