import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { accountIn, admin, adminOk, brandWithPlan, mintCodes } from '../test-support/admin.js';
import { registerAccount, uniqueName } from '../test-support/accounts.js';
import { call } from '../test-support/http.js';
import { b64, generateDeviceKeys, newIdentity, newPassword } from '../test-support/keys.js';
import { openSqliteForTest } from '../test-support/peek.js';
import { startTestServer, type TestServer } from '../test-support/test-server.js';

const DAY = 86_400_000;
let now = Date.UTC(2026, 2, 1);
let ts: TestServer;
let brand: { slug: string; planId: string };

beforeAll(async () => {
  ts = await startTestServer({}, { clock: () => now });
  brand = await brandWithPlan(ts, 'codes', { durationUnit: 'months', durationCount: 6 }, { memberInviteQuota: 2 });
});
afterAll(() => ts.close());

function registration(invite: string) {
  const identity = newIdentity();
  return {
    inviteCode: invite,
    username: uniqueName(),
    identityKey: b64(identity.publicKey.serialize()),
    registrationId: 77,
    password: newPassword(),
    ...generateDeviceKeys(identity, { preKeys: 1, kyberPreKeys: 1 }).upload,
  };
}
const register = (invite: string) => call(ts.url, 'POST', '/v1/accounts', { body: registration(invite) });

describe('code lifecycle', () => {
  it('invite → register with the first period of its plan; the list shows it used', async () => {
    const minted = await adminOk(ts, ts.operatorToken, 'POST', '/admin/brands/codes/codes', { planId: brand.planId, type: 'invite', count: 3 });
    expect(minted.codes).toHaveLength(3);
    for (const c of minted.codes) expect(c.code).toMatch(/^([0-9A-HJKMNP-TV-Z]{4}-){6}[0-9A-HJKMNP-TV-Z]$/);
    const r = await register(minted.codes[0].code);
    expect(r.status).toBe(200);
    const me = await call(ts.url, 'GET', '/v1/subscription', { auth: `Basic ${Buffer.from(`${r.body.accountId}.1:x`).toString('base64')}` });
    expect(me.status).toBe(401); // sanity: wrong password
    const list = await adminOk(ts, ts.operatorToken, 'GET', `/admin/brands/codes/codes?batchId=${minted.batchId}`);
    expect(list.codes.map((c: { status: string }) => c.status).sort()).toEqual(['unused', 'unused', 'used']);
    const view = await adminOk(ts, ts.operatorToken, 'GET', `/admin/accounts/${r.body.accountId}`);
    // Rounded up to the end of its UTC day: the subscriber loses no time, the row no millisecond.
    expect(view.paidUntil).toBe(Date.UTC(2026, 8, 2) - 1);
    // Only hashes are stored: no minted code appears anywhere in the database.
    const peek = openSqliteForTest(ts.dataDir);
    try {
      const dump = JSON.stringify(peek.all('select * from invite_codes'));
      for (const c of minted.codes) expect(dump).not.toContain(c.code.replace(/-/g, ''));
    } finally {
      peek.close();
    }
  });

  it('rejects reused, revoked, expired, mistyped and wrong-kind codes with clear errors', async () => {
    const [used] = await mintCodes(ts, brand, 'invite');
    expect((await register(used!)).status).toBe(200);
    const reuse = await register(used!);
    expect([reuse.status, reuse.body.code]).toEqual([403, 'INVALID_INVITE']);
    expect(reuse.body.message).toMatch(/already used/);

    const [revoked] = await mintCodes(ts, brand, 'invite');
    expect((await adminOk(ts, ts.operatorToken, 'POST', '/admin/brands/codes/codes/revoke', { codes: [revoked] })).revoked).toBe(1);
    expect((await register(revoked!)).body.message).toMatch(/revoked/);

    const [expiring] = await mintCodes(ts, brand, 'invite', 1, { expiresAt: '2026-03-05' });
    now += 5 * DAY;
    expect((await register(expiring!)).body.message).toMatch(/expired on 2026-03-05/);

    expect((await register('ABCD-EFGH')).body.message).toMatch(/mistyped/);
    const [good] = await mintCodes(ts, brand, 'invite');
    const typo = good!.slice(0, -1) + (good!.endsWith('0') ? '1' : '0');
    expect((await register(typo)).body.message).toMatch(/unknown: check it for typos/);

    const [renewal] = await mintCodes(ts, brand, 'renewal');
    expect((await register(renewal!)).body.message).toMatch(/renewal code/);
    const user = await accountIn(ts, brand);
    const [invite] = await mintCodes(ts, brand, 'invite');
    const wrongKind = await call(ts.url, 'POST', '/v1/subscription/renew', { auth: user.auth, body: { code: invite } });
    expect([wrongKind.status, wrongKind.body.code]).toEqual([403, 'INVALID_CODE']);
    expect(wrongKind.body.message).toMatch(/invite code/);
    // A failed renewal leaves the invite unused.
    expect((await register(invite!)).status).toBe(200);
  });

  it('redeems one code concurrently exactly once (invite and renewal)', async () => {
    const [invite] = await mintCodes(ts, brand, 'invite');
    const results = await Promise.all(Array.from({ length: 8 }, () => register(invite!)));
    expect(results.filter((r) => r.status === 200)).toHaveLength(1);

    const users = await Promise.all([accountIn(ts, brand), accountIn(ts, brand), accountIn(ts, brand)]);
    const [renewal] = await mintCodes(ts, brand, 'renewal');
    const renewals = await Promise.all(users.map((u) => call(ts.url, 'POST', '/v1/subscription/renew', { auth: u.auth, body: { code: renewal } })));
    expect(renewals.filter((r) => r.status === 200)).toHaveLength(1);
  });

  it('refuses renewal codes of another brand and keeps them unused', async () => {
    const other = await brandWithPlan(ts, 'other');
    const user = await accountIn(ts, brand);
    const [foreign] = await mintCodes(ts, other, 'renewal');
    const r = await call(ts.url, 'POST', '/v1/subscription/renew', { auth: user.auth, body: { code: foreign } });
    expect(r.body.message).toMatch(/another brand/);
    const list = await adminOk(ts, ts.operatorToken, 'GET', '/admin/brands/other/codes?status=unused&type=renewal');
    expect(list.codes).toHaveLength(1);
  });
});

describe('member invites', () => {
  it('respect the brand quota and leave no inviter→invitee link in the database', async () => {
    const inviter = await accountIn(ts, brand);
    const first = await call(ts.url, 'POST', '/v1/invites', { auth: inviter.auth });
    expect(first.status).toBe(200);
    expect(first.body.remaining).toBe(1);
    const second = await call(ts.url, 'POST', '/v1/invites', { auth: inviter.auth });
    expect(second.body.remaining).toBe(0);
    const third = await call(ts.url, 'POST', '/v1/invites', { auth: inviter.auth });
    expect([third.status, third.body.code]).toEqual([403, 'QUOTA_EXCEEDED']);

    const invitee = await registerAccount(ts, { invite: first.body.code });
    const sub = await call(ts.url, 'GET', '/v1/subscription', { auth: inviter.auth });
    expect(sub.body.memberInvites).toEqual({ allowed: true, quota: 2, used: 2 });

    const peek = openSqliteForTest(ts.dataDir);
    try {
      // No row anywhere holds both ids, nor the inviter's id next to an invite code; only a count is kept.
      for (const t of peek.all("select name from sqlite_master where type = 'table'")) {
        for (const row of peek.all(`select * from ${String(t.name)}`)) {
          const text = JSON.stringify(row);
          expect(text.includes(inviter.accountId) && text.includes(invitee.accountId), String(t.name)).toBe(false);
        }
      }
      expect(JSON.stringify(peek.all('select * from invite_codes'))).not.toContain(inviter.accountId);
      const codeColumns = Object.keys(peek.all('select * from invite_codes limit 1')[0]!);
      expect(codeColumns.some((c) => /account|inviter|user/.test(c))).toBe(false);
    } finally {
      peek.close();
    }
  });

  it('are refused when the brand does not allow them', async () => {
    const closed = await brandWithPlan(ts, 'closed', {}, { membersMayInvite: false });
    const user = await accountIn(ts, closed);
    expect((await call(ts.url, 'POST', '/v1/invites', { auth: user.auth })).status).toBe(403);
  });
});

describe('bad input → 4xx with a reason', () => {
  const cases: Array<[string, string, string, unknown, number, RegExp]> = [
    ['duplicate slug', 'POST', '/admin/brands', { slug: 'codes', name: 'again' }, 409, /exists already/],
    ['malformed slug', 'POST', '/admin/brands', { slug: 'Bad Slug!', name: 'x' }, 400, /slug/],
    ['zero-length plan', 'POST', '/admin/brands/codes/plans', { name: 'zero', durationUnit: 'days', durationCount: 0, priceCents: 0, currency: 'EUR' }, 400, /durationCount must be >= 1/],
    ['unknown brand', 'POST', '/admin/brands/nope/plans', { name: 'x', durationUnit: 'days', durationCount: 1, priceCents: 0, currency: 'EUR' }, 404, /no brand 'nope'/],
    ['unknown plan', 'POST', '/admin/brands/codes/codes', { planId: '00000000-0000-4000-8000-000000000000', type: 'invite', count: 1 }, 404, /no plan/],
    ['malformed date', 'POST', '/admin/brands/codes/codes', { planId: 'PLAN', type: 'invite', count: 1, expiresAt: 'next tuesday' }, 400, /expiresAt/],
    ['impossible date', 'POST', '/admin/brands/codes/codes', { planId: 'PLAN', type: 'invite', count: 1, expiresAt: '2027-02-30' }, 400, /not a real date/],
    ['past date', 'POST', '/admin/brands/codes/codes', { planId: 'PLAN', type: 'invite', count: 1, expiresAt: '2020-01-01' }, 400, /future/],
    ['oversized batch', 'POST', '/admin/brands/codes/codes', { planId: 'PLAN', type: 'invite', count: 1001 }, 400, /count must be <= 1000/],
    ['unknown code type', 'POST', '/admin/brands/codes/codes', { planId: 'PLAN', type: 'gift', count: 1 }, 400, /type/],
    ['brand admin without brand', 'POST', '/admin/admins', { name: 'x', role: 'brand-admin' }, 400, /needs a brand/],
    ['bad currency', 'POST', '/admin/brands/codes/plans', { name: 'x', durationUnit: 'days', durationCount: 1, priceCents: 0, currency: 'euro' }, 400, /currency/],
    ['bad limit', 'GET', '/admin/brands/codes/codes?limit=0', undefined, 400, /limit/],
    ['unknown account', 'GET', '/admin/accounts/00000000-0000-4000-8000-000000000000', undefined, 404, /no such account/],
    // Names others read (console, app): no spoofing characters (issue 11).
    ['bidi override in a brand name', 'POST', '/admin/brands', { slug: 'spoof', name: 'Kluis \u202Egnp.exe' }, 400, /body\/name contains a character refused in names/],
    ['bidi isolate in a brand rename', 'PATCH', '/admin/brands/codes', { name: '\u2067Kluis\u2069' }, 400, /refused in names/],
    ['lone surrogate in a plan name', 'POST', '/admin/brands/codes/plans', { name: 'Pro \ud83d', durationUnit: 'days', durationCount: 1, priceCents: 0, currency: 'EUR' }, 400, /lone surrogate/],
    ['control character in an admin name', 'POST', '/admin/admins', { name: 'ops\u0007', role: 'operator' }, 400, /refused in names/],
    ['C1 control in an admin name', 'POST', '/admin/admins', { name: 'ops\u009b2J', role: 'operator' }, 400, /refused in names/],
    ['zero-width space in an admin name', 'POST', '/admin/admins', { name: 'op\u200Berator', role: 'operator' }, 400, /refused in names/],
    ['logo URL with a space', 'PATCH', '/admin/brands/codes', { logoUrl: 'https://logo.example/a b.png' }, 400, /logoUrl/],
  ];
  for (const [name, method, path, body, status, message] of cases) {
    it(name, async () => {
      const withPlan = body && JSON.parse(JSON.stringify(body).replace('"PLAN"', JSON.stringify(brand.planId)));
      const r = await admin(ts, ts.operatorToken, method, path, withPlan);
      expect(r.status, JSON.stringify(r.body)).toBe(status);
      expect(r.body.message).toMatch(message);
    });
  }
  it('refuses a spoofing plan rename and keeps the old name; takes names in any script, with emoji', async () => {
    const path = `/admin/brands/codes/plans/${brand.planId}`;
    for (const name of ['\u200FPro', 'Pro\u202D', 'P\udc00ro', 'Pro\n'] as const) {
      const r = await admin(ts, ts.operatorToken, 'PATCH', path, { name });
      expect(r.status, JSON.stringify(r.body)).toBe(400);
      expect(r.body).toEqual({ code: 'BAD_REQUEST', message: expect.stringMatching(/^body\/name contains a character refused in names/) });
    }
    const plans = await adminOk(ts, ts.operatorToken, 'GET', '/admin/brands/codes/plans');
    expect(plans.plans.find((p: { id: string }) => p.id === brand.planId).name).toBe('plan');
    for (const name of ['Kluis Pro 🔒', 'کلویس', 'クルイス', '👨‍👩‍👧 Family']) {
      expect((await admin(ts, ts.operatorToken, 'PATCH', path, { name })).status, name).toBe(200);
    }
    await adminOk(ts, ts.operatorToken, 'PATCH', path, { name: 'plan' });
  });
});
