import type { AccountView, BrandView, CodeView, PlanView } from '@kluis/protocol';
import { requireBrand, type AdminIdentity } from '../auth/admin-auth.js';
import type { AppContext } from '../context.js';
import type { Executor } from '../db/schema.js';
import { badRequest, notFound } from '../errors.js';
import type { AdminAccountRow } from '../store/accounts.js';
import type { Brand } from '../store/brands.js';
import { codeStatus, type CodeRecord } from '../store/invites.js';
import type { Plan } from '../store/plans.js';
import { accountState, graceEndsAt } from '../subscriptions/periods.js';

/** Shared by the /admin route files: scoping, audit entries and the wire views. */

export const DEFAULT_LIMIT = 100;
export const MAX_LIMIT = 10_000;

export function parseLimit(text: string | undefined): number {
  if (text === undefined) return DEFAULT_LIMIT;
  const n = Number(text);
  if (n < 1 || n > MAX_LIMIT) throw badRequest(`limit must be from 1 to ${MAX_LIMIT}`);
  return n;
}

/** Scope first, then existence: a brand admin learns nothing about other brands' slugs. */
export async function loadBrand(ctx: AppContext, ex: Executor, admin: AdminIdentity, slug: string): Promise<Brand> {
  requireBrand(admin, slug);
  const brand = await ctx.stores.brands.get(ex, slug);
  if (!brand) throw notFound(`there is no brand '${slug}'`);
  return brand;
}

export async function loadPlan(ctx: AppContext, ex: Executor, brand: Brand, planId: string): Promise<Plan> {
  const plan = await ctx.stores.plans.get(ex, planId);
  if (!plan || plan.brandId !== brand.id) throw notFound(`brand '${brand.id}' has no plan ${planId}`);
  return plan;
}

/** Loads an account an admin may act on (404 for other brands' accounts too: ids are not guessable). */
export async function loadAccount(ctx: AppContext, ex: Executor, admin: AdminIdentity, accountId: string): Promise<AdminAccountRow> {
  const [row] = await ctx.stores.subscriptions.adminList(ex, { accountId, limit: 1 });
  if (!row) throw notFound('there is no such account');
  requireBrand(admin, row.brandId);
  return row;
}

/** Who did what, when: never user content or IPs (usernames only as the target of an action). */
export async function audit(
  ctx: AppContext,
  ex: Executor,
  admin: AdminIdentity,
  action: string,
  what: { brand?: string | null; target?: string | null; detail?: Record<string, unknown> } = {},
): Promise<void> {
  await ctx.stores.auditLog.append(ex, {
    at: ctx.clock(),
    adminId: admin.id,
    adminName: admin.name,
    role: admin.role,
    brandId: what.brand ?? null,
    action,
    target: what.target ?? null,
    detail: what.detail ? JSON.stringify(what.detail) : null,
  });
}

export function brandView(b: Brand): BrandView {
  return {
    slug: b.id,
    name: b.name,
    primaryColor: b.primaryColor,
    accentColor: b.accentColor,
    logoUrl: b.logoUrl,
    defaultLanguage: b.defaultLanguage,
    membersMayInvite: b.membersMayInvite,
    memberInviteQuota: b.memberInviteQuota,
    graceDays: b.graceDays,
    retentionDays: b.retentionDays,
    createdAt: b.createdAt,
    retiredAt: b.retiredAt,
  };
}

export function planView(p: Plan): PlanView {
  return {
    id: p.id,
    brand: p.brandId,
    name: p.name,
    durationUnit: p.durationUnit,
    durationCount: p.durationCount,
    priceCents: p.priceCents,
    currency: p.currency,
    createdAt: p.createdAt,
    retiredAt: p.retiredAt,
  };
}

export function codeView(c: CodeRecord, now: number): CodeView {
  return {
    id: c.id ?? '00000000-0000-0000-0000-000000000000',
    batchId: c.batchId,
    brand: c.brandId,
    planId: c.planId,
    type: c.type,
    source: c.source,
    status: codeStatus(c, now),
    createdAt: c.createdAt,
    expiresAt: c.expiresAt,
    usedDay: c.usedAt,
    revokedAt: c.revokedAt,
  };
}

export function accountView(a: AdminAccountRow, now: number): AccountView {
  return {
    id: a.accountId,
    username: a.username,
    brand: a.brandId,
    state: accountState(a, a.graceDays, now),
    suspendedByAdmin: a.suspendedAt !== null,
    paidUntil: a.paidUntil,
    graceEndsAt: graceEndsAt(a.paidUntil, a.graceDays),
    deviceCount: a.deviceCount,
    createdAt: a.createdAt,
    lastSeenDay: a.lastSeenDay,
  };
}
