import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { open, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { encryptedAttachmentSize } from '@kluis/protocol';
import type { ServerConfig } from '../config.js';
import { registerAccount, type TestDevice } from '../test-support/accounts.js';
import { call, type HttpResult } from '../test-support/http.js';
import { openSqliteForTest } from '../test-support/peek.js';
import { startTestServer, tempDir, type TestServer } from '../test-support/test-server.js';

const HOUR = 3_600_000;
const DAY = 24 * HOUR;
const MIB = 1024 * 1024;
const servers: TestServer[] = [];
const mounts: string[] = [];
afterAll(async () => {
  for (const s of servers) await s.close();
  for (const m of mounts) execFileSync('umount', [m], { stdio: 'ignore' });
});

/** A tmpfs of `mib` MiB at a fresh directory, or undefined where mounting is not allowed (not root). */
async function smallDisk(mib: number): Promise<string | undefined> {
  const dir = await tempDir('kluis-blob-disk-');
  try {
    execFileSync('mount', ['-t', 'tmpfs', '-o', `size=${mib}m,mode=0700`, 'tmpfs', dir], { stdio: 'ignore' });
  } catch {
    return undefined;
  }
  mounts.push(dir);
  return dir;
}

/** Writes into `file` until the disk says ENOSPC. */
async function fillDisk(file: string): Promise<void> {
  const f = await open(file, 'w');
  try {
    for (;;) await f.write(Buffer.alloc(64 * 1024));
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOSPC') throw err;
  } finally {
    await f.close().catch(() => {});
  }
}

async function server(overrides: Partial<ServerConfig>): Promise<{ ts: TestServer; clock: { now: number } }> {
  const clock = { now: Date.UTC(2026, 0, 10, 12) };
  const ts = await startTestServer({ maxAttachmentBytes: 1024 * 1024, ...overrides }, { clock: () => clock.now });
  servers.push(ts);
  return { ts, clock };
}

const reserve = (ts: TestServer, d: TestDevice, size: number) => call(ts.url, 'POST', '/v1/attachments', { auth: d.auth, body: { size } });
const put = (ts: TestServer, d: TestDevice, id: string, bytes: Uint8Array) =>
  call(ts.url, 'PUT', `/v1/attachments/${id}?offset=0`, { auth: d.auth, raw: bytes, contentType: 'application/octet-stream' });

function blobRows(ts: TestServer): number {
  const peek = openSqliteForTest(ts.dataDir);
  try {
    return Number(peek.all('select count(*) as n from blobs')[0]!.n);
  } finally {
    peek.close();
  }
}

function refused(r: HttpResult, status: number, code: string, reason: RegExp): void {
  expect(r.status, JSON.stringify(r.body)).toBe(status);
  expect(r.body).toMatchObject({ code });
  expect(r.body.message).toMatch(reason);
  expect(r.body.retryAfterSeconds).toBeGreaterThan(0);
  expect(Number(r.headers.get('retry-after'))).toBe(r.body.retryAfterSeconds);
}

describe('attachment reservations are bounded', () => {
  it('per account: reservations an hour, 429 with Retry-After past it, nothing stored, other accounts unaffected', async () => {
    const { ts, clock } = await server({ attachmentReservationsPerHour: 3 });
    const alice = await registerAccount(ts);
    const bob = await registerAccount(ts);
    for (let i = 0; i < 3; i++) expect((await reserve(ts, alice, 10)).status).toBe(200);
    const over = await reserve(ts, alice, 10);
    refused(over, 429, 'RATE_LIMITED', /too many attachment uploads from this account; try again in \d+ s/);
    expect(Number(over.headers.get('retry-after'))).toBeGreaterThan(0);
    expect(blobRows(ts)).toBe(3);
    expect((await reserve(ts, bob, 10)).status).toBe(200);
    clock.now += HOUR / 3 + 1000;
    expect((await reserve(ts, alice, 10)).status).toBe(200);
  });

  it('per account: reserved bytes a day, 429 past it, nothing stored', async () => {
    const { ts, clock } = await server({ attachmentBytesPerDay: 10_000 });
    const alice = await registerAccount(ts);
    expect((await reserve(ts, alice, 6000)).status).toBe(200);
    const over = await reserve(ts, alice, 6000);
    refused(over, 429, 'RATE_LIMITED', /too many attachment bytes from this account today/);
    // The wait is until 2,000 more bytes are back: a fifth of the day.
    expect(over.body.retryAfterSeconds).toBeGreaterThan(DAY / 5 / 1000 - 5);
    expect(over.body.retryAfterSeconds).toBeLessThanOrEqual(DAY / 5 / 1000 + 1);
    expect(blobRows(ts)).toBe(1);
    // What is left still goes.
    expect((await reserve(ts, alice, 4000)).status).toBe(200);
    clock.now += DAY;
    expect((await reserve(ts, alice, 6000)).status).toBe(200);
  });

  it('store-wide: unfinished uploads (count and bytes) answer 507 STORAGE_FULL past the cap and stop counting once complete or swept', async () => {
    // Three an hour per account: bob's fourth try below is refused for the store, not his
    // budget, because a refusal by the server gives his tokens back.
    const { ts, clock } = await server({ maxPendingAttachments: 2, maxPendingAttachmentBytes: 1500, attachmentReservationsPerHour: 3 });
    const alice = await registerAccount(ts);
    const bob = await registerAccount(ts);
    const first = (await reserve(ts, alice, 600)).body.id as string;
    expect((await reserve(ts, bob, 600)).status).toBe(200);
    refused(await reserve(ts, alice, 10), 507, 'STORAGE_FULL', /unfinished attachment uploads/);
    expect(blobRows(ts)).toBe(2);
    // Completing one frees its place.
    expect((await put(ts, alice, first, randomBytes(600))).body).toMatchObject({ complete: true });
    refused(await reserve(ts, bob, 1000), 507, 'STORAGE_FULL', /unfinished attachment uploads on this server already claim 600 bytes of 1500 bytes/);
    expect((await reserve(ts, bob, 900)).status).toBe(200);
    refused(await reserve(ts, bob, 10), 507, 'STORAGE_FULL', /unfinished attachment uploads/);
    // Abandoned uploads are swept once their reservation day began more than two days ago.
    clock.now += 2 * DAY + 1;
    expect((await ts.server.runExpiry()).blobs).toBe(2);
    expect((await reserve(ts, alice, 1500)).status).toBe(200);
    expect(blobRows(ts)).toBe(2);
  });

  it('store-wide: an upload that would eat into the free-space reserve of the blob filesystem answers 507', async () => {
    // A reserve larger than any disk: every reservation would go below it.
    const { ts } = await server({ attachmentDiskReserveBytes: Number.MAX_SAFE_INTEGER });
    const alice = await registerAccount(ts);
    refused(await reserve(ts, alice, 10), 507, 'STORAGE_FULL', /attachment storage is full/);
    expect(blobRows(ts)).toBe(0);
    const { ts: roomy } = await server({ attachmentDiskReservePercent: 0 });
    const bob = await registerAccount(roomy);
    expect((await reserve(roomy, bob, 10)).status).toBe(200);
  });

  it('on a small disk: the reserve counts what unfinished uploads still need, and a disk that fills mid-upload answers 507 and resumes', async (t) => {
    const disk = await smallDisk(8);
    if (!disk) return t.skip();
    const { ts } = await server({ blobDir: join(disk, 'blobs'), maxAttachmentBytes: 4 * MIB, attachmentDiskReserveBytes: 2 * MIB });
    const alice = await registerAccount(ts);
    const first = (await reserve(ts, alice, 3 * MIB)).body.id as string;
    // 8 MiB free, 3 promised to the first upload: another 3 would leave less than the 2 MiB reserve.
    refused(await reserve(ts, alice, 3 * MIB + 1), 507, 'STORAGE_FULL', /attachment storage is full/);
    expect(blobRows(ts)).toBe(1);
    const data = randomBytes(3 * MIB);
    expect((await put(ts, alice, first, data)).body).toMatchObject({ complete: true });
    const second = (await reserve(ts, alice, MIB)).body.id as string;
    expect(second).toBeTruthy();
    // Something else fills the disk while the second upload runs.
    const filler = join(disk, 'filler');
    await fillDisk(filler);
    const full = await put(ts, alice, second, randomBytes(MIB));
    refused(full, 507, 'STORAGE_FULL', /storage is full; the upload can resume/);
    await rm(filler);
    const status = (await call(ts.url, 'GET', `/v1/attachments/${second}/status`, { auth: alice.auth })).body;
    expect(status.complete).toBe(false);
    const rest = randomBytes(MIB - status.received);
    const resumed = await call(ts.url, 'PUT', `/v1/attachments/${second}?offset=${status.received}`, { auth: alice.auth, raw: rest, contentType: 'application/octet-stream' });
    expect(resumed.body).toMatchObject({ complete: true });
    const back = await fetch(`${ts.url}/v1/attachments/${first}`, { headers: { authorization: alice.auth } });
    expect(Buffer.from(await back.arrayBuffer()).equals(data)).toBe(true);
  });

  it('figures: 3,000 reservations of a 100 MiB file from one account, with the default limits', async () => {
    const { ts } = await server({ maxAttachmentBytes: 100 * 1024 * 1024 });
    const alice = await registerAccount(ts);
    const size = encryptedAttachmentSize(100 * 1024 * 1024);
    const started = performance.now();
    let accepted = 0;
    let limited = 0;
    for (let i = 0; i < 3000; i++) {
      const r = await reserve(ts, alice, size);
      if (r.status === 200) accepted++;
      else if (r.status === 429) limited++;
      else throw new Error(`unexpected ${r.status} ${JSON.stringify(r.body)}`);
    }
    const seconds = (performance.now() - started) / 1000;
    console.log(`3000 × ${size} B reservations from one account: ${accepted} accepted (${((accepted * size) / 2 ** 30).toFixed(2)} GiB), ${limited} refused 429, in ${seconds.toFixed(2)} s`);
    // 2 GiB a day: 20 of ~105 MB each, the rest refused; the refused ones stored nothing.
    expect(accepted).toBe(Math.floor((2 * 2 ** 30) / size));
    expect(blobRows(ts)).toBe(accepted);
  }, 120_000);
});
