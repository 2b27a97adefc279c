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
    expect(sealed).toEqual({
      guid: expect.any(String),
      type: 6,
      timestamp: expect.any(Number),
      serverTimestamp: expect.any(Number),
      content: Buffer.from('sealed').toString('base64'),
    });
    expect(plain).toMatchObject({ type: 2, sourceAccount: alice.accountId, sourceDevice: 1 });
    await socket.close();
  });
});
