import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import {
  CiphertextMessageType,
  PreKeySignalMessage,
  SignalMessage,
  signalDecrypt,
  signalDecryptPreKey,
  signalEncrypt,
} from '@signalapp/libsignal-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { registerAccount, type TestDevice } from './test-support/accounts.js';
import { call } from './test-support/http.js';
import { addressOf, startSession as startSessionVia } from './test-support/sessions.js';
import { TestSocket } from './test-support/socket-client.js';
import { startTestServer, type TestServer } from './test-support/test-server.js';

let ts: TestServer;
beforeAll(async () => {
  ts = await startTestServer();
});
afterAll(() => ts.close());

const buf = (b64: string) => Buffer.from(b64, 'base64') as Buffer<ArrayBuffer>;
const address = addressOf;
const startSession = (from: TestDevice, to: TestDevice) => startSessionVia(ts.url, from, to);

async function encrypt(from: TestDevice, to: TestDevice, text: string) {
  const ct = await signalEncrypt(Buffer.from(text) as Buffer<ArrayBuffer>, address(to), address(from), from.signal.sessions, from.signal.identities);
  return { timestamp: Date.now(), messages: [{ deviceId: to.deviceId, registrationId: to.registrationId, type: ct.type(), content: Buffer.from(ct.serialize()).toString('base64') }] };
}

async function decrypt(me: TestDevice, from: TestDevice, envelope: { type: number; content: string }): Promise<string> {
  const s = me.signal;
  const bytes = buf(envelope.content);
  const pt =
    envelope.type === CiphertextMessageType.PreKey
      ? await signalDecryptPreKey(PreKeySignalMessage.deserialize(bytes), address(from), address(me), s.sessions, s.identities, s.preKeys, s.signedPreKeys, s.kyberPreKeys)
      : await signalDecrypt(SignalMessage.deserialize(bytes), address(from), address(me), s.sessions, s.identities);
  return Buffer.from(pt).toString();
}

describe('end to end with libsignal', () => {
  it('carries real PQXDH sessions both ways, and the database holds only ciphertext', async () => {
    const alice = await registerAccount(ts, { preKeys: 1, kyberPreKeys: 1 });
    const bob = await registerAccount(ts, { preKeys: 1, kyberPreKeys: 1 });
    const secrets = ['the eagle lands at midnight', 'bring the blue folder', 'meet at the old mill'];

    await startSession(alice, bob);
    const sent: Buffer[] = [];
    for (const text of secrets) {
      const body = await encrypt(alice, bob, text);
      sent.push(buf(body.messages[0]!.content));
      expect((await call(ts.url, 'PUT', `/v1/messages/${bob.accountId}`, { auth: alice.auth, body })).status).toBe(200);
    }

    // Before delivery: the stored blobs are exactly the ciphertexts, and no plaintext is on disk.
    const raw = new Database(join(ts.dataDir, 'kluis.db'), { readonly: true });
    const stored = raw.prepare('SELECT content FROM envelopes WHERE account_id = ? ORDER BY id').all(bob.accountId) as Array<{ content: Buffer }>;
    raw.close();
    expect(stored.map((r) => r.content.toString('hex'))).toEqual(sent.map((b) => b.toString('hex')));
    for (const file of await readdir(ts.dataDir)) {
      const bytes = await readFile(join(ts.dataDir, file));
      for (const text of secrets) expect(bytes.includes(Buffer.from(text)), `${file} contains "${text}"`).toBe(false);
      expect(bytes.includes(Buffer.from(alice.password)), `${file} contains a password`).toBe(false);
    }

    const bobSocket = await TestSocket.connect(ts.url, bob.auth);
    const backlog = await bobSocket.backlog();
    expect(backlog.map((e) => e.type)).toEqual([3, 3, 3]);
    const received = [];
    for (const e of backlog) received.push(await decrypt(bob, alice, e));
    expect(received).toEqual(secrets);
    bobSocket.send({ type: 'ack', guids: backlog.map((e) => e.guid) });

    const aliceSocket = await TestSocket.connect(ts.url, alice.auth);
    await aliceSocket.backlog();
    const reply = await encrypt(bob, alice, 'copy that');
    expect((await bobSocket.request(alice.accountId, reply)).status).toBe(200);
    const got = (await aliceSocket.next((f) => f.type === 'envelope')).envelope;
    expect(got.type).toBe(2);
    expect(await decrypt(alice, bob, got)).toBe('copy that');
    await aliceSocket.close();
    await bobSocket.close();
  });
});
