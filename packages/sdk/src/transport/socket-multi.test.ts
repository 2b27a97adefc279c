import { once } from 'node:events';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { WebSocketServer } from 'ws';
import { clientFrameToJson, MAX_SOCKET_FRAME_BYTES, serverFrameFromJson } from '@kluis/protocol';
import { NetworkError } from '../errors.js';
import { DeviceSocket, type MultiSendBody } from './socket.js';

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
      const f = clientFrameToJson(data as Buffer);
      frames.push(f);
      if (f.type === 'send-multi') ws.send(serverFrameFromJson({ type: 'response', id: f.id, status: 200, body: { serverTimestamp: 5 } }));
    });
  });
  return { url: `ws://127.0.0.1:${(wss.address() as AddressInfo).port}/v1/socket`, frames };
}

function body(deviceCount: number, contentBytes: number): MultiSendBody {
  const content = new Uint8Array(Buffer.alloc(contentBytes, 7));
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
    expect(await socket.requestMulti({ ...body(2, 10), shortLived: true })).toEqual({ status: 200, body: { serverTimestamp: 5 } });
    const content = Buffer.alloc(10, 7).toString('base64');
    const devices = [1, 2].map((deviceId) => ({ deviceId, registrationId: 1, type: 2, content }));
    expect(server.frames).toEqual([
      { type: 'send-multi', id: expect.any(Number), body: { timestamp: 1, online: false, shortLived: true, urgent: false, recipients: [{ accountId: ACCOUNT, devices }] } },
    ]);
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
