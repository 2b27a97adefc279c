import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { readdir } from 'node:fs/promises';
import { request } from 'node:http';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { registerAccount, type TestDevice } from '../test-support/accounts.js';
import { call } from '../test-support/http.js';
import { openSqliteForTest } from '../test-support/peek.js';
import { startTestServer, type TestServer } from '../test-support/test-server.js';

const DAY = 86_400_000;
let now = Date.now();
let ts: TestServer;
let alice: TestDevice;
let blobDir: string;
const logs: string[] = [];
const ids: string[] = [];

beforeAll(async () => {
  ts = await startTestServer({ maxAttachmentBytes: 1024 * 1024 }, { clock: () => now, log: (line) => logs.push(line) });
  alice = await registerAccount(ts);
  blobDir = join(ts.dataDir, 'blobs');
});
afterAll(async () => {
  await ts.close();
  // Interrupted uploads, bad input and deletions are no server faults, and no log line
  // names a blob or an account.
  expect(logs.filter((l) => /internal error/.test(l))).toEqual([]);
  for (const secret of [...ids, alice.accountId]) expect(logs.filter((l) => l.includes(secret))).toEqual([]);
});

async function create(size: number): Promise<string> {
  const r = await call(ts.url, 'POST', '/v1/attachments', { auth: alice.auth, body: { size } });
  expect(r.status, JSON.stringify(r.body)).toBe(200);
  expect(r.body.id).toMatch(/^[A-Za-z0-9_-]{22}$/);
  ids.push(r.body.id);
  return r.body.id;
}

function put(id: string, offset: number, bytes: Uint8Array) {
  return call(ts.url, 'PUT', `/v1/attachments/${id}?offset=${offset}`, { auth: alice.auth, raw: bytes, contentType: 'application/octet-stream' });
}

async function get(id: string, headers: Record<string, string> = {}): Promise<{ status: number; bytes: Buffer; headers: Headers }> {
  const res = await fetch(`${ts.url}/v1/attachments/${id}`, { headers: { authorization: alice.auth, ...headers } });
  return { status: res.status, bytes: Buffer.from(await res.arrayBuffer()), headers: res.headers };
}

/** Sends the headers and `sent` bytes of a larger declared body, then cuts the connection. */
function interruptedPut(id: string, declared: number, sent: Uint8Array): Promise<void> {
  return new Promise((resolve) => {
    const url = new URL(`${ts.url}/v1/attachments/${id}?offset=0`);
    const req = request(url, {
      method: 'PUT',
      headers: { authorization: alice.auth, 'content-type': 'application/octet-stream', 'content-length': String(declared) },
    });
    req.on('error', () => resolve());
    req.on('close', () => resolve());
    req.write(sent, () => setTimeout(() => req.destroy(), 100));
  });
}

describe('attachments API', () => {
  it('uploads in pieces, reports status, refuses a wrong offset with the true count, and downloads with ranges', async () => {
    const data = randomBytes(100_000);
    const id = await create(data.length);
    expect((await call(ts.url, 'GET', `/v1/attachments/${id}/status`, { auth: alice.auth })).body).toEqual({ size: 100_000, received: 0, complete: false });
    expect((await get(id)).status).toBe(404);
    expect((await put(id, 0, data.subarray(0, 30_000))).body).toEqual({ size: 100_000, received: 30_000, complete: false });
    const wrong = await put(id, 10, data.subarray(10, 20));
    expect(wrong.status).toBe(409);
    expect(wrong.body).toMatchObject({ code: 'CONFLICT', received: 30_000 });
    expect((await put(id, 30_000, data.subarray(30_000))).body).toEqual({ size: 100_000, received: 100_000, complete: true });
    expect((await put(id, 100_000, new Uint8Array(1))).status).toBe(409);

    const full = await get(id);
    expect(full.status).toBe(200);
    expect(full.headers.get('content-type')).toBe('application/octet-stream');
    expect(full.bytes.equals(data)).toBe(true);
    const tail = await get(id, { range: 'bytes=99000-' });
    expect(tail.status).toBe(206);
    expect(tail.headers.get('content-range')).toBe('bytes 99000-99999/100000');
    expect(tail.bytes.equals(data.subarray(99_000))).toBe(true);
    const mid = await get(id, { range: 'bytes=10-19' });
    expect(mid.bytes.equals(data.subarray(10, 20))).toBe(true);
    expect((await get(id, { range: 'bytes=100000-' })).status).toBe(416);
    expect((await readdir(blobDir)).filter((f) => f.startsWith(id))).toEqual([id]);
  });

  it('keeps what arrived before a broken upload so the client resumes from there', async () => {
    const data = randomBytes(200_000);
    const id = await create(data.length);
    await interruptedPut(id, data.length, data.subarray(0, 64_000));
    let status = (await call(ts.url, 'GET', `/v1/attachments/${id}/status`, { auth: alice.auth })).body;
    for (let i = 0; i < 50 && status.received === 0; i++) {
      await new Promise((r) => setTimeout(r, 20));
      status = (await call(ts.url, 'GET', `/v1/attachments/${id}/status`, { auth: alice.auth })).body;
    }
    expect(status.received).toBeGreaterThan(0);
    expect(status.received).toBeLessThanOrEqual(64_000);
    expect((await put(id, status.received, data.subarray(status.received))).body.complete).toBe(true);
    expect((await get(id)).bytes.equals(data)).toBe(true);
  });

  it('lets no device delete an attachment for others: fetched any number of times until its TTL', async () => {
    const data = randomBytes(10);
    const id = await create(10);
    // Before the upload completes, and after: the old expect/release calls are gone (404 with a reason).
    const bob = await registerAccount(ts);
    const gone = (r: { status: number; body: { code?: string; message?: string } }) => {
      expect(r.status, JSON.stringify(r.body)).toBe(404);
      expect(r.body).toMatchObject({ code: 'NOT_FOUND' });
      expect(r.body.message?.length).toBeGreaterThan(5);
    };
    gone(await call(ts.url, 'POST', `/v1/attachments/${id}/expect`, { auth: bob.auth, body: { recipients: 1 } }));
    await put(id, 0, data);
    // One recipient "expects" one download and releases it three times, as before could delete it for three.
    gone(await call(ts.url, 'POST', `/v1/attachments/${id}/expect`, { auth: bob.auth, body: { recipients: 1 } }));
    for (let i = 0; i < 3; i++) gone(await call(ts.url, 'POST', `/v1/attachments/${id}/release`, { auth: bob.auth }));
    gone(await call(ts.url, 'POST', `/v1/attachments/${id}/expect`, { auth: alice.auth, body: { recipients: 2 } }));
    for (let i = 0; i < 5; i++) {
      const res = await fetch(`${ts.url}/v1/attachments/${id}`, { headers: { authorization: (i % 2 ? alice : bob).auth } });
      expect(res.status).toBe(200);
      expect(Buffer.from(await res.arrayBuffer()).equals(data)).toBe(true);
    }
    expect(existsSync(join(blobDir, id))).toBe(true);
    // The row holds no count of recipients or fetches and no time finer than a day.
    const peek = openSqliteForTest(ts.dataDir);
    try {
      const [row] = peek.all(`select * from blobs where id = '${id}'`);
      expect(Object.keys(row!).sort()).toEqual(['complete', 'created_at', 'expires_at', 'id', 'received', 'size']);
      expect(Number(row!.created_at) % DAY).toBe(0);
      expect(Number(row!.expires_at) % DAY).toBe(0);
    } finally {
      peek.close();
    }
  });

  it('expiry deletes blobs past the TTL and uploads abandoned for a day (within two: reservation days are whole)', async () => {
    const kept = await create(5);
    await put(kept, 0, randomBytes(5));
    const abandoned = await create(5);
    await put(abandoned, 0, randomBytes(2));
    expect(existsSync(join(blobDir, `${abandoned}.part`))).toBe(true);
    now += 2 * DAY + 1;
    const first = await ts.server.runExpiry();
    expect(first.blobs).toBeGreaterThanOrEqual(1);
    expect(existsSync(join(blobDir, `${abandoned}.part`))).toBe(false);
    expect((await call(ts.url, 'GET', `/v1/attachments/${abandoned}/status`, { auth: alice.auth })).status).toBe(404);
    expect((await get(kept)).status).toBe(200);
    // Fetched again and again, by anyone with the pointer, until the TTL.
    now += 27 * DAY;
    expect((await get(kept)).status).toBe(200);
    now += 3 * DAY;
    // Expired blobs are gone for clients at once, and from disk at the next run.
    expect((await get(kept)).status).toBe(404);
    expect((await ts.server.runExpiry()).blobs).toBeGreaterThanOrEqual(1);
    expect(existsSync(join(blobDir, kept))).toBe(false);
  });

  it('answers bad input with a 4xx and a reason, changing nothing', async () => {
    const expect4xx = (r: { status: number; body: { code?: string; message?: string } }, status: number) => {
      expect(r.status, JSON.stringify(r.body)).toBe(status);
      expect(r.body.message?.length).toBeGreaterThan(5);
    };
    expect4xx(await call(ts.url, 'POST', '/v1/attachments', { body: { size: 10 } }), 401);
    expect4xx(await call(ts.url, 'POST', '/v1/attachments', { auth: alice.auth, body: { size: Math.ceil(1024 * 1024 * 1.06) } }), 413);
    expect4xx(await call(ts.url, 'POST', '/v1/attachments', { auth: alice.auth, body: { size: 0 } }), 400);
    expect4xx(await call(ts.url, 'POST', '/v1/attachments', { auth: alice.auth, body: { size: 'x' } }), 400);
    expect4xx(await call(ts.url, 'POST', '/v1/attachments', { auth: alice.auth, body: { size: 5, extra: 1 } }), 400);
    expect4xx(await call(ts.url, 'GET', '/v1/attachments/..%2F..%2Fkluis.db', { auth: alice.auth }), 400);
    expect4xx(await call(ts.url, 'GET', `/v1/attachments/${'A'.repeat(22)}`, { auth: alice.auth }), 404);
    const id = await create(10);
    expect4xx(await put(id, 0, randomBytes(11)), 413);
    expect4xx(await call(ts.url, 'PUT', `/v1/attachments/${id}?offset=-1`, { auth: alice.auth, raw: randomBytes(2), contentType: 'application/octet-stream' }), 400);
    expect4xx(await call(ts.url, 'PUT', `/v1/attachments/${id}`, { auth: alice.auth, raw: randomBytes(2), contentType: 'application/octet-stream' }), 400);
    expect4xx(await call(ts.url, 'PUT', `/v1/attachments/${id}?offset=0`, { auth: alice.auth, body: { bytes: 'AAAA' } }), 415);
    expect((await call(ts.url, 'GET', `/v1/attachments/${id}/status`, { auth: alice.auth })).body).toEqual({ size: 10, received: 0, complete: false });
    // A body without Content-Length (chunked) that overflows is cut at the declared size.
    const chunked = await fetch(`${ts.url}/v1/attachments/${id}?offset=0`, {
      method: 'PUT',
      headers: { authorization: alice.auth, 'content-type': 'application/octet-stream' },
      body: new ReadableStream({
        start(c) {
          c.enqueue(randomBytes(6));
          c.enqueue(randomBytes(6));
          c.close();
        },
      }),
      duplex: 'half',
    } as RequestInit);
    expect(chunked.status).toBe(413);
    // Whole chunks that fit are kept (the client resumes after them); the overflowing one is not.
    const after = (await call(ts.url, 'GET', `/v1/attachments/${id}/status`, { auth: alice.auth })).body;
    expect(after.complete).toBe(false);
    expect([0, 6]).toContain(after.received);
  });
});
