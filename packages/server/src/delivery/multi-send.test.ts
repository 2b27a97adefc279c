import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { serverFrameToJson } from '@kluis/protocol';
import { createLogger } from '../logger.js';
import { DeviceStore } from '../store/devices.js';
import { EnvelopeStore } from '../store/envelopes.js';
import { openTestDb, seedAccount, seedDevice, type TestDb } from '../test-support/db.js';
import type { DeviceEvent } from './bus.js';
import { envelopeFrame } from './frames.js';
import { GroupCommitWriter } from './group-commit.js';
import { LocalBus } from './local-bus.js';
import { decodeMultiSendRequest, prepareMultiSend } from './multi-send.js';
import { decodeSendRequest, prepareSend as prepareDecoded } from './send.js';
import type { DeviceIdentity } from '../auth/device-auth.js';
import type { MultiSendRequest, SendRequest } from '@kluis/protocol';

/** The HTTP routes' path: base64 bodies decoded, then prepared. */
const prepareMultiB64 = (sender: DeviceIdentity, body: MultiSendRequest) => prepareMultiSend(sender, decodeMultiSendRequest(body));
const prepareSend = (sender: DeviceIdentity, destination: string, body: SendRequest) => prepareDecoded(sender, destination, decodeSendRequest(body));

const A = '11111111-1111-4111-8111-111111111111';
const B = '22222222-2222-4222-8222-222222222222';
const C = '33333333-3333-4333-8333-333333333333';
const sender = { accountId: A, deviceId: 1 };

let t: TestDb;
let envelopes: EnvelopeStore;
let bus: LocalBus;
let durable: () => Promise<void>;

function writer(o: { maxBatchRows?: number } = {}): GroupCommitWriter {
  return new GroupCommitWriter({
    db: t.db,
    devices: new DeviceStore(t.db),
    envelopes,
    bus,
    clock: () => 1000,
    envelopeTtlMs: 50,
    log: createLogger(() => {}),
    durable: () => durable(),
    ...o,
  });
}

beforeEach(async () => {
  t = await openTestDb();
  await seedAccount(t.db, A, 'alice');
  await seedDevice(t.db, A, 2, 102);
  await seedAccount(t.db, B, 'bob');
  await seedDevice(t.db, B, 2, 202);
  await seedAccount(t.db, C, 'carol');
  envelopes = new EnvelopeStore(t.db);
  durable = () => t.adapter.syncCommitted();
  bus = new LocalBus();
});
afterEach(() => t.close());

const group = (extra: Partial<MultiSendRequest> = {}): MultiSendRequest => ({
  timestamp: 7,
  shared: { type: 7, content: Buffer.from('skm').toString('base64') },
  recipients: [
    { accountId: B, devices: [{ deviceId: 1, registrationId: 101 }, { deviceId: 2, registrationId: 202 }] },
    { accountId: C, devices: [{ deviceId: 1, registrationId: 101 }] },
    { accountId: A, devices: [{ deviceId: 2, registrationId: 102 }] },
  ],
  ...extra,
});

describe('prepareMultiSend', () => {
  it('decodes a shared ciphertext once for every device, with a guid per device', () => {
    const c = prepareMultiB64(sender, group());
    expect(c.deviceCount).toBe(4);
    const all = c.destinations.flatMap((d) => d.messages);
    expect(new Set(all.map((m) => m.content)).size).toBe(1);
    expect(new Set(all.map((m) => m.guid)).size).toBe(4);
  });

  it('refuses the sending device, duplicates and mixed modes', () => {
    expect(() => prepareMultiB64(sender, group({ recipients: [{ accountId: A, devices: [{ deviceId: 1, registrationId: 101 }] }] }))).toThrow(/sending device/);
    expect(() => prepareMultiB64(sender, group({ recipients: [{ accountId: B, devices: [] }, { accountId: B, devices: [] }] }))).toThrow(/twice/);
    expect(() =>
      prepareMultiB64(sender, group({ recipients: [{ accountId: B, devices: [{ deviceId: 1, registrationId: 101, type: 2, content: 'AA==' }] }] })),
    ).toThrow(/no type or content/);
    expect(() =>
      prepareMultiB64(sender, { timestamp: 1, recipients: [{ accountId: B, devices: [{ deviceId: 1, registrationId: 101, type: 2 }] }] }),
    ).toThrow(/own type and content/);
  });
});

describe('GroupCommitWriter: multi sends', () => {
  it('writes all rows of a multi send in one transaction, together with the single sends of the same tick', async () => {
    const w = writer();
    const transaction = vi.spyOn(t.db, 'transaction');
    const single = prepareSend(sender, C, { timestamp: 8, messages: [{ deviceId: 1, registrationId: 101, type: 2, content: 'AA==' }] });
    const [multi, one] = await Promise.all([w.submitMulti(prepareMultiB64(sender, group())), w.submit(single)]);
    expect(multi!.ok && one!.ok).toBe(true);
    expect(transaction).toHaveBeenCalledTimes(1);
    expect(await envelopes.count(t.db)).toBe(5);
    expect(await envelopes.count(t.db, C, 1)).toBe(2);
  });

  it('stores nothing of a multi send when one account does not reconcile, without failing its batch neighbours', async () => {
    const w = writer();
    const bad = group({ recipients: [...group().recipients.slice(0, 2), { accountId: A, devices: [] }] });
    const single = prepareSend(sender, C, { timestamp: 8, messages: [{ deviceId: 1, registrationId: 101, type: 2, content: 'AA==' }] });
    const [multi, one] = await Promise.all([w.submitMulti(prepareMultiB64(sender, bad)), w.submit(single)]);
    expect(multi!.ok === false && multi!.error.toBody()).toMatchObject({ code: 'MISMATCHED_DEVICES', mismatched: [{ accountId: A, missingDevices: [2], extraDevices: [] }] });
    expect(one!.ok).toBe(true);
    expect(await envelopes.count(t.db)).toBe(1);
  });

  it('cuts batches by rows, never splitting one multi send', async () => {
    const w = writer({ maxBatchRows: 3 });
    const transaction = vi.spyOn(t.db, 'transaction');
    const outcomes = await Promise.all([w.submitMulti(prepareMultiB64(sender, group())), w.submitMulti(prepareMultiB64(sender, group()))]);
    expect(outcomes.every((o) => o.ok)).toBe(true);
    expect(transaction).toHaveBeenCalledTimes(2);
    expect(await envelopes.count(t.db)).toBe(8);
  });

  it('online: publishes whole envelopes (their content, no queue position), stores nothing, answers without waiting for the disk', async () => {
    const w = writer();
    const gates: Array<() => void> = [];
    durable = () => new Promise<void>((resolve) => gates.push(resolve));
    const events: DeviceEvent[] = [];
    bus.subscribe(`${B}.2`, (e) => events.push(e));
    const outcome = await w.submitMulti(prepareMultiB64(sender, group({ online: true })));
    expect(outcome.ok).toBe(true);
    expect(await envelopes.count(t.db)).toBe(0);
    expect(events).toHaveLength(1);
    const e = events[0]!;
    expect(e.type).toBe('online');
    if (e.type !== 'online') return;
    expect(e.envelopes).toEqual([
      { guid: expect.any(String), type: 7, sourceAccount: A, sourceDevice: 1, timestamp: 7, serverTimestamp: 1000, content: Buffer.from('skm') },
    ]);
    // It frames like a stored one (nats-bus.ts carries its content as base64: test/cluster/nats-bus.test.ts).
    expect(serverFrameToJson(envelopeFrame(e.envelopes[0]!))).toEqual({ type: 'envelope', envelope: { ...e.envelopes[0], content: Buffer.from('skm').toString('base64') } });
    for (const g of gates) g();
  });
});
