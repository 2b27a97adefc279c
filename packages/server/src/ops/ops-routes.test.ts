import { describe, expect, it } from 'vitest';
import { registerAccount, sendBody } from '../test-support/accounts.js';
import { call } from '../test-support/http.js';
import { TestSocket } from '../test-support/socket-client.js';
import { startTestServer } from '../test-support/test-server.js';

describe('/readyz and /metrics (embedded mode)', () => {
  it('is ready with SQLite and the in-process bus, and counts sends, pushes and sockets', async () => {
    const ts = await startTestServer();
    try {
      const ready = await call(ts.url, 'GET', '/readyz');
      expect(ready.status).toBe(200);
      expect(ready.body).toMatchObject({ status: 'ready', store: 'ok', bus: 'ok' });
      const alice = await registerAccount(ts);
      const bob = await registerAccount(ts);
      const socket = await TestSocket.connect(ts.url, bob.auth);
      await socket.backlog();
      expect((await call(ts.url, 'PUT', `/v1/messages/${bob.accountId}`, { auth: alice.auth, body: sendBody([bob], 'hi') })).status).toBe(200);
      await socket.next((f) => f.type === 'envelope');
      const res = await fetch(`${ts.url}/metrics`);
      expect(res.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/);
      const text = await res.text();
      expect(text).toMatch(/^kluis_connections 1$/m);
      expect(text).toMatch(/^kluis_envelopes_queued_total 1$/m);
      expect(text).toMatch(/^kluis_envelopes_delivered_total 1$/m);
      expect(text).toMatch(/^kluis_send_latency_seconds_bucket\{le="\+Inf"\} 1$/m);
      expect(text).toMatch(/^# TYPE kluis_send_latency_seconds histogram$/m);
      expect(text).toMatch(/^kluis_store_errors_total 0$/m);
      await socket.close();
    } finally {
      await ts.close();
    }
  });
});
