import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { createLogger } from '../logger.js';
import { DeviceStore } from '../store/devices.js';
import { EnvelopeStore } from '../store/envelopes.js';
import { openTestDb, seedAccount, seedDevice, type TestDb } from '../test-support/db.js';
import type { DeviceEvent } from './bus.js';
import { GroupCommitWriter } from './group-commit.js';
import { LocalBus } from './local-bus.js';
import { decodeSendRequest, prepareSend } from './send.js';
import type { DeviceIdentity } from '../auth/device-auth.js';
import type { SendRequest } from '@kluis/protocol';

/** The HTTP route's path: base64 bodies decoded, then prepared. */
const prepareB64 = (sender: DeviceIdentity, destination: string, body: SendRequest) => prepareSend(sender, destination, decodeSendRequest(body));

const A = '11111111-1111-4111-8111-111111111111';
const B = '22222222-2222-4222-8222-222222222222';

let t: TestDb;
let envelopes: EnvelopeStore;
let bus: LocalBus;
let writer: GroupCommitWriter;
const logs: string[] = [];
let durable: () => Promise<void>;

beforeEach(async () => {
  t = await openTestDb();
  await seedAccount(t.db, A, 'alice');
  await seedAccount(t.db, B, 'bob');
  await seedDevice(t.db, B, 2, 202);
  envelopes = new EnvelopeStore(t.db);
  durable = () => t.adapter.syncCommitted();
  bus = new LocalBus();
  writer = new GroupCommitWriter({
    db: t.db,
    devices: new DeviceStore(t.db),
    envelopes,
    bus,
    clock: () => 1000,
    envelopeTtlMs: 50,
    log: createLogger((l) => logs.push(l)),
    durable: () => durable(),
  });
});
afterEach(() => t.close());

const toBob = (text: string) =>
  prepareB64({ accountId: A, deviceId: 1 }, B, {
    timestamp: 7,
    messages: [
      { deviceId: 1, registrationId: 101, type: 2, content: Buffer.from(text + '/1').toString('base64') },
      { deviceId: 2, registrationId: 202, type: 2, content: Buffer.from(text + '/2').toString('base64') },
    ],
  });

describe('GroupCommitWriter', () => {
  it('commits everything submitted in one tick in one transaction, then publishes in order', async () => {
    const transaction = vi.spyOn(t.db, 'transaction');
    const seen: string[] = [];
    bus.subscribe(`${B}.2`, (e: DeviceEvent) => {
      if (e.type === 'envelopes') for (const env of e.envelopes) seen.push(env.content.toString());
    });
    const outcomes = await Promise.all(Array.from({ length: 300 }, (_, i) => writer.submit(toBob(`m${i}`))));
    expect(outcomes.every((o) => o.ok && o.response.serverTimestamp === 1000)).toBe(true);
    expect(transaction).toHaveBeenCalledTimes(1);
    expect(seen).toEqual(Array.from({ length: 300 }, (_, i) => `m${i}/2`));
    expect(await envelopes.count(t.db, B, 1)).toBe(300);
    const [first] = await envelopes.page(t.db, B, 1, 0, 1);
    expect(first).toMatchObject({ sourceAccount: A, sourceDevice: 1, timestamp: 7, serverTimestamp: 1000 });
  });

  it('publishes only after the rows are committed', async () => {
    let visible = -1;
    bus.subscribe(`${B}.1`, () => {
      // A separate read through the same database sees the committed row.
      void envelopes.count(t.db, B, 1).then((n) => (visible = n));
    });
    await writer.submit(toBob('x'));
    await new Promise((r) => setTimeout(r, 10));
    expect(visible).toBe(1);
  });

  it('answers mismatches per send without failing the others in the batch', async () => {
    const bad = prepareB64({ accountId: A, deviceId: 1 }, B, { timestamp: 1, messages: [{ deviceId: 1, registrationId: 101, type: 2, content: 'AA==' }] });
    const unknown = prepareB64({ accountId: A, deviceId: 1 }, '33333333-3333-4333-8333-333333333333', { timestamp: 1, messages: [{ deviceId: 1, registrationId: 1, type: 2, content: 'AA==' }] });
    const [ok, mismatch, missing] = await Promise.all([writer.submit(toBob('ok')), writer.submit(bad), writer.submit(unknown)]);
    expect(ok!.ok).toBe(true);
    expect(mismatch!.ok === false && mismatch!.error.status).toBe(409);
    expect(missing!.ok === false && missing!.error.status).toBe(404);
    expect(await envelopes.count(t.db)).toBe(2);
  });

  it('batches acks and last-seen updates with the sends', async () => {
    await writer.submit(toBob('a'));
    const [env] = await envelopes.page(t.db, B, 1, 0, 10);
    writer.ack(B, 1, [env!.guid]);
    writer.touch(B, 1, 3 * 86_400_000 + 5);
    await writer.idle();
    expect(await envelopes.count(t.db, B, 1)).toBe(0);
    expect((await new DeviceStore(t.db).get(t.db, B, 1))!.lastSeenDay).toBe(3 * 86_400_000);
  });

  it('fails the batch with 503 when the database fails, and keeps working after', async () => {
    const spy = vi.spyOn(t.db, 'transaction').mockImplementationOnce(() => {
      throw new Error('disk on fire');
    });
    const failed = await writer.submit(toBob('lost'));
    expect(failed.ok === false && failed.error.status).toBe(503);
    expect(logs.some((l) => l.includes('disk on fire'))).toBe(true);
    spy.mockRestore();
    expect((await writer.submit(toBob('fine'))).ok).toBe(true);
  });

  it('pushes after the commit but answers only once it is durable, keeping batch order', async () => {
    const gates: Array<() => void> = [];
    durable = () => new Promise<void>((resolve) => gates.push(resolve));
    const pushed: string[] = [];
    bus.subscribe(`${B}.1`, (e: DeviceEvent) => {
      if (e.type === 'envelopes') for (const env of e.envelopes) pushed.push(env.content.toString());
    });
    let answered = 0;
    const first = writer.submit(toBob('a')).then(() => answered++);
    await new Promise((r) => setTimeout(r, 5));
    const second = writer.submit(toBob('b')).then(() => answered++);
    await new Promise((r) => setTimeout(r, 5));
    // Both batches are committed and pushed, neither is durable yet, so nobody got an ack.
    expect(await envelopes.count(t.db, B, 1)).toBe(2);
    expect(gates).toHaveLength(2);
    expect(pushed).toEqual(['a/1', 'b/1']);
    expect(answered).toBe(0);
    gates[1]!();
    await new Promise((r) => setTimeout(r, 5));
    expect(answered).toBe(0);
    gates[0]!();
    await Promise.all([first, second]);
    expect(answered).toBe(2);
  });

  it('answers 503 when the disk sync fails', async () => {
    durable = () => Promise.reject(new Error('EIO'));
    const outcome = await writer.submit(toBob('x'));
    expect(outcome.ok === false && outcome.error.status).toBe(503);
    expect(logs.some((l) => l.includes('EIO'))).toBe(true);
  });

  it('close() commits what was submitted and refuses what comes after', async () => {
    const pending = writer.submit(toBob('in flight'));
    await writer.close();
    expect((await pending).ok).toBe(true);
    const late = await writer.submit(toBob('late'));
    expect(late.ok === false && late.error.status).toBe(503);
  });
});
