import { describe, expect, it } from 'vitest';
import { SlowRequestWatch } from './slow-requests.js';

describe('SlowRequestWatch', () => {
  it('logs a hanging request once, with what the client waits on and no ids, then when it is answered', () => {
    let now = 0;
    const lines: string[] = [];
    const watch = new SlowRequestWatch(
      (l) => lines.push(l),
      () => ({
        connected: true,
        locks: [{ key: '6f1c2d3e-0000-4000-8000-000000000001', heldMs: 14_000, waiting: 2 }],
        http: [{ route: 'sendSealed', ms: 12_000 }],
        socketRequests: 0,
        receiveBacklog: 3,
      }),
      15_000,
      () => now,
    );
    const done = watch.start('POST /api/conversations/:conv/messages');
    const quick = watch.start('GET /api/state');
    now = 1_000;
    quick();
    now = 16_000;
    watch.check();
    watch.check();
    expect(lines).toEqual([
      'kluis app: POST /api/conversations/:conv/messages still waiting after 16 s; client: connected; locks held: account 14 s (2 waiting); server requests: sendSealed 12 s; socket sends waiting: 0; received, not processed: 3',
    ]);
    now = 20_000;
    done();
    expect(lines[1]).toBe('kluis app: POST /api/conversations/:conv/messages answered after 20 s');
    watch.stop();
  });
});
