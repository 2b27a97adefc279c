import { describe, expect, it } from 'vitest';
import { SocketCloseCode } from '@kluis/protocol';
import { adminOk } from '../test-support/admin.js';
import { registerAccount, sendBody } from '../test-support/accounts.js';
import { call } from '../test-support/http.js';
import { TestSocket } from '../test-support/socket-client.js';
import { startTestServer } from '../test-support/test-server.js';

async function waitUntil<T>(what: string, check: () => Promise<T | undefined>, timeoutMs = 5_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await check();
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting until ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

describe('nodes registry and drain (embedded mode: one node)', () => {
  it('lists this node for operators and clients; a stale heartbeat reads as down', async () => {
    let now = Date.now();
    const ts = await startTestServer({ nodeName: 'solo', region: 'eu-nl', heartbeatIntervalMs: 100 }, { clock: () => now });
    try {
      const bob = await registerAccount(ts);
      const socket = await TestSocket.connect(ts.url, bob.auth);
      await socket.backlog();
      const listed = await waitUntil('the heartbeat counts the socket', async () => {
        const r = await adminOk(ts, ts.operatorToken, 'GET', '/admin/nodes');
        return r.nodes[0]?.connections === 1 ? r : undefined;
      });
      expect(listed.nodes).toEqual([
        expect.objectContaining({ name: 'solo', region: 'eu-nl', url: ts.url, connections: 1, ready: true, draining: false, status: 'up' }),
      ]);
      expect(listed.staleAfterMs).toBeGreaterThan(0);

      const pub = await call(ts.url, 'GET', '/v1/nodes');
      expect(pub.status).toBe(200);
      // No counts or health for strangers: just where to connect.
      expect(pub.body).toEqual({ nodes: [{ name: 'solo', region: 'eu-nl', url: ts.url }] });
      expect((await call(ts.url, 'GET', '/admin/nodes')).status).toBe(401);

      // The clock jumps past three heartbeats without one being written.
      now += 60_000;
      const stale = await adminOk(ts, ts.operatorToken, 'GET', '/admin/nodes');
      expect(stale.nodes[0].status).toBe('down');
      expect((await call(ts.url, 'GET', '/v1/nodes')).body).toEqual({ nodes: [] });
      await socket.close();
    } finally {
      await ts.close();
    }
  });

  it('drain: readiness 503, sockets closed with 4010, accepted sends committed, new sockets refused', async () => {
    const ts = await startTestServer({ nodeName: 'leaving', drainTimeoutMs: 5_000 });
    try {
      const alice = await registerAccount(ts);
      const bob = await registerAccount(ts);
      const socket = await TestSocket.connect(ts.url, bob.auth);
      await socket.backlog();
      const sender = await TestSocket.connect(ts.url, alice.auth);
      await sender.backlog();
      // A send over the socket in the same tick as the drain still gets its answer.
      const answered = sender.request(bob.accountId, sendBody([bob], 'last'));
      const draining = ts.server.drain();
      const r = await answered;
      expect(r.status).toBe(200);
      expect((await socket.closed).code).toBe(SocketCloseCode.NodeDraining);
      const result = await draining;
      expect(result).toEqual({ timedOut: false });
      await expect(fetch(`${ts.url}/readyz`)).rejects.toThrow();
      // The committed send waits in bob's queue for his next node.
      const restarted = await startTestServer({ dataDir: ts.dataDir });
      try {
        const again = await TestSocket.connect(restarted.url, bob.auth);
        const backlog = await again.backlog();
        expect(backlog.map((e: { content: string }) => Buffer.from(e.content, 'base64').toString())).toContain('last');
        await again.close();
      } finally {
        await restarted.close();
      }
    } finally {
      await ts.close();
    }
  });
});
