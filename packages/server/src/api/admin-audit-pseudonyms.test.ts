import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { accountIn, adminOk, brandWithPlan } from '../test-support/admin.js';
import { openSqliteForTest } from '../test-support/peek.js';
import { startTestServer, type TestServer } from '../test-support/test-server.js';

const DAY = 86_400_000;
let now = Date.UTC(2026, 0, 10, 12);
let ts: TestServer;
let brand: { slug: string; planId: string };

beforeAll(async () => {
  ts = await startTestServer({}, { clock: () => now });
  brand = await brandWithPlan(ts, 'acme');
});
afterAll(() => ts.close());

type Entry = { action: string; target: string | null };
const entries = async (): Promise<Entry[]> => (await adminOk(ts, ts.operatorToken, 'GET', '/admin/audit?limit=1000')).entries;
const dump = () => {
  const peek = openSqliteForTest(ts.dataDir);
  try {
    return JSON.stringify(peek.all('select * from audit_log'));
  } finally {
    peek.close();
  }
};

describe("a deleted account's audit entries", () => {
  it('admin deletion: the username and id leave the log, one random pseudonym keeps the history together', async () => {
    const gone = await accountIn(ts, brand);
    const kept = await accountIn(ts, brand);
    for (const a of [gone, kept]) {
      await adminOk(ts, ts.operatorToken, 'POST', `/admin/accounts/${a.accountId}/suspend`);
      await adminOk(ts, ts.operatorToken, 'POST', `/admin/accounts/${a.accountId}/unsuspend`);
    }
    expect((await entries()).filter((e) => e.target === gone.username)).toHaveLength(2);
    await adminOk(ts, ts.operatorToken, 'DELETE', `/admin/accounts/${gone.accountId}`);

    const after = await entries();
    const text = dump();
    expect(text).not.toContain(gone.username);
    expect(text).not.toContain(gone.accountId);
    const mine = after.filter((e) => e.target?.startsWith('deleted-'));
    expect(mine.map((e) => e.action).sort()).toEqual(['account.delete', 'account.suspend', 'account.unsuspend']);
    expect(new Set(mine.map((e) => e.target)).size).toBe(1);
    // Random, not derived from the account: the id's or name's hash would be recomputable.
    expect(mine[0]!.target).toMatch(/^deleted-[0-9a-f]{16}$/);
    // The other account's entries are untouched.
    expect(after.filter((e) => e.target === kept.username).map((e) => e.action).sort()).toEqual(['account.suspend', 'account.unsuspend']);
  });

  it('retention purge: the purged account is pseudonymised in the log too', async () => {
    const lapsed = await accountIn(ts, brand);
    await adminOk(ts, ts.operatorToken, 'POST', `/admin/accounts/${lapsed.accountId}/suspend`);
    expect(dump()).toContain(lapsed.username);
    now += 70 * DAY; // past 30 paid + 7 grace + 30 retention, and 30 days suspended
    expect((await ts.server.runExpiry()).purgedAccounts).toBeGreaterThanOrEqual(1);
    expect((await adminOk(ts, ts.operatorToken, 'GET', `/admin/accounts/${lapsed.accountId}`)).state).toBe('purged');
    expect(dump()).not.toContain(lapsed.username);
    expect((await entries()).some((e) => e.action === 'account.suspend' && e.target?.startsWith('deleted-'))).toBe(true);
  });
});
