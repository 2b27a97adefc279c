import { Routes } from '@kluis/protocol';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { accountIn, admin, adminOk, adminToken, brandWithPlan, mintCodes } from '../test-support/admin.js';
import { startTestServer, type TestServer } from '../test-support/test-server.js';

/**
 * Every admin endpoint × (no token, revoked token, brand admin of another brand, brand
 * admin of this brand, operator). Mutating cases build a fresh target per caller so one
 * caller's success cannot change what the next one sees.
 */
type Scope = 'operator' | 'brand' | 'any';
interface Case {
  scope: Scope;
  request(): Promise<{ method: string; path: string; body?: unknown }>;
}

let ts: TestServer;
let alpha: { slug: string; planId: string };
let beta: { slug: string; planId: string };
let alphaAdmin: string;
let betaAdmin: string;
let revoked: string;
let n = 0;

beforeAll(async () => {
  ts = await startTestServer();
  alpha = await brandWithPlan(ts, 'alpha');
  beta = await brandWithPlan(ts, 'beta');
  alphaAdmin = (await adminToken(ts, 'alpha reseller', 'brand-admin', 'alpha')).token;
  betaAdmin = (await adminToken(ts, 'beta reseller', 'brand-admin', 'beta')).token;
  const gone = await adminToken(ts, 'former operator', 'operator');
  await adminOk(ts, ts.operatorToken, 'POST', `/admin/admins/${gone.id}/revoke`);
  revoked = gone.token;
});
afterAll(() => ts.close());

const account = async () => (await accountIn(ts, alpha)).accountId;
const plan = async () => (await adminOk(ts, ts.operatorToken, 'POST', `/admin/brands/alpha/plans`, { name: `p${++n}`, durationUnit: 'months', durationCount: 1, priceCents: 0, currency: 'EUR' })).id;

const cases: Record<string, Case> = {
  createInvites: { scope: 'operator', request: async () => ({ method: 'POST', path: '/admin/invites', body: { count: 1 } }) },
  adminMe: { scope: 'any', request: async () => ({ method: 'GET', path: '/admin/me' }) },
  adminStats: { scope: 'any', request: async () => ({ method: 'GET', path: '/admin/stats' }) },
  listBrands: { scope: 'any', request: async () => ({ method: 'GET', path: '/admin/brands' }) },
  createBrand: { scope: 'operator', request: async () => ({ method: 'POST', path: '/admin/brands', body: { slug: `new-${++n}`, name: 'New' } }) },
  getBrand: { scope: 'brand', request: async () => ({ method: 'GET', path: '/admin/brands/alpha' }) },
  updateBrand: { scope: 'operator', request: async () => ({ method: 'PATCH', path: '/admin/brands/alpha', body: { name: 'Alpha' } }) },
  retireBrand: {
    scope: 'operator',
    request: async () => {
      const slug = `old-${++n}`;
      await adminOk(ts, ts.operatorToken, 'POST', '/admin/brands', { slug, name: 'Old' });
      return { method: 'POST', path: `/admin/brands/${slug}/retire` };
    },
  },
  listPlans: { scope: 'brand', request: async () => ({ method: 'GET', path: '/admin/brands/alpha/plans' }) },
  createPlan: {
    scope: 'brand',
    request: async () => ({ method: 'POST', path: '/admin/brands/alpha/plans', body: { name: 'x', durationUnit: 'days', durationCount: 7, priceCents: 100, currency: 'EUR' } }),
  },
  updatePlan: { scope: 'brand', request: async () => ({ method: 'PATCH', path: `/admin/brands/alpha/plans/${await plan()}`, body: { priceCents: 5 } }) },
  retirePlan: { scope: 'brand', request: async () => ({ method: 'POST', path: `/admin/brands/alpha/plans/${await plan()}/retire` }) },
  listCodes: { scope: 'brand', request: async () => ({ method: 'GET', path: '/admin/brands/alpha/codes' }) },
  createCodes: { scope: 'brand', request: async () => ({ method: 'POST', path: '/admin/brands/alpha/codes', body: { planId: alpha.planId, type: 'invite', count: 2 } }) },
  revokeCodes: { scope: 'brand', request: async () => ({ method: 'POST', path: '/admin/brands/alpha/codes/revoke', body: { codes: await mintCodes(ts, alpha, 'invite') } }) },
  listAccounts: { scope: 'brand', request: async () => ({ method: 'GET', path: '/admin/accounts?brand=alpha' }) },
  getAccount: { scope: 'brand', request: async () => ({ method: 'GET', path: `/admin/accounts/${await account()}` }) },
  suspendAccount: { scope: 'brand', request: async () => ({ method: 'POST', path: `/admin/accounts/${await account()}/suspend` }) },
  unsuspendAccount: { scope: 'brand', request: async () => ({ method: 'POST', path: `/admin/accounts/${await account()}/unsuspend` }) },
  deleteAccount: { scope: 'brand', request: async () => ({ method: 'DELETE', path: `/admin/accounts/${await account()}` }) },
  revokeAccountDevices: { scope: 'brand', request: async () => ({ method: 'POST', path: `/admin/accounts/${await account()}/revoke-devices` }) },
  listAdmins: { scope: 'operator', request: async () => ({ method: 'GET', path: '/admin/admins' }) },
  createAdmin: { scope: 'operator', request: async () => ({ method: 'POST', path: '/admin/admins', body: { name: `a${++n}`, role: 'brand-admin', brand: 'alpha' } }) },
  revokeAdmin: { scope: 'operator', request: async () => ({ method: 'POST', path: `/admin/admins/${(await adminToken(ts, `r${++n}`, 'brand-admin', 'alpha')).id}/revoke` }) },
  listAudit: { scope: 'any', request: async () => ({ method: 'GET', path: '/admin/audit' }) },
  adminNodes: { scope: 'operator', request: async () => ({ method: 'GET', path: '/admin/nodes' }) },
};

describe('admin authorization matrix', () => {
  it('has a case for every admin endpoint', () => {
    const adminRoutes = Object.entries(Routes)
      .filter(([name, route]) => route.includes(' /admin/') && name !== 'adminOpenApi')
      .map(([name]) => name)
      .sort();
    expect(Object.keys(cases).sort()).toEqual(adminRoutes);
  });

  for (const [name, c] of Object.entries(cases)) {
    it(`${name}: only the allowed callers succeed`, async () => {
      const callers: Array<[string, () => string | undefined, boolean, number]> = [
        ['no token', () => undefined, false, 401],
        ['revoked token', () => revoked, false, 401],
        ['brand admin of another brand', () => betaAdmin, c.scope === 'any', 403],
        ['brand admin of this brand', () => alphaAdmin, c.scope !== 'operator', 403],
        ['operator', () => ts.operatorToken, true, 0],
      ];
      for (const [who, token, allowed, refusal] of callers) {
        const req = await c.request();
        const r = await admin(ts, token(), req.method, req.path, req.body);
        const got = `${who}: ${r.status} ${JSON.stringify(r.body).slice(0, 200)}`;
        if (allowed) expect(r.status, got).toBe(200);
        else {
          expect(r.status, got).toBe(refusal);
          expect(typeof r.body.message, got).toBe('string');
        }
      }
    });
  }

  it("never shows a brand admin another brand's data", async () => {
    await accountIn(ts, beta);
    const brands = await adminOk(ts, alphaAdmin, 'GET', '/admin/brands');
    expect(brands.brands.map((b: { slug: string }) => b.slug)).toEqual(['alpha']);
    const accounts = await adminOk(ts, alphaAdmin, 'GET', '/admin/accounts');
    expect(accounts.accounts.every((a: { brand: string }) => a.brand === 'alpha')).toBe(true);
    expect((await admin(ts, alphaAdmin, 'GET', '/admin/accounts?brand=beta')).status).toBe(403);
    const audit = await adminOk(ts, alphaAdmin, 'GET', '/admin/audit');
    expect(audit.entries.every((e: { brand: string | null }) => e.brand === 'alpha')).toBe(true);
    expect((await admin(ts, alphaAdmin, 'GET', '/admin/audit?brand=beta')).status).toBe(403);
    const betaAccount = await accountIn(ts, beta);
    expect((await admin(ts, alphaAdmin, 'POST', `/admin/accounts/${betaAccount.accountId}/suspend`)).status).toBe(403);
    expect((await admin(ts, alphaAdmin, 'POST', '/admin/brands/alpha/codes', { planId: beta.planId, type: 'invite', count: 1 })).status).toBe(404);
    const stats = await adminOk(ts, alphaAdmin, 'GET', '/admin/stats');
    expect(stats.brands.map((b: { brand: string }) => b.brand)).toEqual(['alpha']);
    expect(stats.envelopesQueued).toBeNull();
  });

  it('serves an OpenAPI 3 document covering every admin route, without a token', async () => {
    const r = await admin(ts, undefined, 'GET', '/admin/openapi.json');
    expect(r.status).toBe(200);
    expect(r.body.openapi).toMatch(/^3\./);
    const ops = Object.values(r.body.paths as Record<string, Record<string, { operationId: string }>>).flatMap((p) => Object.values(p).map((o) => o.operationId));
    expect(ops.sort()).toEqual(Object.keys(cases).sort());
    expect(r.body.paths['/admin/brands/{brand}/codes'].post.requestBody.content['application/json'].schema.properties.count.maximum).toBe(1000);
  });
});
