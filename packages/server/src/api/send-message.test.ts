import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { linkDevice, registerAccount, sendBody, type TestDevice } from '../test-support/accounts.js';
import { call } from '../test-support/http.js';
import { TestSocket } from '../test-support/socket-client.js';
import { startTestServer, type TestServer } from '../test-support/test-server.js';

let ts: TestServer;
let alice: TestDevice;
let alice2: TestDevice;
let bob: TestDevice;
let bob2: TestDevice;

beforeAll(async () => {
  ts = await startTestServer();
  alice = await registerAccount(ts);
  alice2 = await linkDevice(ts, alice);
  bob = await registerAccount(ts);
  bob2 = await linkDevice(ts, bob);
});
afterAll(() => ts.close());

const send = (from: TestDevice, to: string, body: unknown) => call(ts.url, 'PUT', `/v1/messages/${to}`, { auth: from.auth, body });

describe('PUT /v1/messages/:accountId', () => {
  it('accepts one ciphertext per current device and answers the server timestamp', async () => {
    const r = await send(alice, bob.accountId, sendBody([bob, bob2]));
    expect(r.status).toBe(200);
    expect(r.body).toEqual({ serverTimestamp: expect.any(Number) });
  });

  it('answers 404 for an unknown destination', async () => {
    const r = await send(alice, '00000000-0000-4000-8000-000000000000', sendBody([bob]));
    expect(r.status).toBe(404);
    expect(r.body.code).toBe('NOT_FOUND');
  });

  it('answers 409 with missing and extra devices', async () => {
    const missing = await send(alice, bob.accountId, sendBody([bob]));
    expect(missing.status).toBe(409);
    expect(missing.body).toEqual({ code: 'MISMATCHED_DEVICES', message: expect.any(String), missingDevices: [bob2.deviceId], extraDevices: [] });
    const extra = await send(alice, bob.accountId, sendBody([bob, bob2, { deviceId: 7, registrationId: 1 }]));
    expect(extra.status).toBe(409);
    expect(extra.body).toMatchObject({ missingDevices: [], extraDevices: [7] });
  });

  it('answers 410 with stale devices when a registration id changed', async () => {
    const r = await send(alice, bob.accountId, sendBody([bob, { deviceId: bob2.deviceId, registrationId: (bob2.registrationId % 16000) + 1 }]));
    expect(r.status).toBe(410);
    expect(r.body).toEqual({ code: 'STALE_DEVICES', message: expect.any(String), staleDevices: [bob2.deviceId] });
  });

  it('treats sends to the own account as sync copies that exclude the sending device', async () => {
    expect((await send(alice, alice.accountId, sendBody([alice2]))).status).toBe(200);
    const self = await send(alice, alice.accountId, sendBody([alice, alice2]));
    expect(self.status).toBe(409);
    expect(self.body.extraDevices).toEqual([1]);
    const none = await send(bob, bob.accountId, sendBody([]));
    expect(none.status).toBe(400);
  });

  it('lets a resend name a subset, but still refuses extra and stale devices', async () => {
    expect((await send(alice, bob.accountId, { ...sendBody([bob2]), resend: true })).status).toBe(200);
    expect((await send(alice, bob.accountId, { ...sendBody([{ deviceId: 9, registrationId: 1 }]), resend: true })).status).toBe(409);
    expect((await send(alice, bob.accountId, { ...sendBody([{ deviceId: 1, registrationId: (bob.registrationId % 16000) + 1 }]), resend: true })).status).toBe(410);
  });

  it('answers 413 for a ciphertext over 96 KiB, over HTTP and over the socket', async () => {
    const big = Buffer.alloc(96 * 1024 + 1, 1);
    const http = await send(alice, bob.accountId, sendBody([bob, bob2], big));
    expect(http.status).toBe(413);
    expect(http.body.code).toBe('PAYLOAD_TOO_LARGE');
    const huge = await send(alice, bob.accountId, sendBody([bob, bob2], Buffer.alloc(200 * 1024, 1)));
    expect(huge.status).toBe(413);
    const exact = await send(alice, bob.accountId, sendBody([bob, bob2], Buffer.alloc(96 * 1024, 1)));
    expect(exact.status).toBe(200);

    const socket = await TestSocket.connect(ts.url, alice.auth);
    const r = await socket.request(bob.accountId, sendBody([bob, bob2], big));
    expect(r.status).toBe(413);
    expect(r.body.code).toBe('PAYLOAD_TOO_LARGE');
    await socket.close();
  });

  it('refuses duplicate devices and empty ciphertexts', async () => {
    const dup = await send(alice, bob.accountId, sendBody([bob, bob]));
    expect(dup.status).toBe(400);
    expect(dup.body.message).toMatch(/twice/);
    const empty = await send(alice, bob.accountId, sendBody([bob, bob2], Buffer.alloc(0)));
    expect(empty.status).toBe(400);
  });

  it('keeps no sender on sealed-sender envelopes', async () => {
    const carol = await registerAccount(ts);
    expect((await send(alice, carol.accountId, sendBody([carol], 'sealed', 6))).status).toBe(200);
    expect((await send(alice, carol.accountId, sendBody([carol], 'plain', 2))).status).toBe(200);
    const socket = await TestSocket.connect(ts.url, carol.auth);
    const [sealed, plain] = await socket.backlog();
    // No client timestamp either: it would join the envelope to its sender's other rows.
    expect(sealed).toEqual({
      guid: expect.any(String),
      type: 6,
      serverTimestamp: expect.any(Number),
      content: Buffer.from('sealed').toString('base64'),
    });
    expect(plain).toMatchObject({ type: 2, sourceAccount: alice.accountId, sourceDevice: 1 });
    await socket.close();
  });
});

describe('per-device queue caps (small caps for the test; defaults 50,000 messages / 200 MiB)', () => {
  let capped: TestServer;
  let offset = 0;
  const MAX = 20;
  beforeAll(async () => {
    capped = await startTestServer({ maxQueueEnvelopes: MAX, maxQueueBytes: 100 * 1024 }, { clock: () => Date.now() + offset });
  });
  afterAll(() => capped.close());
  const sendTo = (from: TestDevice, to: TestDevice[], content: string | Buffer = 'hi') =>
    call(capped.url, 'PUT', `/v1/messages/${to[0]!.accountId}`, { auth: from.auth, body: sendBody(to, content) });

  it('an offline device takes 20 messages, then the sender gets 507 QUEUE_FULL; nothing queued is dropped, and it takes mail again once drained', async () => {
    const [a, b, c] = [await registerAccount(capped), await registerAccount(capped), await registerAccount(capped)];
    for (let i = 0; i < MAX; i++) expect((await sendTo(a, [b], `m${i}`)).status).toBe(200);
    // Before: no cap, so one sender put 300 MiB into a queue in 11 s.
    const full = await sendTo(a, [b], 'one too many');
    expect(full.status).toBe(507);
    expect(full.body).toEqual({
      code: 'QUEUE_FULL',
      message: expect.stringMatching(/^the recipient's device 1 has as many messages waiting as the server keeps for one device \(20 messages or 100 KiB\); nothing was sent/),
      retryAfterSeconds: 60,
      full: [{ accountId: b.accountId, deviceIds: [1] }],
    });
    expect(full.headers.get('retry-after')).toBe('60');
    // The same over the socket; a multi-recipient send stores for the others and names the full device.
    const socket = await TestSocket.connect(capped.url, a.auth);
    expect((await socket.request(b.accountId, sendBody([b], 'x'))).body.code).toBe('QUEUE_FULL');
    await socket.close();
    const multi = await call(capped.url, 'PUT', '/v1/messages', {
      auth: a.auth,
      body: { timestamp: Date.now(), shared: { type: 7, content: 'eA==' }, recipients: [b, c].map((d) => ({ accountId: d.accountId, devices: [{ deviceId: 1, registrationId: d.registrationId }] })) },
    });
    expect(multi.status).toBe(200);
    expect(multi.body.queueFull).toEqual([{ accountId: b.accountId, deviceIds: [1] }]);
    // Other queues are not affected: c got the multi send, b's queue is as it was.
    expect((await sendTo(a, [c], 'to c')).status).toBe(200);

    const bSocket = await TestSocket.connect(capped.url, b.auth);
    const queued = await bSocket.backlog();
    expect(queued.map((e) => Buffer.from(e.content, 'base64').toString())).toEqual(Array.from({ length: MAX }, (_, i) => `m${i}`));
    bSocket.send({ type: 'ack', guids: queued.map((e) => e.guid) });
    await bSocket.close();
    const cSocket = await TestSocket.connect(capped.url, c.auth);
    expect((await cSocket.backlog()).map((e) => Buffer.from(e.content, 'base64').toString())).toEqual(['x', 'to c']);
    await cSocket.close();
    // A full queue is read again from the database at most once a second.
    offset += 1_100;
    await expect.poll(async () => (await sendTo(a, [b], 'after drain')).status, { timeout: 5_000 }).toBe(200);
  });

  it('caps the bytes a queue holds too', async () => {
    const [a, b] = [await registerAccount(capped), await registerAccount(capped)];
    const chunk = Buffer.alloc(40 * 1024, 7);
    expect((await sendTo(a, [b], chunk)).status).toBe(200);
    expect((await sendTo(a, [b], chunk)).status).toBe(200);
    const over = await sendTo(a, [b], chunk);
    expect(over.status).toBe(507);
    expect(over.body.code).toBe('QUEUE_FULL');
    // A small one still fits under 100 KiB.
    expect((await sendTo(a, [b], 'small')).status).toBe(200);
  });
});
