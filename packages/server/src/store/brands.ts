import type { Executor } from '../db/schema.js';

export interface Brand {
  id: string;
  name: string;
  createdAt: number;
}

export const DEFAULT_BRAND_ID = 'default';

export class BrandStore {
  async insert(ex: Executor, brand: Brand): Promise<void> {
    await ex.insertInto('brands').values({ id: brand.id, name: brand.name, created_at: brand.createdAt }).execute();
  }

  async count(ex: Executor): Promise<number> {
    const row = await ex.selectFrom('brands').select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow();
    return Number(row.n);
  }

  /** The brand new invites belong to until brands are managed (a later issue). */
  async defaultBrand(ex: Executor): Promise<Brand | undefined> {
    const row = await ex.selectFrom('brands').selectAll().orderBy('created_at').orderBy('id').limit(1).executeTakeFirst();
    return row && { id: row.id, name: row.name, createdAt: row.created_at };
  }
}
