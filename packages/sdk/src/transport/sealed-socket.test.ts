import { once } from 'node:events';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { WebSocketServer, type WebSocket } from 'ws';
import { clientFrameToJson, MAX_SOCKET_FRAME_BYTES, serverFrameFromJson, type JsonClientFrame } from '@kluis/protocol';
import { NetworkError, ServerError } from '../errors.js';
import { SealedSocket, sealedSocketUrl } from './sealed-socket.js';
import { DeviceSocket } from './socket.js';

/**
 * The sealed socket against a stand-in server: what its upgrade carries (nothing of the
 * device), its frames, and when it falls back (NetworkError) or gives up.
 */

const ACCOUNT = '11111111-1111-4111-8111-111111111111';
const KEY = new Uint8Array(16).fill(9);

interface Stub {
  url: string;
  upgrades: Array<{ path: string; headers: IncomingHttpHeaders }>;
  frames: JsonClientFrame[];
  sockets: WebSocket[];
  /** Answer the next upgrades with this status instead of accepting them. */
  refuse: number | undefined;
  /** Answer sends (default 200); undefined leaves them unanswered. */
  answer: ((f: JsonClientFrame) => { status: number; body: unknown } | undefined) | undefined;
}

let http: Server | undefined;
const open: Array<{ stop(): Promise<void> }> = [];
afterEach(async () => {
  for (const s of open.splice(0)) await s.stop();
  if (http) {
    http.closeAllConnections();
    await new Promise((r) => http!.close(r));
  }
  http = undefined;
});

async function stub(): Promise<Stub> {
  const wss = new WebSocketServer({ noServer: true });
  const s: Stub = { url: '', upgrades: [], frames: [], sockets: [], refuse: undefined, answer: () => ({ status: 200, body: { serverTimestamp: 5 } }) };
  http = createServer((_req, res) => res.writeHead(404).end());
  http.on('upgrade', (req, socket, head) => {
    s.upgrades.push({ path: req.url ?? '', headers: req.headers });
    if (s.refuse !== undefined) {
      socket.end(`HTTP/1.1 ${s.refuse} No\r\ncontent-type: application/json\r\nconnection: close\r\n\r\n{"code":"NO","message":"no"}`);
      return;
    }
    wss.handleUpgrade(req, socket, head, (ws) => {
      s.sockets.push(ws);
      ws.on('message', (data) => {
        const f = clientFrameToJson(data as Buffer);
        s.frames.push(f);
        if (!('id' in f)) return;
        const a = s.answer?.(f);
        if (a) ws.send(serverFrameFromJson({ type: 'response', id: f.id, status: a.status, body: a.body }));
      });
    });
  });
  http.listen(0, '127.0.0.1');
  await once(http, 'listening');
  s.url = `http://127.0.0.1:${(http.address() as AddressInfo).port}`;
  return s;
}

function sealed(s: Stub, errors: Error[] = []): SealedSocket {
  const socket = new SealedSocket({ url: () => sealedSocketUrl(s.url), backoffMinMs: 20, backoffMaxMs: 40, onError: (e) => errors.push(e) });
  open.push(socket);
  return socket;
}

const messages = [{ deviceId: 1, registrationId: 7, type: 6, content: new Uint8Array([1, 2, 3]) }];
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('SealedSocket', () => {
  it('opens /v1/sealed-socket with no credential and nothing of the device beside it', async () => {
    const s = await stub();
    const device = new DeviceSocket({ url: () => s.url.replace('http', 'ws') + '/v1/socket', authorization: () => 'Basic ZGV2aWNlOnNlY3JldA==' }, { onEnvelope() {}, onQueueEmpty() {}, onState() {}, onError() {} });
    open.push(device);
    await device.start();
    await sealed(s).start();
    const [d, u] = s.upgrades;
    expect(d!.headers.authorization).toBe('Basic ZGV2aWNlOnNlY3JldA==');
    expect(u!.path).toBe('/v1/sealed-socket');
    expect(u!.headers.authorization).toBeUndefined();
    expect(u!.headers.cookie).toBeUndefined();
    // The two upgrades differ only in the path, the credential and ws's random key.
    const strip = ({ authorization: _a, 'sec-websocket-key': _k, ...rest }: IncomingHttpHeaders) => rest;
    expect(strip(u!.headers)).toEqual(strip(d!.headers));
    // A connection of its own: not the device socket's.
    expect(s.sockets[0]).not.toBe(s.sockets[1]);
  });

  it('sends sealed 1:1 and multi-recipient frames (raw bytes, the access key) and resolves with their answers', async () => {
    const s = await stub();
    const socket = sealed(s);
    await socket.start();
    expect(await socket.send(ACCOUNT, { messages, online: true }, KEY)).toEqual({ status: 200, body: { serverTimestamp: 5 } });
    s.answer = () => ({ status: 401, body: { code: 'UNAUTHORIZED', message: 'missing or wrong unidentified-access key' } });
    // A 4xx is an answer like any other, not a transport failure.
    expect(await socket.sendMulti(new Uint8Array([4, 5]), KEY, false, true)).toEqual({ status: 401, body: { code: 'UNAUTHORIZED', message: 'missing or wrong unidentified-access key' } });
    const key = Buffer.from(KEY).toString('base64');
    expect(s.frames).toEqual([
      { type: 'sealed-send', id: 1, destination: ACCOUNT, accessKey: key, body: { messages: [{ deviceId: 1, registrationId: 7, type: 6, content: 'AQID' }], resend: false, online: true, shortLived: false } },
      { type: 'sealed-multi-send', id: 2, accessKey: key, body: { message: 'BAU=', online: false, shortLived: true } },
    ]);
  });

  it('refuses a frame above the server frame limit with a NetworkError, sending nothing', async () => {
    const s = await stub();
    const socket = sealed(s);
    await socket.start();
    await expect(socket.sendMulti(new Uint8Array(MAX_SOCKET_FRAME_BYTES), KEY, false)).rejects.toBeInstanceOf(NetworkError);
    await expect(socket.send(ACCOUNT, { messages: [{ ...messages[0]!, content: new Uint8Array(MAX_SOCKET_FRAME_BYTES) }] }, KEY)).rejects.toBeInstanceOf(NetworkError);
    await sleep(50);
    expect(s.frames).toEqual([]);
  });

  it('a drop mid-request rejects with NetworkError, and the socket reconnects on its own', async () => {
    const s = await stub();
    s.answer = () => undefined;
    const socket = sealed(s);
    await socket.start();
    const pending = socket.send(ACCOUNT, { messages }, KEY);
    await until(() => s.frames.length === 1);
    s.sockets[0]!.terminate();
    await expect(pending).rejects.toBeInstanceOf(NetworkError);
    await until(() => socket.isOpen && s.sockets.length === 2);
    expect(socket.isRunning).toBe(true);
  });

  it('a refused upgrade (4xx: no such route, an older server) ends it for good; sends stay on HTTP', async () => {
    const s = await stub();
    s.refuse = 404;
    const socket = sealed(s);
    await expect(socket.start()).rejects.toBeInstanceOf(ServerError);
    await sleep(200);
    expect(socket.isRunning).toBe(false);
    expect(s.upgrades).toHaveLength(1);
    await expect(socket.send(ACCOUNT, { messages }, KEY)).rejects.toBeInstanceOf(NetworkError);
  });

  it('a server that is not ready (5xx) or a refusal mid-life: keeps trying, then gives up only on a 4xx', async () => {
    const s = await stub();
    s.refuse = 503;
    const socket = sealed(s);
    await expect(socket.start()).rejects.toBeInstanceOf(ServerError);
    expect(socket.isRunning).toBe(true);
    await until(() => s.upgrades.length >= 3);
    s.refuse = undefined;
    await until(() => socket.isOpen);
    // Reconnecting after a drop, the route is gone: it stops rather than knock forever.
    s.refuse = 400;
    s.sockets.at(-1)!.terminate();
    await until(() => !socket.isRunning);
    const n = s.upgrades.length;
    await sleep(200);
    expect(s.upgrades).toHaveLength(n);
  });

  it('reports a pushed envelope as a protocol error (the sealed socket has no queue)', async () => {
    const s = await stub();
    const errors: Error[] = [];
    const socket = sealed(s, errors);
    await socket.start();
    s.sockets[0]!.send(serverFrameFromJson({ type: 'envelope', envelope: { guid: 'g', type: 6, serverTimestamp: 1, content: 'AA==' } }));
    await until(() => errors.length === 1);
    expect(errors[0]).toBeInstanceOf(NetworkError);
  });
});

async function until(cond: () => boolean, ms = 3000): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error('condition not met in time');
    await sleep(10);
  }
}
