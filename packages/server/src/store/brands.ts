import type { Updateable } from 'kysely';
import type { BrandsTable, Executor } from '../db/schema.js';

export interface Brand {
  id: string;
  name: string;
  createdAt: number;
  primaryColor: string | null;
  accentColor: string | null;
  logoUrl: string | null;
  defaultLanguage: string;
  membersMayInvite: boolean;
  memberInviteQuota: number;
  graceDays: number;
  retentionDays: number;
  retiredAt: number | null;
}

export type BrandSettings = Partial<Omit<Brand, 'id' | 'createdAt' | 'retiredAt'>>;

export const DEFAULT_BRAND_ID = 'default';

/** Defaults the issue names: members may invite 3 each, 7 days of grace, 30 of retention. */
export const brandDefaults = {
  primaryColor: null,
  accentColor: null,
  logoUrl: null,
  defaultLanguage: 'en',
  membersMayInvite: true,
  memberInviteQuota: 3,
  graceDays: 7,
  retentionDays: 30,
} satisfies BrandSettings;

export class BrandStore {
  async insert(ex: Executor, brand: { id: string; name: string; createdAt: number } & BrandSettings): Promise<void> {
    const b = { ...brandDefaults, ...brand };
    await ex
      .insertInto('brands')
      .values({
        id: b.id,
        name: b.name,
        created_at: b.createdAt,
        primary_color: b.primaryColor,
        accent_color: b.accentColor,
        logo_url: b.logoUrl,
        default_language: b.defaultLanguage,
        members_may_invite: b.membersMayInvite ? 1 : 0,
        member_invite_quota: b.memberInviteQuota,
        grace_days: b.graceDays,
        retention_days: b.retentionDays,
        retired_at: null,
      })
      .execute();
  }

  async update(ex: Executor, id: string, s: BrandSettings): Promise<void> {
    const set: Updateable<BrandsTable> = {};
    if (s.name !== undefined) set.name = s.name;
    if (s.primaryColor !== undefined) set.primary_color = s.primaryColor;
    if (s.accentColor !== undefined) set.accent_color = s.accentColor;
    if (s.logoUrl !== undefined) set.logo_url = s.logoUrl;
    if (s.defaultLanguage !== undefined) set.default_language = s.defaultLanguage;
    if (s.membersMayInvite !== undefined) set.members_may_invite = s.membersMayInvite ? 1 : 0;
    if (s.memberInviteQuota !== undefined) set.member_invite_quota = s.memberInviteQuota;
    if (s.graceDays !== undefined) set.grace_days = s.graceDays;
    if (s.retentionDays !== undefined) set.retention_days = s.retentionDays;
    if (Object.keys(set).length === 0) return;
    await ex.updateTable('brands').set(set).where('id', '=', id).execute();
  }

  async retire(ex: Executor, id: string, now: number): Promise<void> {
    await ex.updateTable('brands').set({ retired_at: now }).where('id', '=', id).where('retired_at', 'is', null).execute();
  }

  async get(ex: Executor, id: string): Promise<Brand | undefined> {
    const row = await ex.selectFrom('brands').selectAll().where('id', '=', id).executeTakeFirst();
    return row && toBrand(row);
  }

  async list(ex: Executor): Promise<Brand[]> {
    return (await ex.selectFrom('brands').selectAll().orderBy('created_at').orderBy('id').execute()).map(toBrand);
  }

  async count(ex: Executor): Promise<number> {
    const row = await ex.selectFrom('brands').select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow();
    return Number(row.n);
  }

  /** The brand the legacy POST /admin/invites mints for: the oldest one. */
  async defaultBrand(ex: Executor): Promise<Brand | undefined> {
    const row = await ex.selectFrom('brands').selectAll().orderBy('created_at').orderBy('id').limit(1).executeTakeFirst();
    return row && toBrand(row);
  }
}

type BrandRow = {
  id: string;
  name: string;
  created_at: number;
  primary_color: string | null;
  accent_color: string | null;
  logo_url: string | null;
  default_language: string;
  members_may_invite: number;
  member_invite_quota: number;
  grace_days: number;
  retention_days: number;
  retired_at: number | null;
};

function toBrand(r: BrandRow): Brand {
  return {
    id: r.id,
    name: r.name,
    createdAt: Number(r.created_at),
    primaryColor: r.primary_color,
    accentColor: r.accent_color,
    logoUrl: r.logo_url,
    defaultLanguage: r.default_language,
    membersMayInvite: Number(r.members_may_invite) === 1,
    memberInviteQuota: Number(r.member_invite_quota),
    graceDays: Number(r.grace_days),
    retentionDays: Number(r.retention_days),
    retiredAt: r.retired_at === null ? null : Number(r.retired_at),
  };
}
