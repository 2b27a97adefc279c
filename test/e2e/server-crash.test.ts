import { afterAll, describe, expect, it } from 'vitest';
import type { StoredMessage } from '@kluis/sdk';
import { Harness, waitUntil } from '../harness/index.js';

/**
 * SIGKILL the server process mid-conversation and start it again on the same data:
 * every message whose send was acknowledged arrives, and none arrives twice.
 */
describe('server killed mid-conversation', () => {
  const h = new Harness();
  afterAll(() => h.dispose());

  it('delivers every acknowledged message exactly once after a SIGKILL and restart', async () => {
    const first = await h.spawnServer();
    const alice = await h.registeredClient(first, 'alice');
    const bob = await h.registeredClient(first, 'bob');
    const received: StoredMessage[] = [];
    bob.on('message', (m) => received.push(m));
    await bob.connect();

    const total = 120;
    const acked: string[] = [];
    const failed: string[] = [];
    let restarted: Awaited<ReturnType<Harness['spawnServer']>> | undefined;
    for (let i = 0; i < total; i++) {
      const text = `message ${i}`;
      if (i === 40) first.process.kill('SIGKILL');
      if (i === 60) {
        await first.process.wait();
        restarted = await h.spawnServer({ dataDir: first.dataDir, port: first.port });
      }
      try {
        await alice.send('bob', text);
        acked.push(text);
      } catch {
        failed.push(text);
      }
    }
    expect(restarted).toBeDefined();
    expect(failed.length).toBeGreaterThan(0); // the kill really interrupted sends
    expect(acked.length).toBeGreaterThanOrEqual(total - 21);

    await waitUntil('bob has every acknowledged message', () => acked.every((t) => received.some((m) => m.text === t)), 30_000);
    const texts = received.map((m) => m.text);
    expect(new Set(texts).size).toBe(texts.length); // none twice
    // Per-sender order survives the crash.
    const order = acked.filter((t) => texts.includes(t));
    expect(texts.filter((t) => acked.includes(t))).toEqual(order);
    const stored = await bob.messages.list({ conversation: 'alice', limit: 1000 });
    expect(stored.filter((m) => m.direction === 'incoming').length).toBe(texts.length);
  });
});
