/**
 * The sealed socket (GET /v1/sealed-socket): no credential on it, sealed sends only,
 * answered exactly as PUT /v1/sealed… answers (statuses, bytes of the refusals, rate
 * limits), storing the same rows; and neither socket takes the other's frames.
 */
import { AccessKeys } from '../test-support/access-keys.js';
import { randomBytes, randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { JsonClientFrame } from '@kluis/protocol';
import { registerAccount, sendBody, type TestDevice } from '../test-support/accounts.js';
import { call } from '../test-support/http.js';
import { openSqliteForTest } from '../test-support/peek.js';
import { sealedMultiMessage } from '../test-support/sessions.js';
import { TestSocket } from '../test-support/socket-client.js';
import { startTestServer, type TestServer } from '../test-support/test-server.js';

const SEALED = '/v1/sealed-socket';

/** Rate limits on, and a clock that stands still (as in rate-limits.test.ts). */
let offset = 0;
const base = Date.now();
const clock = () => base + offset;
let ts: TestServer;
let peek: ReturnType<typeof openSqliteForTest>;
const keys = new AccessKeys(() => ts);

beforeAll(async () => {
  ts = await startTestServer({}, { clock });
  peek = openSqliteForTest(ts.dataDir);
});
afterAll(async () => {
  peek.close();
  await ts.close();
});

/** An account with an access key of its own (and one device). */
const keyed = async (): Promise<TestDevice> => keys.give(await registerAccount(ts));
const xor = (...accounts: TestDevice[]) => keys.xor(...accounts);

/** A sealed 1:1 body as the socket carries it (no timestamp field). */
const sealedBody = (to: TestDevice, text = 'sealed') => {
  const { timestamp: _, ...body } = sendBody([to], text, 6);
  return body;
};

let nextId = 1;
/** A request frame on `s` and its Response: status and the exact body text. */
type WithoutId<T> = T extends unknown ? Omit<T, 'id'> : never;
async function ask(s: TestSocket, frame: WithoutId<Extract<JsonClientFrame, { id: number }>>): Promise<{ status: number; text: string }> {
  const id = nextId++;
  s.send({ ...frame, id } as JsonClientFrame);
  const r = await s.next((f) => f.type === 'response' && f.id === id);
  return { status: r.status, text: JSON.stringify(r.body) };
}

const overSocket = (s: TestSocket, to: TestDevice | string, key: Buffer, device: TestDevice) =>
  ask(s, { type: 'sealed-send', destination: typeof to === 'string' ? to : to.accountId, accessKey: key.toString('base64'), body: sealedBody(device) });

/** The same send over HTTP, with the body text as JSON.stringify writes it. */
async function overHttp(to: TestDevice | string, key: Buffer, device: TestDevice): Promise<{ status: number; text: string }> {
  const r = await call(ts.url, 'PUT', `/v1/sealed/${typeof to === 'string' ? to : to.accountId}`, { headers: { 'unidentified-access-key': key.toString('base64') }, body: sendBody([device], 'sealed', 6) });
  return { status: r.status, text: JSON.stringify(r.body) };
}

type Row = { account_id: string; device_id: number; type: number; source_account: string | null; source_device: number | null; timestamp: number; server_timestamp: number; expires_at: number };
const rows = (...ds: TestDevice[]): Row[] =>
  peek.all(
    `select account_id, device_id, type, source_account, source_device, timestamp, server_timestamp, expires_at from envelopes where account_id in (${ds.map((d) => `'${d.accountId}'`).join(',')}) order by id`,
  ) as Row[];

describe('the sealed socket upgrade', () => {
  it('takes no credential: an Authorization header gets a 400 and no socket, even a valid one', async () => {
    const alice = await keyed();
    for (const auth of [alice.auth, 'Basic Zm9vOmJhcg==']) {
      const refused = await TestSocket.connect(ts.url, auth, SEALED).then(
        () => undefined,
        (e: { status?: number; body?: unknown }) => e,
      );
      expect(refused).toMatchObject({ status: 400, body: { code: 'BAD_REQUEST', message: expect.stringContaining('no credential') } });
    }
    // Without one it opens, and it is no device connection (nor counted as one).
    const s = await TestSocket.connect(ts.url, undefined, SEALED);
    const metrics = await (await fetch(`${ts.url}/metrics`)).text();
    expect(metrics).toMatch(/^kluis_connections 0$/m);
    await s.close();
  });
});

describe('sealed sends over the socket answer as over HTTP', () => {
  it('a wrong key and an unknown account get the same 401 bytes, on the socket and over HTTP', async () => {
    const bob = await keyed();
    const s = await TestSocket.connect(ts.url, undefined, SEALED);
    const wrong = await overSocket(s, bob, randomBytes(16), bob);
    expect(wrong.status).toBe(401);
    expect(JSON.parse(wrong.text)).toEqual({ code: 'UNAUTHORIZED', message: 'missing or wrong unidentified-access key' });
    expect(await overSocket(s, randomUUID(), randomBytes(16), bob)).toEqual(wrong);
    expect(await overHttp(bob, randomBytes(16), bob)).toEqual(wrong);
    expect(await overHttp(randomUUID(), randomBytes(16), bob)).toEqual(wrong);
    // Multi: a wrong combined key, the same answer.
    const carol = await keyed();
    const message = await sealedMultiMessage(ts.url, bob, [bob, carol]);
    const multi = await ask(s, { type: 'sealed-multi-send', accessKey: randomBytes(16).toString('base64'), body: { message } });
    expect(multi).toEqual(wrong);
    expect(rows(bob, carol)).toEqual([]);
    // The right key: accepted; the socket stays open through refusals.
    expect((await overSocket(s, bob, xor(bob), bob)).status).toBe(200);
    expect((await ask(s, { type: 'sealed-multi-send', accessKey: xor(bob, carol).toString('base64'), body: { message } })).status).toBe(200);
    await s.close();
  });

  it('takes from the same rate-limit buckets as HTTP: 30 refused keys a minute per destination, then 429 either way', async () => {
    const bob = await keyed();
    const s = await TestSocket.connect(ts.url, undefined, SEALED);
    for (let i = 0; i < 15; i++) expect((await overSocket(s, bob, randomBytes(16), bob)).status).toBe(401);
    for (let i = 0; i < 15; i++) expect((await overHttp(bob, randomBytes(16), bob)).status).toBe(401);
    const limited = await overSocket(s, bob, randomBytes(16), bob);
    expect(limited.status).toBe(429);
    expect(JSON.parse(limited.text)).toEqual({ code: 'RATE_LIMITED', message: expect.stringMatching(/^too many .+; try again in \d+ s$/), retryAfterSeconds: expect.any(Number) });
    expect((await overHttp(bob, randomBytes(16), bob)).status).toBe(429);
    // The key is checked before the failure bucket: the right one still goes through.
    expect((await overSocket(s, bob, xor(bob), bob)).status).toBe(200);
    // An unknown account is limited exactly alike (no existence oracle).
    const nobody = randomUUID();
    for (let i = 0; i < 30; i++) expect((await overSocket(s, nobody, randomBytes(16), bob)).status).toBe(401);
    expect((await overSocket(s, nobody, randomBytes(16), bob)).status).toBe(429);
    offset += 60_000;
    await s.close();
  });

  it('stores the same rows as over HTTP: no source, no timestamp, coarse times', async () => {
    const carol = await keyed();
    const s = await TestSocket.connect(ts.url, undefined, SEALED);
    const socket = await overSocket(s, carol, xor(carol), carol);
    const http = await overHttp(carol, xor(carol), carol);
    expect(socket.status).toBe(200);
    expect(http.status).toBe(200);
    // The answers differ only in the server time (coarse: same hour, so equal here too).
    expect(JSON.parse(socket.text)).toEqual(JSON.parse(http.text));
    const [a, b] = rows(carol);
    expect(a).toMatchObject({ type: 6, source_account: null, source_device: null, timestamp: 0 });
    expect(b).toEqual(a);
    await s.close();
    // Pushed alike, with no sender and no timestamp.
    const device = await TestSocket.connect(ts.url, carol.auth);
    const pushed = await device.backlog();
    expect(pushed).toHaveLength(2);
    for (const e of pushed) {
      expect(e).not.toHaveProperty('sourceAccount');
      expect(e).not.toHaveProperty('timestamp');
    }
    await device.close();
  });
});

describe('neither socket takes the other’s frames', () => {
  it('the sealed socket refuses identified sends, multi-sends and acks; nothing is stored or deleted', async () => {
    const [alice, bob] = [await keyed(), await keyed()];
    // One envelope waiting for bob, to see that an ack on the sealed socket deletes nothing.
    expect((await overHttp(bob, xor(bob), bob)).status).toBe(200);
    const device = await TestSocket.connect(ts.url, bob.auth);
    const [waiting] = await device.backlog();
    await device.close();
    const s = await TestSocket.connect(ts.url, undefined, SEALED);
    const send = await ask(s, { type: 'send', destination: bob.accountId, body: sendBody([bob]) });
    expect(send.status).toBe(400);
    expect(JSON.parse(send.text)).toMatchObject({ code: 'BAD_REQUEST', message: expect.stringContaining('sealed sends only') });
    const multi = await ask(s, {
      type: 'send-multi',
      body: { timestamp: Date.now(), shared: { type: 7, content: 'AAAA' }, recipients: [{ accountId: bob.accountId, devices: [{ deviceId: bob.deviceId, registrationId: bob.registrationId }] }] },
    });
    expect(multi.status).toBe(400);
    s.send({ type: 'ack', guids: [waiting!.guid] });
    expect(await s.next((f) => f.type === 'error')).toMatchObject({ code: 'BAD_REQUEST' });
    await s.close();
    await new Promise((r) => setTimeout(r, 100));
    expect(rows(alice, bob)).toHaveLength(1);
  });

  it('the device socket refuses sealed sends (they would sit beside the sender’s credential); nothing is stored', async () => {
    const [alice, bob] = [await keyed(), await keyed()];
    const device = await TestSocket.connect(ts.url, alice.auth);
    await device.backlog();
    const single = await ask(device, { type: 'sealed-send', destination: bob.accountId, accessKey: xor(bob).toString('base64'), body: sealedBody(bob) });
    expect(single.status).toBe(400);
    expect(JSON.parse(single.text)).toMatchObject({ code: 'BAD_REQUEST', message: expect.stringContaining('sealed socket') });
    const message = await sealedMultiMessage(ts.url, alice, [bob]);
    const multi = await ask(device, { type: 'sealed-multi-send', accessKey: xor(bob).toString('base64'), body: { message } });
    expect(multi.status).toBe(400);
    await device.close();
    expect(rows(alice, bob)).toEqual([]);
  });
});
