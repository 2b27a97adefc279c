/**
 * MultiSender against the real server: one PUT /v1/messages (or 'send-multi' frame) for
 * many accounts, reconciliation, and exactly-once decryption on every device. Recipients
 * read their queues over a raw socket and decrypt with libsignal on their own stores, so
 * the test counts ciphertexts, whatever the receive pipeline does with the content.
 */
import { randomUUID } from 'node:crypto';
import {
  PreKeySignalMessage,
  ProtocolAddress,
  SignalMessage,
  sealedSenderDecryptToUsmc,
  signalDecrypt,
  signalDecryptPreKey,
} from '@signalapp/libsignal-client';
import WebSocket from 'ws';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { clientFrameFromJson, EnvelopeType, serverFrameToJson, type JsonServerFrame, type MultiSendRequest } from '@kluis/protocol';

type Envelope = Extract<JsonServerFrame, { type: 'envelope' }>['envelope'];
import { Harness, type TestServer } from '../../../test/harness/index.js';
import { linkDevice } from '../../../test/harness/sdk-helpers.js';
import type { Client } from './client.js';
import type { Ctx } from './context.js';
import { MultiSender } from './multi-sender.js';
import { socketUrl } from './transport/socket.js';
import { internalsOf, servicesOf } from './testing/services.js';

const h = new Harness();
let server: TestServer;
let n = 0;
const uniq = (base: string) => `${base}${n++}`;

beforeAll(async () => {
  server = await h.startServer();
});
afterAll(() => h.dispose());

async function user(base: string): Promise<{ client: Client; name: string; id: string }> {
  const name = uniq(base);
  const client = await h.registeredClient(server, name);
  return { client, name, id: client.account!.accountId };
}

const ctxOf = (client: Client) => servicesOf(client).ctx;

/** A MultiSender on the client's own context, with every multi request recorded. */
function multiOf(client: Client): { multi: MultiSender; requests: Array<{ req: MultiSendRequest; status: number }> } {
  const ctx = ctxOf(client);
  const requests: Array<{ req: MultiSendRequest; status: number }> = [];
  const recorded: Ctx = {
    ...ctx,
    transmitMulti: async (req) => {
      const res = await ctx.transmitMulti(req);
      requests.push({ req, status: res.status });
      return res;
    },
  };
  return { multi: new MultiSender(recorded, internalsOf(client).sender), requests };
}

/** Test plaintexts carry a marker: a linked device also gets the SDK's own sync content from its primary. */
const MARK = 'multi-sender-test:';
const bytes = (text: string) => new TextEncoder().encode(MARK + text) as Uint8Array<ArrayBuffer>;

/**
 * The device's queue over a raw socket (not as a Client): envelopes are collected from
 * the backlog on (and live ones as they come), decrypted with the device's own stores,
 * acked on close.
 */
async function listen(client: Client): Promise<{ read(): Promise<string[]>; close(): Promise<void> }> {
  const ctx = ctxOf(client);
  const me = ctx.me();
  const ws = new WebSocket(socketUrl(me.serverUrl), { headers: { authorization: ctx.api().authorization()! } });
  const pending: Envelope[] = [];
  const guids: string[] = [];
  await new Promise<void>((resolve, reject) => {
    ws.on('error', reject);
    ws.on('message', (data) => {
      const f = serverFrameToJson(data as Buffer) as { type: string; envelope?: Envelope };
      if (f.type === 'envelope') pending.push(f.envelope!);
      if (f.type === 'queue-empty') resolve();
    });
  });
  const ad = ctx.adapters();
  const local = ProtocolAddress.new(me.accountId, me.deviceId);
  // Every envelope is decrypted (a failure throws), only marked plaintexts are returned.
  return {
    async read() {
      const out: string[] = [];
      for (const env of pending.splice(0)) {
        guids.push(env.guid);
        let remote: ProtocolAddress;
        let body = Buffer.from(env.content, 'base64') as Buffer<ArrayBuffer>;
        let type: number = env.type;
        if (type === EnvelopeType.Sealed) {
          // The SDK's own sync copies to a linked device are sealed: open the outer layer.
          const usmc = await sealedSenderDecryptToUsmc(body, ad.identity);
          remote = ProtocolAddress.new(usmc.senderCertificate().senderUuid(), usmc.senderCertificate().senderDeviceId());
          body = Buffer.from(usmc.contents()) as Buffer<ArrayBuffer>;
          type = usmc.msgType();
        } else remote = ProtocolAddress.new(env.sourceAccount!, env.sourceDevice!);
        const plain =
          type === EnvelopeType.PreKey
            ? await signalDecryptPreKey(PreKeySignalMessage.deserialize(body), remote, local, ad.sessions, ad.identity, ad.preKeys, ad.signedPreKeys, ad.kyberPreKeys)
            : await signalDecrypt(SignalMessage.deserialize(body), remote, local, ad.sessions, ad.identity);
        const text = new TextDecoder().decode(plain);
        if (text.startsWith(MARK)) out.push(text.slice(MARK.length));
      }
      return out;
    },
    close: () =>
      new Promise<void>((resolve) => {
        if (guids.length > 0) ws.send(clientFrameFromJson({ type: 'ack', guids }));
        ws.once('close', () => resolve());
        // Let the ack reach the server before the close frame.
        setTimeout(() => ws.close(1000), 50);
      }),
  };
}

/** Everything queued for the device, decrypted, then acked. */
async function drain(client: Client): Promise<string[]> {
  const l = await listen(client);
  const out = await l.read();
  await l.close();
  return out;
}

describe('MultiSender', () => {
  it('sendToAccounts: 3 accounts (one with 2 devices) in one request; every device decrypts the plaintext exactly once', async () => {
    const alice = await user('alice');
    const bob = await user('bob');
    const carol = await user('carol');
    const dave = await user('dave');
    const bob2 = await h.openClient(bob.name + '-2');
    await linkDevice(bob.client, bob2, server.url);
    // The sender on its socket: the request goes as a 'send-multi' frame.
    await alice.client.connect();

    const { multi, requests } = multiOf(alice.client);
    const overHttp = vi.spyOn(ctxOf(alice.client).api(), 'sendMulti');
    const timestamp = Date.now();
    const r = await multi.sendToAccounts([bob.id, carol.id, dave.id], bytes('to the group'), timestamp);
    expect(overHttp).not.toHaveBeenCalled();
    expect(r).toEqual({ serverTimestamp: expect.any(Number), devices: 4, blocked: [], unknownAccounts: [] });
    expect(requests.map((x) => x.status)).toEqual([200]);
    expect(requests[0]!.req.recipients.map((x) => [x.accountId, x.devices.map((d) => d.deviceId)])).toEqual([
      [bob.id, [1, 2]],
      [carol.id, [1]],
      [dave.id, [1]],
    ]);
    for (const c of [bob.client, bob2, carol.client, dave.client]) expect(await drain(c)).toEqual(['to the group']);
    // Acked: nothing comes again.
    for (const c of [bob.client, bob2, carol.client, dave.client]) expect(await drain(c)).toEqual([]);
  });

  it('sent = received over several sends, sync copies to the own other device included', async () => {
    const alice = await user('alice');
    const alice2 = await h.openClient(alice.name + '-2');
    await linkDevice(alice.client, alice2, server.url);
    const bob = await user('bob');
    const carol = await user('carol');
    const { multi } = multiOf(alice.client);
    const sent = ['one', 'two', 'three'];
    let devices = 0;
    for (const [i, body] of sent.entries()) {
      const r = await multi.sendToAccounts([bob.id, carol.id, alice.id], bytes(body), Date.now() + i);
      devices += r.devices;
    }
    expect(devices).toBe(9);
    const received = [await drain(bob.client), await drain(carol.client), await drain(alice2)];
    expect(received).toEqual([sent, sent, sent]);
    expect(received.flat()).toHaveLength(devices);
  });

  it('reconciles: a device added after the sessions were built (409), an account deleted meanwhile (404)', async () => {
    const alice = await user('alice');
    const bob = await user('bob');
    const carol = await user('carol');
    const gone = await user('gone');
    const { multi, requests } = multiOf(alice.client);
    let timestamp = Date.now();
    expect((await multi.sendToAccounts([bob.id, carol.id, gone.id], bytes('first'), timestamp)).devices).toBe(3);

    const bob2 = await h.openClient(bob.name + '-2');
    await linkDevice(bob.client, bob2, server.url);
    const del = await fetch(`${server.url}/admin/accounts/${gone.id}`, { method: 'DELETE', headers: { authorization: `Bearer ${server.operatorToken}` } });
    expect(del.status).toBe(200);

    requests.length = 0;
    timestamp += 1;
    const r = await multi.sendToAccounts([bob.id, carol.id, gone.id], bytes('second'), timestamp);
    expect(r).toEqual({ serverTimestamp: expect.any(Number), devices: 3, blocked: [], unknownAccounts: [gone.id] });
    expect(requests.map((x) => x.status)).toEqual([404, 409, 200]);
    expect(multi.knownDevices(bob.id)).toEqual([1, 2]);

    expect(await drain(bob.client)).toEqual(['first', 'second']);
    expect(await drain(bob2)).toEqual(['second']);
    expect(await drain(carol.client)).toEqual(['first', 'second']);
  });

  it('an identity change blocks only that account; an account id the server does not know is dropped', async () => {
    const alice = await user('alice');
    const bob = await user('bob');
    const carol = await user('carol');
    const { multi } = multiOf(alice.client);
    let timestamp = Date.now();
    await multi.sendToAccounts([bob.id, carol.id], bytes('before'), timestamp);
    await bob.client.reregister();
    const nobody = randomUUID();
    timestamp += 1;
    const r = await multi.sendToAccounts([bob.id, carol.id, nobody], bytes('after'), timestamp);
    expect(r).toMatchObject({ devices: 1, blocked: [bob.id], unknownAccounts: [nobody] });
    expect(await drain(carol.client)).toEqual(['before', 'after']);
  });

  it('online: reaches connected devices only; an offline device finds nothing later and still decrypts what follows', async () => {
    const alice = await user('alice');
    const bob = await user('bob');
    const carol = await user('carol');
    const { multi } = multiOf(alice.client);
    let timestamp = Date.now();
    await multi.sendToAccounts([bob.id, carol.id], bytes('hello'), timestamp);
    const atBob = await listen(bob.client);
    expect(await atBob.read()).toEqual(['hello']);

    timestamp += 1;
    const r = await multi.sendToAccounts([bob.id, carol.id], bytes('typing'), timestamp, { online: true });
    expect(r.devices).toBe(2);
    let live: string[] = [];
    for (let i = 0; i < 100 && live.length === 0; i++) {
      await new Promise((res) => setTimeout(res, 20));
      live = await atBob.read();
    }
    expect(live).toEqual(['typing']);
    await atBob.close();

    timestamp += 1;
    await multi.sendToAccounts([bob.id, carol.id], bytes('stored'), timestamp);
    expect(await drain(carol.client)).toEqual(['hello', 'stored']);
    expect(await drain(bob.client)).toEqual(['stored']);
  });

  it('sendShared: no retry; returns the mismatch, and goes through once the caller built the missing session', async () => {
    const alice = await user('alice');
    const bob = await user('bob');
    const { multi, requests } = multiOf(alice.client);
    const timestamp = Date.now();
    await multi.sendToAccounts([bob.id], bytes('setup'), timestamp);
    const bob2 = await h.openClient(bob.name + '-2');
    const { deviceId } = await linkDevice(bob.client, bob2, server.url);

    requests.length = 0;
    const opaque = new Uint8Array([1, 2, 3, 4]);
    const first = await multi.sendShared(new Map([[bob.id, undefined]]), EnvelopeType.SenderKey, opaque, timestamp + 1);
    expect(first).toEqual({
      ok: false,
      status: 409,
      mismatched: [{ accountId: bob.id, missingDevices: [deviceId], extraDevices: [] }],
      stale: [],
      unknownAccounts: [],
      withoutSession: [],
    });
    expect(await multi.establishSessions(bob.id, [deviceId])).toEqual([deviceId]);
    expect(multi.knownDevices(bob.id)).toEqual([1, deviceId]);
    const second = await multi.sendShared(new Map([[bob.id, [1, deviceId]]]), EnvelopeType.SenderKey, opaque, timestamp + 1);
    expect(second).toMatchObject({ ok: true, devices: 2, serverTimestamp: expect.any(Number) });
    expect(requests.map((x) => [x.status, x.req.shared?.type, x.req.recipients[0]!.devices.every((d) => d.content === undefined)])).toEqual([
      [409, 7, true],
      [200, 7, true],
    ]);
  });

  it('a 200 naming full device queues (queueFull) is a success: carried in the results, those devices not counted, nothing retried', async () => {
    const alice = await user('alice');
    const bob = await user('bob');
    const carol = await user('carol');
    const ctx = ctxOf(alice.client);
    const full = [{ accountId: carol.id, deviceIds: [1] }];
    let requests = 0;
    // The server's answer when carol's queue is full (see queue-full-multi.test.ts in the server).
    const multi = new MultiSender(
      {
        ...ctx,
        transmitMulti: async (req) => {
          requests++;
          const res = await ctx.transmitMulti(req);
          return res.status === 200 ? { status: 200, body: { ...(res.body as object), queueFull: full } } : res;
        },
      },
      internalsOf(alice.client).sender,
    );
    const timestamp = Date.now();
    const r = await multi.sendToAccounts([bob.id, carol.id], bytes('to both'), timestamp);
    expect(r).toEqual({ serverTimestamp: expect.any(Number), devices: 1, blocked: [], unknownAccounts: [], queueFull: full });
    expect(requests).toBe(1);
    const shared = await multi.sendShared(new Map([[bob.id, undefined], [carol.id, undefined]]), EnvelopeType.SenderKey, new Uint8Array([1, 2, 3]), timestamp + 1);
    expect(shared).toEqual({ ok: true, serverTimestamp: expect.any(Number), devices: 1, withoutSession: [], queueFull: full });
    expect(requests).toBe(2);
  });
});
