import { once } from 'node:events';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { WebSocketServer } from 'ws';
import { MAX_SOCKET_FRAME_BYTES, type MultiSendRequest } from '@kluis/protocol';
import { NetworkError } from '../errors.js';
import { DeviceSocket } from './socket.js';

let wss: WebSocketServer | undefined;
let socket: DeviceSocket | undefined;
afterEach(async () => {
  await socket?.stop();
  await new Promise((resolve) => (wss ? wss.close(resolve) : resolve(undefined)));
  wss = socket = undefined;
});

const ACCOUNT = '11111111-1111-4111-8111-111111111111';

/** A server that answers every send-multi frame with 200 and records what it got. */
async function answering(): Promise<{ url: string; frames: unknown[] }> {
  wss = new WebSocketServer({ host: '127.0.0.1', port: 0 });
  await once(wss, 'listening');
  const frames: unknown[] = [];
  wss.on('connection', (ws) => {
    ws.on('message', (data) => {
      const f = JSON.parse(data.toString()) as { type: string; id: number };
      frames.push(f);
      if (f.type === 'send-multi') ws.send(JSON.stringify({ type: 'response', id: f.id, status: 200, body: { serverTimestamp: 5 } }));
    });
  });
  return { url: `ws://127.0.0.1:${(wss.address() as AddressInfo).port}/v1/socket`, frames };
}

function body(deviceCount: number, contentBytes: number): MultiSendRequest {
  const content = Buffer.alloc(contentBytes, 7).toString('base64');
  return {
    timestamp: 1,
    recipients: [{ accountId: ACCOUNT, devices: Array.from({ length: deviceCount }, (_, i) => ({ deviceId: i + 1, registrationId: 1, type: 2 as const, content })) }],
  };
}

describe('DeviceSocket.requestMulti', () => {
  it("sends a 'send-multi' frame and resolves with its response", async () => {
    const server = await answering();
    socket = new DeviceSocket({ url: () => server.url, authorization: () => undefined }, { onEnvelope() {}, onQueueEmpty() {}, onState() {}, onError() {} });
    await socket.start();
    expect(await socket.requestMulti(body(2, 10))).toEqual({ status: 200, body: { serverTimestamp: 5 } });
    expect(server.frames).toEqual([{ type: 'send-multi', id: expect.any(Number), body: body(2, 10) }]);
  });

  it('refuses a frame above the server frame limit with a NetworkError (the caller goes over HTTP), sending nothing', async () => {
    const server = await answering();
    socket = new DeviceSocket({ url: () => server.url, authorization: () => undefined }, { onEnvelope() {}, onQueueEmpty() {}, onState() {}, onError() {} });
    await socket.start();
    const big = body(6, Math.ceil(MAX_SOCKET_FRAME_BYTES / 6));
    await expect(socket.requestMulti(big)).rejects.toBeInstanceOf(NetworkError);
    await new Promise((r) => setTimeout(r, 50));
    expect(server.frames).toEqual([]);
  });
});
