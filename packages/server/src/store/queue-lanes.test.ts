import { describe, expect, it } from 'vitest';
import { LANE_SIZE, QueueLanes, type LaneLookups } from './queue-lanes.js';

/** The rows a database holds, as the lanes see them: position → queue. */
function rows(initial: Array<[number, string]> = []) {
  const stored = new Map<number, string>(initial);
  const db: LaneLookups = {
    lastStored: async (a, d) => {
      let max: number | undefined;
      for (const [id, q] of stored) if (q === `${a}.${d}` && (max === undefined || id > max)) max = id;
      return max;
    },
    anyStored: async (from, to) => [...stored.keys()].some((id) => id >= from && id < to),
  };
  return { stored, db };
}

describe('queue lanes', () => {
  it('count up by one within a queue; different queues sit in different random slots, never next to each other', async () => {
    const { stored, db } = rows();
    const lanes = new QueueLanes();
    const slots = new Set<number>();
    for (let q = 0; q < 200; q++) {
      const a = await lanes.next(`acct${q}`, 1, db);
      const b = await lanes.next(`acct${q}`, 1, db);
      expect(b).toBe(a + 1);
      expect(Number.isSafeInteger(b)).toBe(true);
      stored.set(a, `acct${q}.1`).set(b, `acct${q}.1`);
      slots.add(Math.floor(a / LANE_SIZE));
    }
    expect(slots.size).toBe(200);
    const sorted = [...slots].sort((x, y) => x - y);
    // Drawn at random from a million slots: consecutive slots would be a coincidence.
    expect(sorted.filter((s, i) => i > 0 && s === sorted[i - 1]! + 1).length).toBeLessThan(3);
  });

  it('continue a queue above its stored rows after a restart, in its own slot', async () => {
    const start = 1000 * LANE_SIZE;
    const { db } = rows([
      [start + 5, 'a.1'],
      [start + 9, 'a.1'],
    ]);
    expect(await new QueueLanes().next('a', 1, db)).toBe(start + 10);
  });

  it('move a queue up, past rows it would run into: rows from the single counter, or another queue in its slot', async () => {
    const slot = 2000 * LANE_SIZE;
    const { db } = rows([
      [7, 'old.1'],
      [8, 'other.1'],
      [slot + 3, 'a.1'],
      [slot + 40, 'b.1'],
    ]);
    const lanes = new QueueLanes();
    const old = await lanes.next('old', 1, db);
    expect(old).toBeGreaterThan(8);
    expect(old).toBeGreaterThanOrEqual(2 ** 32);
    // a's rows are below b's in the same slot: a cannot count up through b's.
    const a = await lanes.next('a', 1, db);
    expect(a).toBeGreaterThanOrEqual(slot + LANE_SIZE);
    // b is the first to claim the slot above its rows (no other row there).
    expect(await lanes.next('b', 1, db)).toBe(slot + 41);
  });

  it('never take a slot that holds rows of a queue not touched yet, nor one taken in this process', async () => {
    const taken = Array.from({ length: 64 }, (_, i): [number, string] => [(32 + i * 2) * LANE_SIZE, `q${i}.1`]);
    const { stored, db } = rows(taken);
    const lanes = new QueueLanes();
    const seen = new Set<number>();
    for (let i = 0; i < 500; i++) {
      const id = await lanes.next(`new${i}`, 1, db);
      const slot = Math.floor(id / LANE_SIZE);
      expect(stored.has(slot * LANE_SIZE), `slot ${slot}`).toBe(false);
      expect(seen.has(slot)).toBe(false);
      seen.add(slot);
    }
  });

  it('move a full lane to a higher slot, keeping the order', async () => {
    const top = 2 ** 47 / LANE_SIZE - 3;
    const { db } = rows([[top * LANE_SIZE + LANE_SIZE - 2, 'a.1']]);
    const lanes = new QueueLanes();
    const last = await lanes.next('a', 1, db);
    expect(last).toBe(top * LANE_SIZE + LANE_SIZE - 1);
    const next = await lanes.next('a', 1, db);
    expect(next).toBeGreaterThan(last);
    expect(Math.floor(next / LANE_SIZE)).toBeGreaterThan(top);
  });
});
