import { describe, expect, it } from 'vitest';
import { eachLimit, KeyedMutex, SerialQueue } from './mutex.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('KeyedMutex', () => {
  it('serializes per key, runs different keys concurrently, survives failures, cleans up', async () => {
    const m = new KeyedMutex();
    const log: string[] = [];
    const job = (key: string, name: string, ms: number, fail = false) =>
      m.run(key, async () => {
        log.push(`start ${name}`);
        await sleep(ms);
        log.push(`end ${name}`);
        if (fail) throw new Error(name);
        return name;
      });
    const results = await Promise.allSettled([job('a', 'a1', 30, true), job('a', 'a2', 5), job('b', 'b1', 5)]);
    expect(results.map((r) => r.status)).toEqual(['rejected', 'fulfilled', 'fulfilled']);
    expect(log.indexOf('end a1')).toBeLessThan(log.indexOf('start a2'));
    expect(log.indexOf('start b1')).toBeLessThan(log.indexOf('end a1'));
    expect(m.size).toBe(0);
  });
});

describe('SerialQueue', () => {
  it('runs tasks one at a time in order and reports idle', async () => {
    const q = new SerialQueue();
    const log: number[] = [];
    for (let i = 0; i < 5; i++)
      void q
        .push(async () => {
          await sleep(5 - i);
          log.push(i);
          if (i === 2) throw new Error('x');
        })
        .catch(() => {});
    await q.idle();
    expect(log).toEqual([0, 1, 2, 3, 4]);
    expect(q.size).toBe(0);
  });
});

describe('KeyedMutex.held', () => {
  it('lists each held key with its waiters, and forgets it once free', async () => {
    const m = new KeyedMutex();
    let release!: () => void;
    const first = m.run('alice', () => new Promise<void>((r) => (release = r)));
    const second = m.run('alice', () => undefined);
    await sleep(5);
    expect(m.held()).toEqual([{ key: 'alice', heldMs: expect.any(Number), waiting: 1 }]);
    release();
    await Promise.all([first, second]);
    expect(m.held()).toEqual([]);
  });
});

describe('eachLimit', () => {
  it('runs every item with at most `limit` at once', async () => {
    let running = 0;
    let most = 0;
    const done: number[] = [];
    await eachLimit([1, 2, 3, 4, 5, 6, 7], 3, async (n) => {
      most = Math.max(most, ++running);
      await new Promise((r) => setTimeout(r, 5 * (n % 3)));
      done.push(n);
      running--;
    });
    expect(most).toBe(3);
    expect(done.sort()).toEqual([1, 2, 3, 4, 5, 6, 7]);
  });

  it('rejects with the first error after the running ones settled, starting no more', async () => {
    const started: number[] = [];
    let settled = 0;
    const err = await eachLimit([1, 2, 3, 4, 5], 2, async (n) => {
      started.push(n);
      await new Promise((r) => setTimeout(r, n === 1 ? 1 : 20));
      settled++;
      if (n === 1) throw new Error('one failed');
    }).catch((e: Error) => e);
    expect((err as Error).message).toBe('one failed');
    expect(started).toEqual([1, 2]);
    expect(settled).toBe(2);
  });
});
