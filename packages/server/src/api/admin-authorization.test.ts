import { randomUUID } from 'node:crypto';
import { ErrorCode, routeParts, Routes, type RouteName } from '@kluis/protocol';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { accountIn, admin, adminOk, adminToken, brandWithPlan, mintCodes } from '../test-support/admin.js';
import { registerAccount, type TestDevice } from '../test-support/accounts.js';
import { call, type HttpResult } from '../test-support/http.js';
import { startTestServer, type TestServer } from '../test-support/test-server.js';
import { apiRoutes } from './index.js';

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

const ERROR_CODES = new Set<string>(Object.values(ErrorCode));

/** A refusal in the project's shape: JSON {code, message}, the code the status stands for. */
function expectRefusal(r: HttpResult, status: number, got: string): void {
  expect(r.status, got).toBe(status);
  expect(r.headers.get('content-type'), got).toMatch(/^application\/json/);
  expect(ERROR_CODES.has(r.body?.code), got).toBe(true);
  if (status === 401) expect(r.body.code, got).toBe(ErrorCode.Unauthorized);
  if (status === 403) expect(r.body.code, got).toBe(ErrorCode.Forbidden);
  expect(typeof r.body.message, got).toBe('string');
  expect(r.body.message.length, got).toBeGreaterThan(5);
}

describe('admin authorization matrix', () => {
  it('has a case for every admin endpoint', () => {
    // From both tables: the protocol's /admin paths and the routes the server guards with admin tokens.
    const adminRoutes = Object.entries(Routes)
      .filter(([name, route]) => route.includes(' /admin/') && name !== 'adminOpenApi')
      .map(([name]) => name)
      .sort();
    const guarded = apiRoutes.filter((r) => r.auth === 'admin' || r.auth === 'operator').map((r) => r.name).sort();
    expect(guarded).toEqual(adminRoutes);
    expect(Object.keys(cases).sort()).toEqual(adminRoutes);
    // The scope each case tests is the one the route enforces: operator-only routes are 'operator'.
    for (const r of apiRoutes.filter((d) => d.auth === 'operator')) expect(cases[r.name]?.scope, r.name).toBe('operator');
    for (const r of apiRoutes.filter((d) => d.auth === 'admin')) expect(cases[r.name]?.scope, r.name).not.toBe('operator');
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
        else expectRefusal(r, refusal, got);
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

/**
 * Every route × the wrong kind of credentials: a device credential opens no admin route,
 * an admin token (operator or brand admin) no device route, and a forged one neither.
 */
describe('credential kinds across every route', () => {
  let device: TestDevice;
  beforeAll(async () => {
    device = await registerAccount(ts);
  });
  const params: Record<string, () => string> = {
    accountId: () => device.accountId,
    deviceId: () => '1',
    username: () => device.username,
    id: () => 'A'.repeat(22),
    brand: () => 'alpha',
    planId: () => alpha.planId,
    adminId: () => randomUUID(),
  };

  it('knows a sample value for every path parameter', () => {
    for (const route of Object.values(Routes)) {
      for (const p of routeParts(route).path.match(/:(\w+)/g) ?? []) expect(params[p.slice(1)], `${route} ${p}`).toBeDefined();
    }
  });

  for (const name of Object.keys(Routes) as RouteName[]) {
    it(`${name}: refuses every credential it does not take`, async () => {
      const def = apiRoutes.find((r) => r.name === name)!;
      if (def.auth === 'none') return;
      const { method, path } = routeParts(Routes[name]);
      const url = path.replace(/:(\w+)/g, (_, p: string) => params[p]!());
      const wrong: Array<[string, string | undefined]> =
        def.auth === 'device'
          ? [['operator token', `Bearer ${ts.operatorToken}`], ['brand admin token', `Bearer ${alphaAdmin}`], ['revoked admin token', `Bearer ${revoked}`], ['no credentials', undefined]]
          : [['device credentials', device.auth], ['no credentials', undefined], ['revoked admin token', `Bearer ${revoked}`]];
      for (const [who, auth] of wrong) {
        const r = await call(ts.url, method, url, { auth });
        expectRefusal(r, 401, `${name} with ${who}: ${r.status} ${JSON.stringify(r.body).slice(0, 200)}`);
      }
    });
  }
});
