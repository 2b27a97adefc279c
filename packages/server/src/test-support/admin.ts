import { call, type HttpResult } from './http.js';
import { registerAccount, type TestDevice } from './accounts.js';
import type { TestServer } from './test-server.js';

/** Calls the operator API with a Bearer token; throws on non-200 when `ok` is asked for. */
export async function admin(ts: TestServer, token: string | undefined, method: string, path: string, body?: unknown): Promise<HttpResult> {
  return call(ts.url, method, path, { auth: token === undefined ? undefined : `Bearer ${token}`, body });
}

export async function adminOk(ts: TestServer, token: string, method: string, path: string, body?: unknown) {
  const r = await admin(ts, token, method, path, body);
  if (r.status !== 200) throw new Error(`${method} ${path}: ${r.status} ${JSON.stringify(r.body)}`);
  return r.body;
}

/** A brand with one plan (30 days unless told), made by the operator. */
export async function brandWithPlan(ts: TestServer, slug: string, plan: { durationUnit?: 'days' | 'months'; durationCount?: number } = {}, settings: Record<string, unknown> = {}) {
  await adminOk(ts, ts.operatorToken, 'POST', '/admin/brands', { slug, name: `Brand ${slug}`, ...settings });
  const p = await adminOk(ts, ts.operatorToken, 'POST', `/admin/brands/${slug}/plans`, {
    name: 'plan',
    durationUnit: plan.durationUnit ?? 'days',
    durationCount: plan.durationCount ?? 30,
    priceCents: 1999,
    currency: 'EUR',
  });
  return { slug, planId: p.id as string };
}

export async function mintCodes(ts: TestServer, brand: { slug: string; planId: string }, type: 'invite' | 'renewal', count = 1, extra: Record<string, unknown> = {}): Promise<string[]> {
  const r = await adminOk(ts, ts.operatorToken, 'POST', `/admin/brands/${brand.slug}/codes`, { planId: brand.planId, type, count, ...extra });
  return r.codes.map((c: { code: string }) => c.code);
}

export async function adminToken(ts: TestServer, name: string, role: 'operator' | 'brand-admin', brand?: string): Promise<{ id: string; token: string }> {
  const r = await adminOk(ts, ts.operatorToken, 'POST', '/admin/admins', { name, role, ...(brand && { brand }) });
  return { id: r.admin.id, token: r.token };
}

export async function accountIn(ts: TestServer, brand: { slug: string; planId: string }): Promise<TestDevice> {
  const [invite] = await mintCodes(ts, brand, 'invite');
  return registerAccount(ts, { invite });
}
