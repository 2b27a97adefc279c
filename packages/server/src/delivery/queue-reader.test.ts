import { describe, expect, it } from 'vitest';
import type { StoredEnvelope } from '../store/envelopes.js';
import { OrderedCursorReader } from './ordered-cursor-reader.js';
import { orderedCursorReader, queueReaderFor, rescanReader, type QueueReader } from './queue-reader.js';
import { RescanReader } from './rescan-reader.js';

/** One device's queue in memory; rows may be committed in any id order, as on a shared store. */
class FakeQueue {
  rows: StoredEnvelope[] = [];
  reads: number[] = [];
  failNext = false;

  commit(...ids: number[]): void {
    for (const id of ids) this.rows.push(row(id));
  }

  delete(...ids: number[]): void {
    this.rows = this.rows.filter((r) => !ids.includes(r.id));
  }

  readonly readPage = async (afterId: number, limit: number): Promise<StoredEnvelope[]> => {
    this.reads.push(afterId);
    if (this.failNext) {
      this.failNext = false;
      throw new Error('store unavailable');
    }
    return this.rows
      .filter((r) => r.id > afterId)
      .sort((a, b) => a.id - b.id)
      .slice(0, limit);
  };
}

function row(id: number): StoredEnvelope {
  return { id, guid: `g${id}`, type: 1, sourceAccount: null, sourceDevice: null, timestamp: 0, serverTimestamp: 0, content: Buffer.alloc(0) };
}

/** What a connection's drain does: read until caught up, pushing what is unsent. */
async function drain(reader: QueueReader): Promise<number[]> {
  const out: number[] = [];
  for (;;) {
    const page = await reader.read();
    for (const r of page.rows) {
      if (!reader.isUnsent(r)) continue;
      reader.pushed(r);
      out.push(r.id);
    }
    if (!page.more) return out;
  }
}

describe('OrderedCursorReader', () => {
  it('reads page by page on from the last position pushed', async () => {
    const q = new FakeQueue();
    q.commit(1, 2, 3, 4, 5);
    const reader = new OrderedCursorReader(q.readPage, 2);
    expect(await drain(reader)).toEqual([1, 2, 3, 4, 5]);
    // Pages of 2: full, full, short.
    expect(q.reads).toEqual([0, 2, 4]);
    q.commit(6);
    expect(await drain(reader)).toEqual([6]);
    expect(q.reads.at(-1)).toBe(5);
  });

  it('trusts announcements: anything above the cursor may go out live', () => {
    const reader = new OrderedCursorReader(new FakeQueue().readPage, 2);
    expect(reader.announced()).toBe(true);
    reader.pushed(row(10));
    expect(reader.isUnsent(row(9))).toBe(false);
    expect(reader.isUnsent(row(11))).toBe(true);
  });

  it('splits an ack into pushed positions and guids it never pushed', () => {
    const reader = new OrderedCursorReader(new FakeQueue().readPage, 2);
    reader.pushed(row(3));
    reader.pushed(row(4));
    expect(reader.acked(['g3', 'other'])).toEqual({ ids: [3], guids: ['other'] });
    // Acked once: a repeat goes by guid.
    expect(reader.acked(['g3', 'g4'])).toEqual({ ids: [4], guids: ['g3'] });
  });

  it('remembers a bounded number of pushes for fast acks', () => {
    const reader = new OrderedCursorReader(new FakeQueue().readPage, 2);
    for (let id = 1; id <= 5000; id++) reader.pushed(row(id));
    const { ids, guids } = reader.acked(['g1', 'g5000']);
    expect(ids).toEqual([1]);
    expect(guids).toEqual(['g5000']);
  });
});

describe('RescanReader', () => {
  it('never pushes announcements live: the next read re-reads the whole queue', async () => {
    const q = new FakeQueue();
    q.commit(1, 2, 3);
    const reader = new RescanReader(q.readPage, 2);
    expect(await drain(reader)).toEqual([1, 2, 3]);
    expect(reader.announced()).toBe(false);
    q.reads = [];
    expect(await drain(reader)).toEqual([]);
    expect(q.reads).toEqual([0, 2]);
  });

  it('finds a late commit below the cursor and skips by guid what it already pushed', async () => {
    const q = new FakeQueue();
    q.commit(1, 3);
    const reader = new RescanReader(q.readPage, 10);
    expect(await drain(reader)).toEqual([1, 3]);
    // Another node's id 2 commits after id 3 was pushed.
    q.commit(2, 4);
    expect(await drain(reader)).toEqual([4]);
    reader.wake();
    expect(await drain(reader)).toEqual([2]);
  });

  it('does not push again what was acked while its row is still stored, and forgets it once gone', async () => {
    const q = new FakeQueue();
    q.commit(1, 2);
    const reader = new RescanReader(q.readPage, 10);
    expect(await drain(reader)).toEqual([1, 2]);
    // Acks remember every push: all come back as ids.
    expect(reader.acked(['g1', 'g2'])).toEqual({ ids: [1, 2] });
    reader.wake();
    expect(await drain(reader)).toEqual([]);
    // A full re-read that no longer sees g1 prunes it: were the row to come back, it is unsent.
    q.delete(1);
    reader.wake();
    expect(await drain(reader)).toEqual([]);
    expect(reader.isUnsent(row(1))).toBe(true);
    expect(reader.isUnsent(row(2))).toBe(false);
  });

  it('says more while a re-read is due or under way', async () => {
    const q = new FakeQueue();
    q.commit(1, 2, 3);
    const reader = new RescanReader(q.readPage, 2);
    reader.wake();
    expect((await reader.read()).more).toBe(true);
    // A wake during the re-read: after it ends, another one is due.
    reader.wake();
    expect((await reader.read()).more).toBe(true);
    expect((await reader.read()).more).toBe(true);
    expect((await reader.read()).more).toBe(false);
  });

  it('starts a fresh re-read after a failed one', async () => {
    const q = new FakeQueue();
    q.commit(1, 2, 3, 4, 5);
    const reader = new RescanReader(q.readPage, 2);
    reader.wake();
    await reader.read();
    q.failNext = true;
    await expect(reader.read()).rejects.toThrow('store unavailable');
    reader.wake();
    q.reads = [];
    expect(await drain(reader)).toEqual([1, 2, 3, 4, 5]);
    expect(q.reads[0]).toBe(0);
  });
});

describe('queueReaderFor', () => {
  it('picks the rescan reader where several processes write the queue', () => {
    expect(queueReaderFor({ sharedQueue: true })).toBe(rescanReader);
    expect(queueReaderFor({ sharedQueue: false })).toBe(orderedCursorReader);
  });
});
