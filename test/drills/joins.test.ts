/**
 * The drill's join checks on rows shaped as the server stored them before and after
 * sealed sync copies, timestamp-free sealed envelopes, coarse times, per-queue lanes and
 * fan-outs that include the sender: each check finds the links in the old shape (so a 0
 * in the drill means something) and none in the new.
 */
import { describe, expect, it } from 'vitest';
import { joinChecks, type SeizedEnvelope, type SentMessage } from './joins.js';

const ALICE = 'a1111111-1111-4111-8111-111111111111';
const BOB = 'b2222222-2222-4222-8222-222222222222';
const CAROL = 'c3333333-3333-4333-8333-333333333333';
const ERIN = 'e5555555-5555-4555-8555-555555555555';
const HOUR = 3_600_000;
const T = 1_796_220_123_456;

// Alice (laptop offline) to Bob (offline) 1:1 and to the group {alice, bob, carol};
// Erin to Alice; Carol to the group.
const sent: SentMessage[] = [
  { from: ALICE, to: [BOB, ALICE] },
  { from: ALICE, to: [ALICE, BOB, CAROL] },
  { from: ERIN, to: [ALICE, ERIN] },
  { from: CAROL, to: [ALICE, BOB, CAROL] },
];

/** A ciphertext: `multi` starts as a sealed sender v2 (multi-recipient) payload does. */
const payload = (shared: string, own: string, multi = false) => Buffer.concat([Buffer.from([multi ? 0x22 : 0x11]), Buffer.from(own.padEnd(64, '.')), Buffer.from(shared.padEnd(64, '#'))]);

function row(r: Partial<SeizedEnvelope> & Pick<SeizedEnvelope, 'id' | 'account_id' | 'device_id'>): SeizedEnvelope {
  return { type: 6, source_account: null, timestamp: 0, server_timestamp: T - (T % HOUR), expires_at: T - (T % HOUR) + 30 * 24 * HOUR, content: payload(`c${r.id}`, `o${r.id}`), ...r };
}

/** Before: one counter, exact times, client timestamps, identified sync copies, fan-outs without the sender. */
function oldRows(): SeizedEnvelope[] {
  const at = (ms: number) => ({ server_timestamp: ms, expires_at: ms + 30 * 24 * HOUR });
  return [
    row({ id: 100, account_id: BOB, device_id: 1, timestamp: T, ...at(T + 5) }),
    row({ id: 101, account_id: ALICE, device_id: 2, type: 2, source_account: ALICE, timestamp: T, ...at(T + 9), content: payload('sync1', 'x') }),
    // Alice's group message: a sealed fan-out to Bob (Carol acked), a separate identified copy to her laptop.
    row({ id: 140, account_id: BOB, device_id: 1, timestamp: T + 4000, ...at(T + 4003), content: payload('g-alice', 'bob', true) }),
    row({ id: 141, account_id: ALICE, device_id: 2, type: 7, source_account: ALICE, timestamp: T + 4000, ...at(T + 4010), content: payload('g-alice-own', 'x') }),
    // Erin to Alice (one device: no sync copy), Carol to the group (one device).
    row({ id: 170, account_id: ALICE, device_id: 2, timestamp: T + 9000, ...at(T + 9002) }),
    row({ id: 190, account_id: ALICE, device_id: 2, timestamp: T + 15000, ...at(T + 15002), content: payload('g-carol', 'alice', true) }),
    row({ id: 191, account_id: BOB, device_id: 1, timestamp: T + 15000, ...at(T + 15002), content: payload('g-carol', 'bob', true) }),
  ];
}

/** After: no client timestamps on sealed rows, one coarse time, random per-queue lanes, sealed sync copies in the fan-out. */
function newRows(): SeizedEnvelope[] {
  const bob = 91_234_567_890;
  const laptop = 17_000_000_123;
  return [
    row({ id: bob, account_id: BOB, device_id: 1 }),
    row({ id: laptop, account_id: ALICE, device_id: 2 }),
    row({ id: bob + 1, account_id: BOB, device_id: 1, content: payload('g-alice', 'bob', true) }),
    row({ id: laptop + 1, account_id: ALICE, device_id: 2, content: payload('g-alice', 'alice', true) }),
    row({ id: laptop + 2, account_id: ALICE, device_id: 2 }),
    row({ id: laptop + 3, account_id: ALICE, device_id: 2, content: payload('g-carol', 'alice', true) }),
    row({ id: bob + 2, account_id: BOB, device_id: 1, content: payload('g-carol', 'bob', true) }),
    // A first contact is identified (no profile key yet) and keeps its timestamp.
    row({ id: 5_555_000_000, account_id: BOB, device_id: 1, type: 3, source_account: ERIN, timestamp: T + 20 }),
    // More of the same hour (receipts, other chats): the bucket is no commit.
    ...Array.from({ length: 4 }, (_, i) => row({ id: laptop + 4 + i, account_id: ALICE, device_id: 2 })),
  ];
}

/** A millisecond blob time 42 ms before the message that carries it (old), a day-rounded one (new). */
const oldBlobs = [{ id: 'blob1', size: 4096, expected: 1, created_at: T + 9000 - 42, expires_at: T + 30 * 24 * HOUR }];
const newBlobs = [{ id: 'blob1', size: 4096, created_at: T - (T % (24 * HOUR)), expires_at: T - (T % (24 * HOUR)) + 31 * 24 * HOUR }];

const byName = (checks: ReturnType<typeof joinChecks>) => Object.fromEntries(checks.map((c) => [c.name.split(' ')[0] + ' ' + c.name.split(' ')[1], [c.links, c.recovered]]));

describe('drill join checks', () => {
  it('find the senders in rows stored the old way', () => {
    const checks = joinChecks(oldRows(), oldBlobs, [], sent);
    const found = byName(checks);
    // Bob's two from Alice sit at her sync copies' timestamps; Erin's and Carol's have no copy.
    expect(found['sealed ↔']).toEqual([2, 2]);
    expect(found['rows of']![1]).toBeGreaterThan(0);
    expect(checks.find((c) => c.name.includes('adjacent'))!.recovered).toBeGreaterThan(0);
    expect(checks.find((c) => c.name.startsWith('fan-out'))!.recovered).toBeGreaterThan(0);
    expect(checks.find((c) => c.name.startsWith('blob'))!.links).toBeGreaterThan(0);
  });

  it('find nothing in rows stored the new way', () => {
    const checks = joinChecks(newRows(), newBlobs, [], sent);
    expect(checks.map((c) => [c.name, c.links, c.recovered])).toEqual(checks.map((c) => [c.name, 0, 0]));
    expect(checks.every((c) => c.name.startsWith('wire') || c.pairs > 0)).toBe(true);
  });

  it('the wire check ties a sealed request to the identified socket send with its timestamp', () => {
    const auth = 'Basic ' + Buffer.from(`${ALICE}.1:pw`).toString('base64');
    const sealed = JSON.stringify({ timestamp: T, messages: [] });
    const toServer = [
      `GET /v1/socket HTTP/1.1\r\nauthorization: ${auth}\r\nupgrade: websocket\r\n\r\n`,
      `{"type":"send","id":1,"destination":"${ALICE}","body":{"timestamp":${T},"messages":[]}}\n`,
    ].join('');
    const http = `PUT /v1/sealed/${BOB} HTTP/1.1\r\ncontent-type: application/json\r\ncontent-length: ${sealed.length}\r\n\r\n${sealed}`;
    const artifacts = [
      { group: 'wire →server', name: 'socket', bytes: Buffer.from(toServer) },
      { group: 'wire →server', name: 'http', bytes: Buffer.from(http) },
    ];
    const wire = joinChecks([], [], artifacts, sent).find((c) => c.name.startsWith('wire'))!;
    expect([wire.links, wire.recovered]).toEqual([1, 1]);
    const untimed = JSON.stringify({ messages: [] });
    const after = [{ ...artifacts[0]!, bytes: Buffer.from(toServer.replace(`"timestamp":${T},`, '')) }, { ...artifacts[1]!, bytes: Buffer.from(`PUT /v1/sealed/${BOB} HTTP/1.1\r\ncontent-length: ${untimed.length}\r\n\r\n${untimed}`) }];
    expect(joinChecks([], [], after, sent).find((c) => c.name.startsWith('wire'))!.links).toBe(0);
  });
});
