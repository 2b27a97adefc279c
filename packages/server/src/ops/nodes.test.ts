import { describe, expect, it } from 'vitest';
import { SocketCloseCode } from '@kluis/protocol';
import { adminOk } from '../test-support/admin.js';
import { registerAccount, sendBody } from '../test-support/accounts.js';
import { call } from '../test-support/http.js';
import { TestSocket } from '../test-support/socket-client.js';
import { startTestServer } from '../test-support/test-server.js';
import { nodeStatus, staleAfterMs } from './node-registry.js';

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
  it('judges health by the heartbeat age: down after three missed beats (at least 2 s of slack)', () => {
    const row = { name: 'n', region: '', url: 'http://n', startedAt: 0, heartbeatAt: 10_000, connections: 0, ready: true, draining: false };
    expect(staleAfterMs(1_000)).toBe(3_000);
    expect(staleAfterMs(500)).toBe(2_500);
    expect(nodeStatus(row, 13_000, 3_000)).toBe('up');
    expect(nodeStatus(row, 13_001, 3_000)).toBe('down');
    expect(nodeStatus({ ...row, ready: false }, 10_000, 3_000)).toBe('not-ready');
    expect(nodeStatus({ ...row, ready: false, draining: true }, 10_000, 3_000)).toBe('draining');
    expect(nodeStatus({ ...row, draining: true }, 20_000, 3_000)).toBe('down');
  });

  it('lists this node for operators and clients', async () => {
    const ts = await startTestServer({ nodeName: 'solo', region: 'eu-nl', heartbeatIntervalMs: 100 });
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

      await socket.close();
    } finally {
      await ts.close();
    }
  });

  it('drain: readiness 503 and new sockets refused, open ones closed with 4010, every answered send committed', async () => {
    const ts = await startTestServer({ nodeName: 'leaving', drainTimeoutMs: 5_000 });
    try {
      const alice = await registerAccount(ts);
      const bob = await registerAccount(ts);
      const carol = await registerAccount(ts);
      const socket = await TestSocket.connect(ts.url, bob.auth);
      await socket.backlog();
      const sender = await TestSocket.connect(ts.url, alice.auth);
      await sender.backlog();
      // Sends in flight when the drain starts: each is answered 200 (then it must be
      // stored) or loses its socket first (outcome unknown: the client sends it again).
      const sends = Array.from({ length: 20 }, (_, i) =>
        sender.request(bob.accountId, sendBody([bob], `m${i}`)).then(
          (r) => ({ i, status: r.status }),
          () => ({ i, status: 0 }),
        ),
      );
      await sends[0];
      const draining = ts.server.drain();
      // Asked while draining: readiness says so, and a new socket is refused (either may
      // also find the node already gone, which is as good for a balancer or a client).
      const ready = call(ts.url, 'GET', '/readyz').catch(() => undefined);
      const late = TestSocket.connect(ts.url, carol.auth).then(
        (s) => s,
        (e: { status?: number }) => e,
      );
      expect((await socket.closed).code).toBe(SocketCloseCode.NodeDraining);
      const readiness = await ready;
      if (readiness) {
        expect(readiness.status).toBe(503);
        expect(readiness.body).toMatchObject({ draining: true });
      }
      const refused = await late;
      if (refused instanceof TestSocket) {
        // It got in just before the drain began: then it is closed like the others.
        expect((await refused.closed).code).toBe(SocketCloseCode.NodeDraining);
      } else {
        const status = (refused as { status?: number }).status;
        if (status !== undefined) expect(status).toBe(503);
      }
      expect(await draining).toEqual({ timedOut: false });
      const answered = (await Promise.all(sends)).filter((r) => r.status === 200).map((r) => `m${r.i}`);
      expect(answered.length).toBeGreaterThan(0);
      await expect(fetch(`${ts.url}/readyz`)).rejects.toThrow();

      // What was answered waits in bob's queue for his next node.
      const restarted = await startTestServer({ dataDir: ts.dataDir });
      try {
        const again = await TestSocket.connect(restarted.url, bob.auth);
        const backlog = await again.backlog();
        const texts = backlog.map((e: { content: string }) => Buffer.from(e.content, 'base64').toString());
        expect(texts).toEqual(expect.arrayContaining(answered));
        await again.close();
      } finally {
        await restarted.close();
      }
    } finally {
      await ts.close();
    }
  });
});
