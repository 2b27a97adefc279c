/**
 * Uploads and downloads through the real server (packages/server) on a random port:
 * round trips, resume on both sides, tampering, blobs kept for every reader, limits.
 */
import { createHash, randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdtemp, readdir, readFile, rm, truncate, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough, Readable, Transform } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { registerAccount, type TestDevice } from '../../../server/src/test-support/accounts.js';
import { startTestServer, type TestServer } from '../../../server/src/test-support/test-server.js';
import { KluisError, NetworkError, ServerError } from '../errors.js';
import { HttpApi } from '../transport/http.js';
import { downloadAttachment, uploadAttachment, type AttachmentApi } from './transfer.js';
import type { AttachmentPointer } from './pointer.js';

let ts: TestServer;
let dir: string;
let alice: TestDevice;
let bob: TestDevice;
let api: HttpApi;
let bobApi: HttpApi;
const fast = { retry: { attempts: 4, sleep: async () => {} } };
const sha = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');
const apiFor = (d: TestDevice) => new HttpApi(ts.url, () => ({ accountId: d.accountId, deviceId: d.deviceId, password: d.password }));

beforeAll(async () => {
  ts = await startTestServer();
  dir = await mkdtemp(join(tmpdir(), 'kluis-attach-test-'));
  alice = await registerAccount(ts);
  bob = await registerAccount(ts);
  api = apiFor(alice);
  bobApi = apiFor(bob);
});
afterAll(async () => {
  await ts.close();
  await rm(dir, { recursive: true, force: true });
});

const blobFile = (id: string) => join(ts.dataDir, 'blobs', id);
const leftovers = async () => (await readdir(dir)).filter((f) => f.includes('kluis-part'));

describe('attachment transfer', () => {
  it.each([0, 1, 5 * 1024 * 1024])('round-trips %i bytes with the same SHA-256', async (n) => {
    const data = randomBytes(n);
    const src = join(dir, `src-${n}`);
    await writeFile(src, data);
    const pointer = await uploadAttachment(api, { path: src }, { contentType: 'application/octet-stream', fileName: 'x.bin' });
    expect(pointer).toMatchObject({ size: n, contentType: 'application/octet-stream', fileName: 'x.bin' });
    expect(pointer.key.byteLength).toBe(64);
    expect(pointer.digest.byteLength).toBe(32);
    expect(Object.keys(pointer)).not.toContain('width');
    const dest = join(dir, `dest-${n}`);
    await downloadAttachment(bobApi, pointer, dest);
    expect(sha(await readFile(dest))).toBe(sha(data));
    expect(await leftovers()).toEqual([]);
  });

  it('sends a voice note from memory with its metadata in the pointer', async () => {
    const voice = randomBytes(40_000);
    const pointer = await uploadAttachment(api, { bytes: voice }, { contentType: 'audio/ogg', durationMs: 4200, voiceNote: true });
    expect(pointer).toMatchObject({ contentType: 'audio/ogg', durationMs: 4200, voiceNote: true, size: 40_000 });
    await downloadAttachment(bobApi, pointer, join(dir, 'voice.ogg'));
    expect((await readFile(join(dir, 'voice.ogg'))).equals(voice)).toBe(true);
  });

  async function stored(n = 300_000): Promise<{ pointer: AttachmentPointer; data: Buffer }> {
    const data = randomBytes(n);
    return { data, pointer: await uploadAttachment(api, { bytes: data }, { contentType: 'application/octet-stream' }) };
  }

  it('refuses a blob with one flipped byte on the server and leaves no file behind', async () => {
    const { pointer } = await stored();
    const file = blobFile(pointer.id);
    const bytes = await readFile(file);
    bytes[150_000]! ^= 0x20;
    await writeFile(file, bytes);
    const dest = join(dir, 'flipped');
    await expect(downloadAttachment(bobApi, pointer, dest, fast)).rejects.toMatchObject({ code: 'ATTACHMENT_CORRUPT' });
    expect(existsSync(dest)).toBe(false);
    expect(await leftovers()).toEqual([]);
  });

  it('refuses a truncated blob (on the server disk, or served short) and leaves no file behind', async () => {
    const { pointer } = await stored();
    await truncate(blobFile(pointer.id), 1000);
    const dest = join(dir, 'truncated');
    await expect(downloadAttachment(bobApi, pointer, dest, fast)).rejects.toBeInstanceOf(ServerError);
    expect(existsSync(dest)).toBe(false);

    // A server that serves the blob short and then says there is no more.
    const { pointer: p2 } = await stored();
    const short: AttachmentApi = Object.assign(Object.create(bobApi) as HttpApi, {
      downloadAttachmentBytes: async (id: string, offset: number, idleMs?: number) => {
        if (offset > 0) return { status: 416, headers: {}, body: Readable.from([]) as never };
        const res = await bobApi.downloadAttachmentBytes(id, offset, idleMs);
        const cut = new PassThrough();
        let seen = 0;
        res.body.pipe(
          new Transform({
            transform(chunk: Buffer, _enc, cb) {
              const room = Math.max(0, 200_000 - seen);
              seen += chunk.length;
              cb(null, chunk.subarray(0, room));
            },
          }),
        ).pipe(cut);
        return { ...res, body: cut as never };
      },
    });
    await expect(downloadAttachment(short, p2, dest, fast)).rejects.toMatchObject({ code: 'ATTACHMENT_CORRUPT' });
    expect(existsSync(dest)).toBe(false);
    expect(await leftovers()).toEqual([]);
  });

  it('resumes an upload that broke off from where the server got to', async () => {
    const data = randomBytes(3 * 1024 * 1024);
    const offsets: number[] = [];
    const flaky: AttachmentApi = Object.assign(Object.create(api) as HttpApi, {
      uploadAttachmentBytes: (id: string, offset: number, body: Readable, length: number, idleMs?: number) => {
        offsets.push(offset);
        if (offsets.length > 1) return api.uploadAttachmentBytes(id, offset, body, length, idleMs);
        // The first attempt's connection dies after about 1 MiB.
        let sent = 0;
        const dying = new Transform({
          transform(chunk: Buffer, _enc, cb) {
            sent += chunk.length;
            if (sent > 1024 * 1024) cb(new Error('ECONNRESET (simulated)'));
            else cb(null, chunk);
          },
        });
        body.pipe(dying);
        return api.uploadAttachmentBytes(id, offset, dying, length, idleMs);
      },
    });
    const pointer = await uploadAttachment(flaky, { bytes: data }, { contentType: 'application/octet-stream' }, fast);
    // 0, then (perhaps 0 again, answered 409 with the true count) the server's count.
    expect(offsets[0]).toBe(0);
    expect(offsets.length).toBeLessThanOrEqual(3);
    expect(offsets.at(-1)).toBeGreaterThan(0);
    await downloadAttachment(bobApi, pointer, join(dir, 'resumed-up'));
    expect((await readFile(join(dir, 'resumed-up'))).equals(data)).toBe(true);
  });

  it('finishes when the upload went through but its answer was lost', async () => {
    const data = randomBytes(100_000);
    let calls = 0;
    let statusCalls = 0;
    const lossy: AttachmentApi = Object.assign(Object.create(api) as HttpApi, {
      uploadAttachmentBytes: async (id: string, offset: number, body: Readable, length: number, idleMs?: number) => {
        calls++;
        await api.uploadAttachmentBytes(id, offset, body, length, idleMs);
        throw new NetworkError('PUT /v1/attachments/:id: socket hang up (simulated)');
      },
      // The first status check fails too: the next PUT learns from a 409 that all bytes are there.
      attachmentStatus: async (id: string) => {
        if (++statusCalls === 1) throw new NetworkError('GET status: socket hang up (simulated)');
        return api.attachmentStatus(id);
      },
    });
    const pointer = await uploadAttachment(lossy, { bytes: data }, { contentType: 'application/octet-stream' }, fast);
    expect(calls).toBe(2);
    await downloadAttachment(bobApi, pointer, join(dir, 'lost-answer'));
    expect((await readFile(join(dir, 'lost-answer'))).equals(data)).toBe(true);
  });

  it('resumes a download that broke off with a Range request', async () => {
    const { pointer, data } = await stored(2 * 1024 * 1024);
    const offsets: number[] = [];
    const flaky: AttachmentApi = Object.assign(Object.create(bobApi) as HttpApi, {
      downloadAttachmentBytes: async (id: string, offset: number, idleMs?: number) => {
        offsets.push(offset);
        const res = await bobApi.downloadAttachmentBytes(id, offset, idleMs);
        if (offsets.length > 1) return res;
        let seen = 0;
        const dying = new Transform({
          transform(chunk: Buffer, _enc, cb) {
            seen += chunk.length;
            if (seen > 700_000) cb(Object.assign(new Error('aborted'), { code: 'ECONNRESET' }));
            else cb(null, chunk);
          },
        });
        res.body.pipe(dying);
        return { ...res, body: dying as never };
      },
    });
    await downloadAttachment(flaky, pointer, join(dir, 'resumed-down'), fast);
    expect(offsets.length).toBe(2);
    expect(offsets[1]).toBeGreaterThan(0);
    expect((await readFile(join(dir, 'resumed-down'))).equals(data)).toBe(true);
  });

  it('gives up after bounded retries when the server stays unreachable', async () => {
    const { pointer } = await stored(1000);
    const down = new HttpApi('http://127.0.0.1:1', () => ({ accountId: bob.accountId, deviceId: bob.deviceId, password: bob.password }));
    const dest = join(dir, 'never');
    await expect(downloadAttachment(down, pointer, dest, fast)).rejects.toMatchObject({ code: 'ATTACHMENT_TRANSFER' });
    expect(existsSync(dest)).toBe(false);
  });

  it('leaves the blob on the server for every recipient device, however often it is fetched', async () => {
    const { pointer, data } = await stored(1000);
    const carol = await registerAccount(ts);
    for (const [i, reader] of [bobApi, bobApi, apiFor(carol), bobApi].entries()) {
      await downloadAttachment(reader, pointer, join(dir, `again-${i}`));
      expect((await readFile(join(dir, `again-${i}`))).equals(data)).toBe(true);
    }
    // Nothing a client says removes it; the server's expiry job does, after the TTL.
    expect(existsSync(blobFile(pointer.id))).toBe(true);
  });

  it('reports a reservation past the per-account limit as the server says (429), without retrying a long wait', async () => {
    const tight = await startTestServer({ attachmentReservationsPerHour: 1 });
    try {
      const carol = await registerAccount(tight);
      const carolApi = new HttpApi(tight.url, () => ({ accountId: carol.accountId, deviceId: carol.deviceId, password: carol.password }));
      await uploadAttachment(carolApi, { bytes: randomBytes(100) }, { contentType: 'application/octet-stream' });
      let tries = 0;
      const counting: AttachmentApi = Object.assign(Object.create(carolApi) as HttpApi, {
        createAttachment: (size: number) => {
          tries++;
          return carolApi.createAttachment(size);
        },
      });
      const err = await uploadAttachment(counting, { bytes: randomBytes(100) }, { contentType: 'application/octet-stream' }, fast).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(ServerError);
      expect(err).toMatchObject({ status: 429, code: 'RATE_LIMITED' });
      // An hour's budget is not back in a few seconds: asked once, not four times.
      expect(tries).toBe(1);
      expect(String((err as Error).message)).toMatch(/attachment uploads from this account/);
    } finally {
      await tight.close();
    }
  });

  it('reports an attachment over the server limit as ATTACHMENT_TOO_LARGE', async () => {
    const small = await startTestServer({ maxAttachmentBytes: 4096 });
    try {
      const carol = await registerAccount(small);
      const carolApi = new HttpApi(small.url, () => ({ accountId: carol.accountId, deviceId: carol.deviceId, password: carol.password }));
      const err = await uploadAttachment(carolApi, { bytes: randomBytes(10_000) }, { contentType: 'application/octet-stream' }).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(KluisError);
      expect((err as KluisError).code).toBe('ATTACHMENT_TOO_LARGE');
    } finally {
      await small.close();
    }
  });
});
