import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import pg from 'pg';
import { downloadAttachment, uploadAttachment } from '@kluis/sdk';
import { HttpApi } from '@kluis/sdk/testing';
import { registerAccount, type TestDevice } from '../../packages/server/src/test-support/accounts.js';
import { call } from '../../packages/server/src/test-support/http.js';
import { startTestServer, tempDir, type TestServer } from '../../packages/server/src/test-support/test-server.js';

const DAY = 86_400_000;

/**
 * Two nodes sharing PostgreSQL and one blob directory (as `--blob-dir` on NFS would be):
 * an upload may continue, and a download start, on either node.
 */
describe('attachments on two nodes sharing a blob directory', () => {
  let now = Date.UTC(2026, 0, 10, 12);
  const nodes: TestServer[] = [];
  let blobDir: string;
  let alice: TestDevice;
  let bob: TestDevice;
  const api = (node: TestServer, d: TestDevice) => new HttpApi(node.url, () => ({ accountId: d.accountId, deviceId: d.deviceId, password: d.password }));

  beforeAll(async () => {
    const admin = new pg.Client({ connectionString: inject('kluisPostgresUrl') });
    await admin.connect();
    await admin.query('create database kluis_attachments');
    await admin.end();
    const u = new URL(inject('kluisPostgresUrl'));
    u.pathname = '/kluis_attachments';
    const dataDir = await tempDir('kluis-attach-cluster-');
    blobDir = join(await tempDir('kluis-attach-shared-'), 'blobs');
    for (let i = 0; i < 2; i++) {
      nodes.push(await startTestServer({ database: u.toString(), dataDir, blobDir, nodeName: `n${i}`, expiryIntervalMs: 3_600_000 }, { clock: () => now }));
    }
    alice = await registerAccount(nodes[0]!);
    bob = await registerAccount(nodes[0]!);
  });
  afterAll(async () => {
    for (const n of nodes) await n.close();
  });

  it('resumes an upload on the other node, downloads from either, and keeps the blob for every reader', async () => {
    const [n0, n1] = nodes as [TestServer, TestServer];
    const data = randomBytes(50_000);
    const created = await call(n0.url, 'POST', '/v1/attachments', { auth: alice.auth, body: { size: data.length } });
    const id: string = created.body.id;
    const put = (node: TestServer, offset: number, bytes: Uint8Array) =>
      call(node.url, 'PUT', `/v1/attachments/${id}?offset=${offset}`, { auth: alice.auth, raw: bytes, contentType: 'application/octet-stream' });
    expect((await put(n0, 0, data.subarray(0, 20_000))).body).toMatchObject({ received: 20_000 });
    expect((await put(n1, 0, data.subarray(0, 10))).body).toMatchObject({ code: 'CONFLICT', received: 20_000 });
    expect((await put(n1, 20_000, data.subarray(20_000))).body).toMatchObject({ received: 50_000, complete: true });
    for (const node of nodes) {
      const res = await fetch(`${node.url}/v1/attachments/${id}`, { headers: { authorization: bob.auth, range: 'bytes=49000-' } });
      expect(res.status).toBe(206);
      expect(Buffer.from(await res.arrayBuffer()).equals(data.subarray(49_000))).toBe(true);
    }

    const pointer = await uploadAttachment(api(n1, alice), { bytes: randomBytes(300_000) }, { contentType: 'image/png' });
    const dl = await tempDir('kluis-attach-dl-');
    await downloadAttachment(api(n0, bob), pointer, join(dl, 'file'));
    // The release route is gone on every node; the blob stays until its TTL.
    for (const node of nodes) {
      const r = await call(node.url, 'POST', `/v1/attachments/${pointer.id}/release`, { auth: bob.auth });
      expect(r.status).toBe(404);
      expect(r.body).toMatchObject({ code: 'NOT_FOUND' });
    }
    await downloadAttachment(api(n1, bob), pointer, join(dl, 'again'));
    expect(existsSync(join(blobDir, pointer.id))).toBe(true);
  });

  it('runs blob expiry on one node at a time', async () => {
    const [n0, n1] = nodes as [TestServer, TestServer];
    const pointer = await uploadAttachment(api(n0, alice), { bytes: randomBytes(1000) }, { contentType: 'application/octet-stream' });
    now += 31 * DAY;
    const results = await Promise.all([n0.server.runExpiry(), n1.server.runExpiry()]);
    expect(results.reduce((s, r) => s + r.blobs, 0)).toBeGreaterThanOrEqual(1);
    expect(existsSync(join(blobDir, pointer.id))).toBe(false);
  });
});
