import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { registerAccount, sendBody, type TestDevice } from '../test-support/accounts.js';
import { call } from '../test-support/http.js';
import { raceSendsAgainstBacklog } from '../test-support/racing-sends.js';
import { TestSocket } from '../test-support/socket-client.js';
import { startTestServer, type TestServer } from '../test-support/test-server.js';
import { rescanReader } from './queue-reader.js';

/*
 * The reader a shared store (PostgreSQL) gets, on SQLite: the socket's rescan path runs
 * in `npm test` too, not only in the cluster suites.
 */
let ts: TestServer;
let alice: TestDevice;

beforeAll(async () => {
  ts = await startTestServer({}, { queueReader: rescanReader });
  alice = await registerAccount(ts);
});
afterAll(() => ts.close());

const send = (from: TestDevice, to: TestDevice, text: string) =>
  call(ts.url, 'PUT', `/v1/messages/${to.accountId}`, { auth: from.auth, body: sendBody([to], text) });
const text = (e: { content: string }) => Buffer.from(e.content, 'base64').toString();

describe('a socket with the rescan reader', () => {
  it('pushes a backlog of several pages in order, then live sends; acked envelopes are not pushed again', async () => {
    const bob = await registerAccount(ts);
    for (let i = 0; i < 250; i++) expect((await send(alice, bob, `m${i}`)).status).toBe(200);
    const socket = await TestSocket.connect(ts.url, bob.auth);
    const backlog = await socket.backlog();
    expect(backlog.map(text)).toEqual(Array.from({ length: 250 }, (_, i) => `m${i}`));
    socket.send({ type: 'ack', guids: backlog.slice(0, 248).map((e) => e.guid) });

    // Each live send makes the socket re-read the whole queue: only the new one goes out.
    await send(alice, bob, 'live-1');
    await send(alice, bob, 'live-2');
    const live = [await socket.next((f) => f.type === 'envelope'), await socket.next((f) => f.type === 'envelope')];
    expect(live.map((f) => text(f.envelope))).toEqual(['live-1', 'live-2']);
    socket.send({ type: 'ping' });
    await socket.next((f) => f.type === 'pong');
    expect(socket.frames.filter((f) => f.type === 'envelope')).toHaveLength(0);
    await socket.close();

    const again = await TestSocket.connect(ts.url, bob.auth);
    expect((await again.backlog()).map(text)).toEqual(['m248', 'm249', 'live-1', 'live-2']);
    await again.close();
  });

  it('never reorders or repeats when sends race the backlog', async () => {
    const bob = await registerAccount(ts);
    const total = 400;
    const { statuses, receiver, sender, got } = await raceSendsAgainstBacklog(ts.url, alice, bob, { total, connectAt: 150, prefix: 'r' });
    expect(statuses.every((s) => s === 200)).toBe(true);
    expect(got).toEqual(Array.from({ length: total }, (_, i) => `r${i}`));
    receiver.send({ type: 'ping' });
    await receiver.next((f) => f.type === 'pong');
    expect(receiver.frames.filter((f) => f.type === 'queue-empty')).toHaveLength(1);
    expect(receiver.frames.filter((f) => f.type === 'envelope')).toHaveLength(0);
    await receiver.close();
    await sender.close();
  });
});
