import { clientFrameFromJson, deviceAuthorization } from '@kluis/protocol';
import WebSocket from 'ws';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { linkDevice, registerAccount, sendBody, type TestDevice } from '../test-support/accounts.js';
import { call } from '../test-support/http.js';
import { raceSendsAgainstBacklog } from '../test-support/racing-sends.js';
import { TestSocket } from '../test-support/socket-client.js';
import { startTestServer, type TestServer } from '../test-support/test-server.js';

let ts: TestServer;
let alice: TestDevice;

beforeAll(async () => {
  ts = await startTestServer();
  alice = await registerAccount(ts);
});
afterAll(() => ts.close());

const send = (from: TestDevice, to: TestDevice, text: string) =>
  call(ts.url, 'PUT', `/v1/messages/${to.accountId}`, { auth: from.auth, body: sendBody([to], text) });
const text = (e: { content: string }) => Buffer.from(e.content, 'base64').toString();

describe('GET /v1/socket', () => {
  it('refuses bad credentials with an HTTP 401 JSON body before upgrading', async () => {
    const bob = await registerAccount(ts);
    const cases = [
      undefined,
      'Basic !!!',
      deviceAuthorization(bob.accountId, 1, 'wrong-password-wrong-password'),
      // Bob's password with Alice's account id: another account's device.
      deviceAuthorization(alice.accountId, 1, bob.password),
      deviceAuthorization(bob.accountId, 2, bob.password),
    ];
    for (const auth of cases) {
      const err = await TestSocket.connect(ts.url, auth).then(
        () => undefined,
        (e: { status: number; body: { code: string; message: string } }) => e,
      );
      expect(err?.status).toBe(401);
      expect(err?.body.code).toBe('UNAUTHORIZED');
      expect(err?.body.message).toBeTruthy();
    }
  });

  it('pushes the backlog in order, then queue-empty, then live envelopes; acks delete', async () => {
    const bob = await registerAccount(ts);
    for (let i = 0; i < 250; i++) expect((await send(alice, bob, `m${i}`)).status).toBe(200);
    const socket = await TestSocket.connect(ts.url, bob.auth);
    const backlog = await socket.backlog();
    expect(backlog.map(text)).toEqual(Array.from({ length: 250 }, (_, i) => `m${i}`));
    expect(backlog[0]).toMatchObject({ type: 2, sourceAccount: alice.accountId, sourceDevice: 1, timestamp: expect.any(Number) });
    expect(new Set(backlog.map((e) => e.guid)).size).toBe(250);

    await send(alice, bob, 'live-1');
    await send(alice, bob, 'live-2');
    const live = [await socket.next((f) => f.type === 'envelope'), await socket.next((f) => f.type === 'envelope')];
    expect(live.map((f) => text(f.envelope))).toEqual(['live-1', 'live-2']);

    // Ack all but the last two backlog envelopes, in frames of up to 256 guids.
    const acked = [...backlog.slice(0, 248), ...live.map((f) => f.envelope)].map((e) => e.guid);
    socket.send({ type: 'ack', guids: acked.slice(0, 200) });
    socket.send({ type: 'ack', guids: acked.slice(200) });
    socket.send({ type: 'ping' });
    await socket.next((f) => f.type === 'pong');
    await socket.close();

    const again = await TestSocket.connect(ts.url, bob.auth);
    expect((await again.backlog()).map(text)).toEqual(['m248', 'm249']);
    await again.close();
  });

  it('never reorders or repeats when sends race the backlog', async () => {
    const bob = await registerAccount(ts);
    const total = 600;
    const { statuses, receiver, sender, got } = await raceSendsAgainstBacklog(ts.url, alice, bob, { total, connectAt: 200, prefix: 'r' });
    expect(statuses.every((s) => s === 200)).toBe(true);
    expect(got).toEqual(Array.from({ length: total }, (_, i) => `r${i}`));
    expect(receiver.frames.filter((f) => f.type === 'queue-empty')).toHaveLength(1);
    expect(receiver.frames.filter((f) => f.type === 'envelope')).toHaveLength(0);
    await receiver.close();
    await sender.close();
  });

  it('redelivers unacked envelopes on reconnect', async () => {
    const bob = await registerAccount(ts);
    await send(alice, bob, 'once');
    const first = await TestSocket.connect(ts.url, bob.auth);
    expect((await first.backlog()).map(text)).toEqual(['once']);
    await first.close();
    const second = await TestSocket.connect(ts.url, bob.auth);
    const [again] = await second.backlog();
    expect(text(again)).toBe('once');
    second.send({ type: 'ack', guids: [again.guid] });
    await second.close();
    const third = await TestSocket.connect(ts.url, bob.auth);
    expect(await third.backlog()).toEqual([]);
    await third.close();
  });

  it('closes the older connection of a device with 4000 when a newer one connects', async () => {
    const bob = await registerAccount(ts);
    const older = await TestSocket.connect(ts.url, bob.auth);
    await older.backlog();
    const newer = await TestSocket.connect(ts.url, bob.auth);
    expect((await older.closed).code).toBe(4000);
    await newer.backlog();
    await send(alice, bob, 'to-newer');
    expect(text((await newer.next((f) => f.type === 'envelope')).envelope)).toBe('to-newer');
    await newer.close();
  });

  it('only deletes the acking device\'s own envelopes', async () => {
    const bob = await registerAccount(ts);
    const carol = await registerAccount(ts);
    await send(alice, bob, 'for-bob');
    const bobSocket = await TestSocket.connect(ts.url, bob.auth);
    const [env] = await bobSocket.backlog();
    const carolSocket = await TestSocket.connect(ts.url, carol.auth);
    await carolSocket.backlog();
    carolSocket.send({ type: 'ack', guids: [env.guid] });
    carolSocket.send({ type: 'ping' });
    await carolSocket.next((f) => f.type === 'pong');
    await bobSocket.close();
    const bobAgain = await TestSocket.connect(ts.url, bob.auth);
    expect((await bobAgain.backlog()).map(text)).toEqual(['for-bob']);
    await bobAgain.close();
    await carolSocket.close();
  });

  it('answers bad frames with an error frame and stays up; many of them close with 1008', async () => {
    const bob = await registerAccount(ts);
    const socket = await TestSocket.connect(ts.url, bob.auth);
    await socket.backlog();
    // Binary frames that are not a valid ClientFrame, or break its bounds.
    const bad: Buffer[] = [
      Buffer.from([0xff, 0xff, 0xff]),
      Buffer.from([0x12, 0x40, 0x01]),
      Buffer.alloc(0),
      Buffer.from([0x7a, 0x00]),
      Buffer.from(clientFrameFromJson({ type: 'ack', guids: ['not-a-uuid'] })),
      Buffer.from(clientFrameFromJson({ type: 'ack', guids: [] })),
    ];
    for (const frame of bad) {
      socket.sendRaw(frame, true);
      const err = await socket.next((f) => f.type === 'error');
      expect(err).toEqual({ type: 'error', code: 'BAD_REQUEST', message: expect.any(String) });
    }
    // The JSON text wire of 0.1 is gone.
    socket.sendRaw(JSON.stringify({ type: 'ping' }));
    expect((await socket.next((f) => f.type === 'error')).message).toMatch(/text frames are not accepted/);
    // A send frame with a readable id gets a response frame with the 400.
    socket.send({ type: 'send', id: 77, destination: alice.accountId, body: { timestamp: 9e15, messages: [{ deviceId: 1, registrationId: 1, type: 2, content: 'AA==' }] } });
    const response = await socket.next((f) => f.type === 'response');
    expect(response).toMatchObject({ id: 77, status: 400, body: { code: 'BAD_REQUEST', message: expect.stringMatching(/timestamp/) } });
    // Sealed sends never travel on the device socket, next to its credential.
    socket.send({ type: 'sealed-send', id: 78, destination: alice.accountId, accessKey: Buffer.alloc(16).toString('base64'), body: { messages: [{ deviceId: 1, registrationId: 1, type: 6, content: 'AA==' }] } });
    expect(await socket.next((f) => f.type === 'response' && f.id === 78)).toMatchObject({ status: 400, body: { message: expect.stringMatching(/sealed socket/) } });
    socket.send({ type: 'ping' });
    await socket.next((f) => f.type === 'pong');
    for (let i = 0; i < 20; i++) socket.sendRaw(Buffer.from('garbage'), true);
    expect((await socket.closed).code).toBe(1008);
    expect((await call(ts.url, 'GET', '/healthz')).status).toBe(200);
  });

  it('closes with 1009 on a frame over 1 MiB and keeps serving others', async () => {
    const bob = await registerAccount(ts);
    const socket = await TestSocket.connect(ts.url, bob.auth);
    await socket.backlog();
    socket.sendRaw('x'.repeat(1024 * 1024 + 1));
    expect((await socket.closed).code).toBe(1009);
    const again = await TestSocket.connect(ts.url, bob.auth);
    again.send({ type: 'ping' });
    await again.next((f) => f.type === 'pong');
    await again.close();
  });

  it('closes a removed device with 4001 and drops its queue', async () => {
    const bob = await registerAccount(ts);
    const bob2 = await linkDevice(ts, bob);
    const socket = await TestSocket.connect(ts.url, bob2.auth);
    await socket.backlog();
    expect((await call(ts.url, 'PUT', `/v1/messages/${bob.accountId}`, { auth: alice.auth, body: sendBody([bob, bob2]) })).status).toBe(200);
    await socket.next((f) => f.type === 'envelope');
    expect((await call(ts.url, 'DELETE', `/v1/devices/${bob2.deviceId}`, { auth: bob.auth })).status).toBe(200);
    expect((await socket.closed).code).toBe(4001);
    const refused = await TestSocket.connect(ts.url, bob2.auth).catch((e: { status: number }) => e);
    expect((refused as { status: number }).status).toBe(401);
    // Sends now must name only device 1.
    const r = await call(ts.url, 'PUT', `/v1/messages/${bob.accountId}`, { auth: alice.auth, body: sendBody([bob, bob2]) });
    expect(r.status).toBe(409);
    expect(r.body.extraDevices).toEqual([bob2.deviceId]);
  });

  it('delivers sends made over the socket', async () => {
    const bob = await registerAccount(ts);
    const bobSocket = await TestSocket.connect(ts.url, bob.auth);
    await bobSocket.backlog();
    const aliceSocket = await TestSocket.connect(ts.url, alice.auth);
    const r = await aliceSocket.request(bob.accountId, sendBody([bob], 'via socket'));
    expect(r).toEqual({ status: 200, body: { serverTimestamp: expect.any(Number) } });
    expect(text((await bobSocket.next((f) => f.type === 'envelope')).envelope)).toBe('via socket');
    const mismatch = await aliceSocket.request(bob.accountId, sendBody([{ deviceId: 3, registrationId: 1 }]));
    expect(mismatch.status).toBe(409);
    expect(mismatch.body).toMatchObject({ code: 'MISMATCHED_DEVICES', missingDevices: [1], extraDevices: [3] });
    await aliceSocket.close();
    await bobSocket.close();
  });
});

const PING = Buffer.from(clientFrameFromJson({ type: 'ping' }));

describe('bounded sockets', () => {
  // The smallest buffer cap the flags allow (1 MiB); the defaults otherwise.
  let small: TestServer;
  beforeAll(async () => {
    small = await startTestServer({ socketBufferBytes: 1024 * 1024 });
  });
  afterAll(() => small.close());

  const metric = async (name: string, server = small): Promise<number> => {
    const text = await (await fetch(`${server.url}/metrics`)).text();
    const line = text.split('\n').find((l) => l.startsWith(name + ' '));
    if (!line) throw new Error(`no metric ${name}`);
    return Number(line.split(' ')[1]);
  };
  /** Stops the client reading: the server's answers pile up on its side. */
  const stopReading = (s: TestSocket) => (s.ws as unknown as { _socket: { pause(): void } })._socket.pause();
  const until = async (cond: () => Promise<boolean> | boolean, ms: number) => {
    const end = Date.now() + ms;
    while (Date.now() < end) {
      if (await cond()) return true;
      await new Promise((r) => setTimeout(r, 50));
    }
    return cond();
  };

  it('a ping flood from a socket that never reads is closed, server memory stays flat, and others keep working', async () => {
    const [carol, dave] = [await registerAccount(small), await registerAccount(small)];
    const daveSocket = await TestSocket.connect(small.url, dave.auth);
    await daveSocket.backlog();
    const flooder = await TestSocket.connect(small.url, carol.auth);
    await flooder.backlog();
    stopReading(flooder);
    global.gc?.();
    const rssBefore = process.memoryUsage().rss;
    let peak = rssBefore;
    let pings = 0;
    const end = Date.now() + 3_000;
    // Bounded in time, and by the client's own buffer (this process holds both ends).
    // Protobuf ping frames, answered by kluis itself (WebSocket ping frames: the test below).
    while (Date.now() < end && flooder.ws.readyState === flooder.ws.OPEN) {
      if (flooder.ws.bufferedAmount < 1024 * 1024) {
        for (let i = 0; i < 1_000; i++) flooder.sendRaw(PING, true);
        pings += 1_000;
      }
      peak = Math.max(peak, process.memoryUsage().rss);
      await new Promise((r) => setImmediate(r));
    }
    const growthMiB = (peak - rssBefore) / 1024 / 1024;
    console.log(`ping flood: ${pings} pings sent, server+client RSS growth ${growthMiB.toFixed(1)} MiB`);
    // Before: every JSON ping was answered into the socket's buffer, without bound.
    expect(growthMiB).toBeLessThan(64);
    expect(await until(async () => (await metric('kluis_socket_server_closes_total{reason="ping-flood"}')) >= 1, 3_000)).toBe(true);
    expect(await metric('kluis_connections')).toBe(1);
    flooder.ws.terminate();
    // The legitimate socket on the same server still delivers.
    const r = await call(small.url, 'PUT', `/v1/messages/${dave.accountId}`, { auth: carol.auth, body: sendBody([dave], 'still here') });
    expect(r.status).toBe(200);
    expect(text((await daveSocket.next((f) => f.type === 'envelope')).envelope)).toBe('still here');
    await daveSocket.close();
  }, 30_000);

  it('a JSON ping flood is closed with 1008 the same way; a few pings a second are answered', async () => {
    const carol = await registerAccount(small);
    const socket = await TestSocket.connect(small.url, carol.auth);
    await socket.backlog();
    for (let i = 0; i < 3; i++) socket.send({ type: 'ping' });
    for (let i = 0; i < 3; i++) await socket.next((f) => f.type === 'pong');
    for (let i = 0; i < 50; i++) socket.send({ type: 'ping' });
    const closed = await socket.closed;
    expect(closed.code).toBe(1008);
    expect(closed.reason).toMatch(/too many pings/);
    // WebSocket ping frames count the same (the server answers them itself, not ws).
    const other = await TestSocket.connect(small.url, carol.auth);
    await other.backlog();
    for (let i = 0; i < 50; i++) other.ws.ping(Buffer.alloc(125));
    expect((await other.closed).code).toBe(1008);
  });

  it('a client that does not read: delivery waits for it (flow control), but answers piling up past the cap close it with 4008; nothing unacked is lost', async () => {
    const [carol, dave] = [await registerAccount(small), await registerAccount(small)];
    // ~4 MiB of backlog: four times the cap, pushed only as fast as the client reads.
    const big = 'x'.repeat(60_000);
    for (let i = 0; i < 70; i++) expect((await call(small.url, 'PUT', `/v1/messages/${dave.accountId}`, { auth: carol.auth, body: sendBody([dave], `${i}:${big}`) })).status).toBe(200);
    const slow = await TestSocket.connect(small.url, dave.auth);
    stopReading(slow);
    await new Promise((r) => setTimeout(r, 1_500));
    expect(slow.ws.readyState).toBe(slow.ws.OPEN);
    const before = await metric('kluis_socket_server_closes_total{reason="slow-consumer"}');
    // Answers the server must queue: sends to an unknown account, never read.
    const unknown = '00000000-0000-4000-8000-000000000000';
    let sent = 0;
    const end = Date.now() + 10_000;
    while (Date.now() < end && slow.ws.readyState === slow.ws.OPEN && (await metric('kluis_socket_server_closes_total{reason="slow-consumer"}')) === before) {
      if (slow.ws.bufferedAmount < 256 * 1024) for (let i = 0; i < 500; i++) slow.send({ type: 'send', id: sent++, destination: unknown, body: sendBody([dave], 'x') });
      await new Promise((r) => setTimeout(r, 5));
    }
    expect(await metric('kluis_socket_server_closes_total{reason="slow-consumer"}')).toBe(before + 1);
    slow.ws.terminate();
    // Reconnect and read: the whole backlog is there, in order.
    const again = await TestSocket.connect(small.url, dave.auth);
    const backlog = await again.backlog(15_000);
    expect(backlog.map((e) => text(e).split(':')[0])).toEqual(Array.from({ length: 70 }, (_, i) => String(i)));
    await again.close();
  }, 60_000);

  it('heartbeat: unsolicited pongs do not keep a socket alive; one that echoes the ping stays', async () => {
    // A ping every second, so a faker is found within two.
    const hb = await startTestServer({ socketHeartbeatMs: 1_000 });
    const [carol, dave] = [await registerAccount(hb), await registerAccount(hb)];
    const honest = await TestSocket.connect(hb.url, dave.auth);
    // A client that never answers the server's pings but sends pongs of its own.
    const ws = new WebSocket(hb.url.replace(/^http/, 'ws') + '/v1/socket', { headers: { authorization: carol.auth }, autoPong: false });
    await new Promise((resolve, reject) => ws.once('open', resolve).once('error', reject));
    const faker = setInterval(() => ws.pong(Buffer.alloc(16)), 100);
    const started = Date.now();
    const closed = await new Promise<number>((resolve) => ws.once('close', () => resolve(Date.now() - started)));
    clearInterval(faker);
    // Before: each unsolicited pong counted as alive and the socket stayed forever.
    expect(closed).toBeLessThan(3_000);
    expect(await metric('kluis_socket_server_closes_total{reason="heartbeat"}', hb)).toBe(1);
    expect(honest.ws.readyState).toBe(honest.ws.OPEN);
    await honest.close();
    await hb.close();
  }, 15_000);
});
