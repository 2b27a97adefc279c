import type { Updateable } from 'kysely';
import type { DurationUnit } from '@kluis/protocol';
import type { Executor, PlansTable } from '../db/schema.js';

export interface Plan {
  id: string;
  brandId: string;
  name: string;
  durationUnit: DurationUnit;
  durationCount: number;
  priceCents: number;
  currency: string;
  createdAt: number;
  retiredAt: number | null;
}

export class PlanStore {
  async insert(ex: Executor, p: Plan): Promise<void> {
    await ex
      .insertInto('plans')
      .values({
        id: p.id,
        brand_id: p.brandId,
        name: p.name,
        duration_unit: p.durationUnit,
        duration_count: p.durationCount,
        price_cents: p.priceCents,
        currency: p.currency,
        created_at: p.createdAt,
        retired_at: p.retiredAt,
      })
      .execute();
  }

  async get(ex: Executor, id: string): Promise<Plan | undefined> {
    const row = await ex.selectFrom('plans').selectAll().where('id', '=', id).executeTakeFirst();
    return row && toPlan(row);
  }

  async list(ex: Executor, brandId: string): Promise<Plan[]> {
    return (await ex.selectFrom('plans').selectAll().where('brand_id', '=', brandId).orderBy('created_at').orderBy('id').execute()).map(toPlan);
  }

  /** The oldest plan still on sale: what member invites and the legacy invite route give. */
  async firstActive(ex: Executor, brandId: string): Promise<Plan | undefined> {
    const row = await ex
      .selectFrom('plans')
      .selectAll()
      .where('brand_id', '=', brandId)
      .where('retired_at', 'is', null)
      .orderBy('created_at')
      .orderBy('id')
      .limit(1)
      .executeTakeFirst();
    return row && toPlan(row);
  }

  async update(ex: Executor, id: string, s: { name?: string; priceCents?: number; currency?: string }): Promise<void> {
    const set: Updateable<PlansTable> = {};
    if (s.name !== undefined) set.name = s.name;
    if (s.priceCents !== undefined) set.price_cents = s.priceCents;
    if (s.currency !== undefined) set.currency = s.currency;
    if (Object.keys(set).length) await ex.updateTable('plans').set(set).where('id', '=', id).execute();
  }

  async retire(ex: Executor, id: string, now: number): Promise<void> {
    await ex.updateTable('plans').set({ retired_at: now }).where('id', '=', id).where('retired_at', 'is', null).execute();
  }
}

function toPlan(r: PlansTable): Plan {
  return {
    id: r.id,
    brandId: r.brand_id,
    name: r.name,
    durationUnit: r.duration_unit,
    durationCount: Number(r.duration_count),
    priceCents: Number(r.price_cents),
    currency: r.currency,
    createdAt: Number(r.created_at),
    retiredAt: r.retired_at === null ? null : Number(r.retired_at),
  };
}
