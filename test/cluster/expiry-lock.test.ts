import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import pg from 'pg';
import { openPostgres } from '../../packages/server/src/db/postgres.js';
import { adminOk } from '../../packages/server/src/test-support/admin.js';
import { registerAccount, sendBody } from '../../packages/server/src/test-support/accounts.js';
import { call } from '../../packages/server/src/test-support/http.js';
import { startTestServer, tempDir, type TestServer } from '../../packages/server/src/test-support/test-server.js';

const DAY = 86_400_000;

/**
 * Cluster-wide jobs: every node runs the expiry timer, but a PostgreSQL advisory lock
 * lets one node at a time do the work, so two nodes never process the same rows.
 */
describe('expiry job on two nodes sharing PostgreSQL', () => {
  let url: string;
  let now = Date.UTC(2026, 0, 10, 12);
  const nodes: TestServer[] = [];

  beforeAll(async () => {
    const admin = new pg.Client({ connectionString: inject('kluisPostgresUrl') });
    await admin.connect();
    await admin.query('create database kluis_expiry_lock');
    await admin.end();
    const u = new URL(inject('kluisPostgresUrl'));
    u.pathname = '/kluis_expiry_lock';
    url = u.toString();
    // A shared data dir only so both find the operator token the first one wrote.
    const dataDir = await tempDir('kluis-expiry-lock-');
    // The timer stays out of the way (1 h): the test runs the job by hand.
    for (let i = 0; i < 2; i++) nodes.push(await startTestServer({ database: url, dataDir, nodeName: `n${i}`, expiryIntervalMs: 3_600_000 }, { clock: () => now }));
  });
  afterAll(async () => {
    for (const n of nodes) await n.close();
  });

  it('lets one node hold a job lock at a time, and frees it afterwards', async () => {
    const a = openPostgres({ url, poolSize: 2 });
    const b = openPostgres({ url, poolSize: 2 });
    try {
      let running = 0;
      let most = 0;
      const job = async () => {
        most = Math.max(most, ++running);
        await new Promise((r) => setTimeout(r, 200));
        running--;
        return 'done';
      };
      const results = await Promise.all([a.tryWithJobLock('t', job), b.tryWithJobLock('t', job)]);
      expect(most).toBe(1);
      expect(results.filter((r) => r.ran)).toHaveLength(1);
      // Released when the job ends: the next run takes it.
      expect(await b.tryWithJobLock('t', async () => 1)).toEqual({ ran: true, value: 1 });
    } finally {
      await a.close();
      await b.close();
    }
  });

  it('never double-processes when two nodes run the expiry job at once', async () => {
    const [n0, n1] = nodes as [TestServer, TestServer];
    const sender = await registerAccount(n0);
    const suspended = [];
    for (let i = 0; i < 6; i++) suspended.push(await registerAccount(n0));
    // Queued envelopes that will expire, and accounts an admin suspends (purged after
    // the default 30-day retention).
    for (const acc of suspended) {
      expect((await call(n0.url, 'PUT', `/v1/messages/${acc.accountId}`, { auth: sender.auth, body: sendBody([acc], 'x') })).status).toBe(200);
      expect((await call(n1.url, 'PUT', `/v1/messages/${acc.accountId}`, { auth: sender.auth, body: sendBody([acc], 'y') })).status).toBe(200);
      await adminOk(n0, n0.operatorToken, 'POST', `/admin/accounts/${acc.accountId}/suspend`);
    }
    const [other] = await Promise.all([registerAccount(n1)]);
    expect((await call(n1.url, 'PUT', `/v1/messages/${other!.accountId}`, { auth: sender.auth, body: sendBody([other!], 'z') })).status).toBe(200);
    now += 31 * DAY;
    const results = await Promise.all([n0.server.runExpiry(), n1.server.runExpiry(), n0.server.runExpiry(), n1.server.runExpiry()]);
    const sum = (k: 'envelopes' | 'purgedAccounts') => results.reduce((s, r) => s + r[k], 0);
    // Each suspended account purged once; 12 envelopes to them plus 1 to `other` expired
    // (the purge may take some of the 12 first: together they account for 13, once).
    expect(sum('purgedAccounts')).toBe(6);
    expect(sum('envelopes')).toBeLessThanOrEqual(13);
    expect(results.some((r) => r.skipped)).toBe(true);
    const check = new pg.Client({ connectionString: url });
    await check.connect();
    try {
      const { rows } = await check.query<{ n: string }>('select count(*) as n from envelopes');
      expect(Number(rows[0]!.n)).toBe(0);
    } finally {
      await check.end();
    }
  });
});
