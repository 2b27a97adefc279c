/**
 * The receiving members of the group fan-out phase, in a process of their own (forked by
 * group-fanout.ts): libsignal calls block the event loop, so decrypting N × M envelopes
 * next to the sender would show up as the sender's latency. Each member is a registered
 * device with real keys in memory and its own device socket (GET /v1/socket); it decrypts
 * the sender's 1:1 PreKey message (the sender-key distribution), then groupDecrypts every
 * SenderKey envelope, decodes the content, and acks.
 *
 * A frame is only timestamped when it arrives; decryption runs after the I/O phase
 * (setImmediate) in slices of ~1 ms, so `arrived` stays close to when the server's push
 * was read even though a thousand devices share one thread, and `decryptMs` is that
 * device's own crypto time.
 *
 * IPC (advanced serialization): parent → {cmd: ping|setup|expect|collect|stop}; child →
 * {evt: pong|log|ready|reached|records}.
 */
import { performance } from 'node:perf_hooks';
import WebSocket from 'ws';
import {
  groupDecrypt,
  PreKeySignalMessage,
  processSenderKeyDistributionMessage,
  ProtocolAddress,
  SenderKeyDistributionMessage,
  signalDecrypt,
  signalDecryptPreKey,
  SignalMessage,
} from '@signalapp/libsignal-client';
import { clientFrameFromJson, decodeContent, EnvelopeType, serverFrameToJson, type JsonServerFrame } from '@kluis/protocol';

type Envelope = Extract<JsonServerFrame, { type: 'envelope' }>['envelope'];
import { registerMemoryDevice, type MemoryDevice } from './signal-memory.js';

export type ParentMessage =
  | { cmd: 'ping'; t: number }
  | { cmd: 'setup'; url: string; invites: string[]; tag: string }
  | { cmd: 'expect'; n: number }
  | { cmd: 'collect' }
  | { cmd: 'stop' };

export type ChildMessage =
  | { evt: 'pong'; t: number; tc: number }
  | { evt: 'log'; msg: string }
  | { evt: 'ready'; devices: Array<{ accountId: string; deviceId: number; registrationId: number }> }
  | { evt: 'reached'; n: number }
  | { evt: 'records'; records: Float64Array; count: number; distributions: number; duplicates: number; errors: number; firstErrors: string[] };

/** Fields per record: receiver index, envelope timestamp, arrived, decrypted, decrypt ms. */
export const RECORD_FIELDS = 5;

/** Absolute milliseconds, comparable across processes once the offset is calibrated. */
const now = () => performance.timeOrigin + performance.now();
const send = (m: ChildMessage) => process.send!(m);
const log = (msg: string) => send({ evt: 'log', msg });

const devices: MemoryDevice[] = [];
const sockets: WebSocket[] = [];
const seen: Array<Set<string>> = [];
const senders = new Map<string, ProtocolAddress>();

let records = new Float64Array(RECORD_FIELDS * 65_536);
let count = 0;
let distributions = 0;
let duplicates = 0;
let errors = 0;
const firstErrors: string[] = [];
let expecting = Infinity;

interface Arrival {
  i: number;
  env: Envelope;
  arrived: number;
}
const queue: Arrival[] = [];
let draining = false;
const pendingAcks = new Map<number, string[]>();

function record(i: number, timestamp: number, arrived: number, decrypted: number, decryptMs: number): void {
  if ((count + 1) * RECORD_FIELDS > records.length) {
    const bigger = new Float64Array(records.length * 2);
    bigger.set(records);
    records = bigger;
  }
  records.set([i, timestamp, arrived, decrypted, decryptMs], count * RECORD_FIELDS);
  count++;
  if (count >= expecting) {
    expecting = Infinity;
    send({ evt: 'reached', n: count });
  }
}

function senderOf(env: Envelope): ProtocolAddress {
  const key = `${env.sourceAccount}.${env.sourceDevice}`;
  let a = senders.get(key);
  if (!a) senders.set(key, (a = ProtocolAddress.new(env.sourceAccount!, env.sourceDevice!)));
  return a;
}

async function handle({ i, env, arrived }: Arrival): Promise<void> {
  const d = devices[i]!;
  const bytes = new Uint8Array(Buffer.from(env.content, 'base64'));
  const from = senderOf(env);
  const s = d.stores;
  if (env.type === EnvelopeType.SenderKey) {
    const key = `${env.sourceAccount}:${env.timestamp}`;
    if (seen[i]!.has(key)) {
      duplicates++;
      return;
    }
    seen[i]!.add(key);
    const t0 = now();
    const content = decodeContent(await groupDecrypt(from, s.senderKeys, bytes));
    const t1 = now();
    if (content.body.case !== 'data') throw new Error(`group message without data (${content.body.case})`);
    record(i, Number(content.body.value.timestamp), arrived, t1, t1 - t0);
    return;
  }
  let plain: Uint8Array<ArrayBuffer>;
  if (env.type === EnvelopeType.PreKey) {
    plain = await signalDecryptPreKey(PreKeySignalMessage.deserialize(bytes), from, d.address, s.sessions, s.identity, s.preKeys, s.signedPreKeys, s.kyberPreKeys);
  } else if (env.type === EnvelopeType.Whisper) {
    plain = await signalDecrypt(SignalMessage.deserialize(bytes), from, d.address, s.sessions, s.identity);
  } else throw new Error(`unexpected envelope type ${env.type}`);
  const content = decodeContent(plain);
  if (!content.senderKeyDistribution) throw new Error('1:1 message without a sender-key distribution');
  await processSenderKeyDistributionMessage(from, SenderKeyDistributionMessage.deserialize(content.senderKeyDistribution as Uint8Array<ArrayBuffer>), s.senderKeys);
  distributions++;
}

async function drain(): Promise<void> {
  if (draining) return;
  draining = true;
  try {
    while (queue.length > 0) {
      // At most ~1 ms of work, then let the sockets be read (arrivals stamped) again.
      const slice = now() + 1;
      while (queue.length > 0 && now() < slice) {
        const a = queue.shift()!;
        try {
          await handle(a);
        } catch (e) {
          errors++;
          if (firstErrors.length < 5) firstErrors.push(`device ${a.i}, envelope type ${a.env.type}: ${(e as Error).message}`);
        }
        // Acked once handled, as a client acks after committing.
        let acks = pendingAcks.get(a.i);
        if (!acks) pendingAcks.set(a.i, (acks = []));
        acks.push(a.env.guid);
      }
      flushAcks();
      await new Promise((r) => setImmediate(r));
    }
  } finally {
    draining = false;
  }
}

function flushAcks(): void {
  for (const [i, guids] of pendingAcks) {
    for (let k = 0; k < guids.length; k += 256) sockets[i]!.send(clientFrameFromJson({ type: 'ack', guids: guids.slice(k, k + 256) }));
  }
  pendingAcks.clear();
}

function onFrame(i: number, data: Buffer): void {
  const arrived = now();
  // The JSON view of the binary frame (base64 content), as the receive path below expects.
  const frame = serverFrameToJson(data) as { type: string; envelope?: Envelope };
  if (frame.type !== 'envelope') return;
  queue.push({ i, env: frame.envelope!, arrived });
  if (!draining) setImmediate(() => void drain());
}

async function setup(url: string, invites: string[], tag: string): Promise<void> {
  let next = 0;
  let done = 0;
  const t0 = Date.now();
  const register = async () => {
    while (next < invites.length) {
      const i = next++;
      devices[i] = await registerMemoryDevice(url, invites[i]!, `g${tag}_${i}`);
      seen[i] = new Set();
      if (++done % 250 === 0 || done === invites.length) log(`  group members: ${done}/${invites.length} registered`);
    }
  };
  await Promise.all(Array.from({ length: 16 }, register));
  log(`  group members: registered in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
  const base = url.replace(/^http/, 'ws');
  next = 0;
  const open = async () => {
    while (next < devices.length) {
      const i = next++;
      const ws = new WebSocket(`${base}/v1/socket`, { headers: { authorization: devices[i]!.authorization }, perMessageDeflate: false });
      await new Promise<void>((resolve, reject) => {
        ws.once('open', () => resolve());
        ws.once('error', reject);
        ws.once('unexpected-response', (_req, res) => reject(new Error(`socket refused: ${res.statusCode}`)));
      });
      ws.on('message', (data) => onFrame(i, data as Buffer));
      sockets[i] = ws;
    }
  };
  await Promise.all(Array.from({ length: 32 }, open));
  log(`  group members: ${sockets.length} sockets connected`);
  send({ evt: 'ready', devices: devices.map((d) => ({ accountId: d.accountId, deviceId: d.deviceId, registrationId: d.registrationId })) });
}

process.on('message', (m: ParentMessage) => {
  switch (m.cmd) {
    case 'ping':
      send({ evt: 'pong', t: m.t, tc: now() });
      break;
    case 'setup':
      setup(m.url, m.invites, m.tag).catch((e) => {
        log(`group members: setup failed: ${(e as Error).stack ?? e}`);
        process.exit(1);
      });
      break;
    case 'expect':
      if (count >= m.n) send({ evt: 'reached', n: count });
      else expecting = m.n;
      break;
    case 'collect':
      send({ evt: 'records', records: records.slice(0, count * RECORD_FIELDS), count, distributions, duplicates, errors, firstErrors: firstErrors.splice(0) });
      count = 0;
      distributions = 0;
      duplicates = 0;
      errors = 0;
      expecting = Infinity;
      break;
    case 'stop':
      for (const ws of sockets) ws.close();
      setTimeout(() => process.exit(0), 200);
      break;
  }
});
