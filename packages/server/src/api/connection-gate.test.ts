import { EventEmitter } from 'node:events';
import type { Server } from 'node:http';
import { connect, type Socket } from 'node:net';
import { PassThrough } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { registerAccount } from '../test-support/accounts.js';
import { TestSocket } from '../test-support/socket-client.js';
import { startTestServer, type TestServer } from '../test-support/test-server.js';
import { ConnectionGate, defaultMaxConnections, HEALTH_HEADROOM } from './connection-gate.js';

interface Idle {
  socket: Socket;
  openedAt: number;
  /** Milliseconds from connect to close, once closed. */
  lived?: number;
  data: string;
}

/** A TCP connection that sends nothing (or only `send`), and records what it gets and when it goes. */
function idleSocket(port: number, send?: string): Promise<Idle> {
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1');
    const idle: Idle = { socket, openedAt: Date.now(), data: '' };
    socket.on('data', (d) => (idle.data += d.toString()));
    socket.on('error', () => {});
    socket.on('close', () => (idle.lived = Date.now() - idle.openedAt));
    socket.once('connect', () => {
      if (send) socket.write(send);
      resolve(idle);
    });
  });
}

const until = async (cond: () => boolean, ms: number): Promise<boolean> => {
  const end = Date.now() + ms;
  while (Date.now() < end && !cond()) await new Promise((r) => setTimeout(r, 25));
  return cond();
};

const timed = async <T>(fn: () => Promise<T>): Promise<{ value: T; ms: number }> => {
  const t = Date.now();
  const value = await fn();
  return { value, ms: Date.now() - t };
};

describe('connections: timeouts and caps', () => {
  let ts: TestServer;
  const port = () => Number(new URL(ts.url).port);
  beforeAll(async () => {
    ts = await startTestServer({ maxConnections: 200, idleTimeoutMs: 2_000 });
  });
  afterAll(() => ts.close());

  it('300 idle connections against a cap of 200: the oldest make way, /healthz and real clients still get in, idle ones go within the timeout', async () => {
    const sockets: Idle[] = [];
    for (let i = 0; i < 300; i++) sockets.push(await idleSocket(port()));
    // The cap holds: at most 200 of them stay open (the 100 oldest were closed to make room).
    expect(await until(() => sockets.filter((s) => s.lived === undefined).length <= 200, 2_000)).toBe(true);
    expect(sockets.slice(0, 100).every((s) => s.lived !== undefined)).toBe(true);

    const metrics = await (await fetch(`${ts.url}/metrics`)).text();
    expect(Number(/^kluis_tcp_connections (\d+)$/m.exec(metrics)?.[1])).toBeLessThanOrEqual(200);
    expect(Number(/^kluis_connections_evicted_total (\d+)$/m.exec(metrics)?.[1])).toBeGreaterThanOrEqual(100);
    // Health check with 200 idle connections held: answered, promptly.
    const health = await timed(() => fetch(`${ts.url}/healthz`));
    expect(health.value.status).toBe(200);
    console.log(`/healthz under 300 idle sockets: ${health.ms} ms`);
    expect(health.ms).toBeLessThan(1_000);

    // Every idle connection is gone within the idle timeout (2 s) plus Node's 1 s check.
    expect(await until(() => sockets.every((s) => s.lived !== undefined), 5_000)).toBe(true);
    const longest = Math.max(...sockets.map((s) => s.lived!));
    console.log(`idle connection lifetime: at most ${longest} ms`);
    expect(longest).toBeLessThan(4_000);
    // Those that timed out were told so, in the project's shape.
    const timedOut = sockets.slice(200).filter((s) => s.data !== '');
    expect(timedOut.length).toBeGreaterThan(0);
    expect(timedOut[0]!.data).toMatch(/^HTTP\/1\.1 408 [\s\S]*"code":"REQUEST_TIMEOUT"/);

    // A real client registers and opens its socket.
    const device = await registerAccount(ts);
    const socket = await TestSocket.connect(ts.url, device.auth);
    await socket.backlog();
    await socket.close();
  }, 30_000);

  it('when every connection is busy: the headroom above the cap serves only health checks', async () => {
    // 200 connections with a request under way (a body that never comes): nothing idle to close.
    const busy: Idle[] = [];
    const stalled = 'POST /v1/accounts HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n';
    for (let i = 0; i < 200; i++) busy.push(await idleSocket(port(), stalled));
    await new Promise((r) => setTimeout(r, 200));
    // In the headroom: /healthz is answered (and the connection closed), anything else 503.
    const health = await idleSocket(port(), 'GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n');
    expect(await until(() => health.lived !== undefined, 2_000)).toBe(true);
    expect(health.data).toMatch(/^HTTP\/1\.1 200 /);
    const other = await idleSocket(port(), 'GET /v1/nodes HTTP/1.1\r\nHost: x\r\n\r\n');
    expect(await until(() => other.lived !== undefined, 2_000)).toBe(true);
    expect(other.data).toMatch(/^HTTP\/1\.1 503 [\s\S]*"code":"UNAVAILABLE","message":"this server has too many open connections; try again shortly"/);
    for (const s of busy) s.socket.destroy();
    // Once they are gone the server serves as before.
    await new Promise((r) => setTimeout(r, 200));
    expect((await fetch(`${ts.url}/v1/nodes`)).status).toBe(200);
  }, 30_000);
});

describe('ConnectionGate', () => {
  /** A stand-in for a TCP socket from `address`. */
  const fake = (address: string) => Object.assign(new PassThrough(), { remoteAddress: address }) as unknown as Socket;

  it('caps connections per source address (IPv6 by /64), in memory only, and forgets an address when its last one closes', () => {
    const refused: string[] = [];
    const gate = new ConnectionGate({ maxConnections: 100, maxPerSource: 2, onRefused: (cap) => refused.push(cap) });
    const a = [fake('203.0.113.7'), fake('::ffff:203.0.113.7')];
    for (const s of a) gate.onConnection(s);
    const third = fake('203.0.113.7');
    gate.onConnection(third);
    expect(refused).toEqual(['source']);
    expect(gate.isRefused(third)).toBe(true);
    // Another address is not affected; one /64 counts as one source.
    gate.onConnection(fake('198.51.100.1'));
    gate.onConnection(fake('2001:db8:1:2::1'));
    gate.onConnection(fake('2001:db8:1:2:ffff::9'));
    gate.onConnection(fake('2001:db8:1:2:abcd:0:0:1'));
    expect(refused).toEqual(['source', 'source']);
    // Loopback (a local reverse proxy) is never capped per source.
    for (let i = 0; i < 5; i++) gate.onConnection(fake('127.0.0.1'));
    for (let i = 0; i < 5; i++) gate.onConnection(fake('::1'));
    expect(refused).toHaveLength(2);
    expect(gate.sources).toBe(3);
    for (const s of a) s.emit('close');
    expect(gate.sources).toBe(2);
  });

  it('past the cap and a full headroom, with nothing idle to close: refused at once with a 503 answer', async () => {
    const refused: string[] = [];
    const gate = new ConnectionGate({ maxConnections: 2, maxPerSource: 0, onRefused: (cap) => refused.push(cap) });
    const server = new EventEmitter();
    gate.attach(server as unknown as Server);
    // Two busy connections (a request under way) and a full headroom of busy ones.
    const busy = Array.from({ length: 2 + HEALTH_HEADROOM }, () => fake('127.0.0.1'));
    for (const s of busy) {
      server.emit('connection', s);
      server.emit('request', { socket: s }, new EventEmitter());
    }
    expect(gate.connections).toBe(2 + HEALTH_HEADROOM);
    expect(busy.slice(2).every((s) => gate.inHeadroom(s))).toBe(true);
    const late = fake('127.0.0.1');
    let answer = '';
    late.on('data', () => {});
    (late as unknown as PassThrough).write = ((chunk: string) => ((answer += chunk), true)) as never;
    const end = (late as unknown as PassThrough).end.bind(late);
    (late as unknown as PassThrough).end = ((chunk: string) => ((answer += chunk), end())) as never;
    server.emit('connection', late);
    expect(refused).toEqual(['total']);
    expect(gate.isRefused(late)).toBe(true);
    expect(answer).toMatch(/^HTTP\/1\.1 503 [\s\S]*"code":"UNAVAILABLE"/);
    // An idle one (no request under way) is closed to make room instead of refusing.
    busy[0]!.emit('close');
    const idle = fake('127.0.0.1');
    server.emit('connection', idle);
    const next = fake('127.0.0.1');
    server.emit('connection', next);
    expect(idle.destroyed).toBe(true);
    expect(gate.isRefused(next)).toBe(false);
    expect(refused).toEqual(['total']);
  });

  it('derives the default cap from the open-file limit', () => {
    expect(defaultMaxConnections({ soft: 1024, hard: 524288 })).toBe(1024 - 512 - HEALTH_HEADROOM);
    expect(defaultMaxConnections({ soft: 65536, hard: 65536 })).toBe(65536 - 512 - HEALTH_HEADROOM);
    expect(defaultMaxConnections({ soft: 256, hard: 256 })).toBe(64);
  });
});
