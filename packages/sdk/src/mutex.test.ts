import { describe, expect, it } from 'vitest';
import { KeyedMutex, SerialQueue } from './mutex.js';

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
