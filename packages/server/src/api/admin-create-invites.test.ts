import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { adminOk } from '../test-support/admin.js';
import { startTestServer, type TestServer } from '../test-support/test-server.js';

let ts: TestServer;
beforeAll(async () => {
  ts = await startTestServer();
});
afterAll(() => ts.close());

type Entry = { action: string; target: string | null; brand: string | null; detail: unknown };

describe('POST /admin/invites (kluis admin invite create)', () => {
  it('writes an audit entry per batch, in the same transaction as the codes, without the codes', async () => {
    const before: Entry[] = (await adminOk(ts, ts.operatorToken, 'GET', '/admin/audit?limit=1000')).entries;
    const minted = await adminOk(ts, ts.operatorToken, 'POST', '/admin/invites', { count: 11 });
    expect(minted.codes).toHaveLength(11);
    const after: Entry[] = (await adminOk(ts, ts.operatorToken, 'GET', '/admin/audit?limit=1000')).entries;
    const added = after.filter((e) => !before.some((b) => JSON.stringify(b) === JSON.stringify(e)));
    expect(added).toHaveLength(1);
    expect(added[0]!.action).toBe('codes.create');
    expect(added[0]!.target).toMatch(/^[0-9a-f-]{36}$/);
    const text = JSON.stringify(added[0]);
    const detail = typeof added[0]!.detail === 'string' ? JSON.parse(added[0]!.detail) : added[0]!.detail;
    expect(detail).toMatchObject({ type: 'invite', count: 11 });
    for (const c of minted.codes as string[]) expect(text).not.toContain(c);
  });
});
