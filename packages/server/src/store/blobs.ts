import type { BlobsTable, Executor } from '../db/schema.js';

export interface BlobRow {
  id: string;
  size: number;
  received: number;
  complete: boolean;
  createdAt: number;
  expiresAt: number;
  expected: number | null;
  releases: number;
}

/** The `blobs` table: what the server knows of an attachment (never whose it is). */
export class BlobMetaStore {
  async insert(ex: Executor, row: { id: string; size: number; createdAt: number; expiresAt: number }): Promise<void> {
    await ex
      .insertInto('blobs')
      .values({ id: row.id, size: row.size, received: 0, complete: 0, created_at: row.createdAt, expires_at: row.expiresAt, expected: null, releases: 0 })
      .execute();
  }

  async get(ex: Executor, id: string): Promise<BlobRow | undefined> {
    const row = await ex.selectFrom('blobs').selectAll().where('id', '=', id).executeTakeFirst();
    return row && toRow(row);
  }

  /** Conditional on the offset the upload started from, so two racing uploads cannot both count. */
  async setReceived(ex: Executor, id: string, from: number, to: number, complete: boolean): Promise<boolean> {
    const r = await ex
      .updateTable('blobs')
      .set({ received: to, complete: complete ? 1 : 0 })
      .where('id', '=', id)
      .where('received', '=', from)
      .where('complete', '=', 0)
      .executeTakeFirst();
    return Number(r.numUpdatedRows) === 1;
  }

  /** Only once, and only for a complete blob: a later call cannot undo an earlier count. */
  async setExpected(ex: Executor, id: string, expected: number): Promise<boolean> {
    const r = await ex
      .updateTable('blobs')
      .set({ expected })
      .where('id', '=', id)
      .where('complete', '=', 1)
      .where('expected', 'is', null)
      .executeTakeFirst();
    return Number(r.numUpdatedRows) === 1;
  }

  async addRelease(ex: Executor, id: string): Promise<boolean> {
    const r = await ex
      .updateTable('blobs')
      .set((eb) => ({ releases: eb('releases', '+', 1) }))
      .where('id', '=', id)
      .executeTakeFirst();
    return Number(r.numUpdatedRows) === 1;
  }

  async remove(ex: Executor, id: string): Promise<void> {
    await ex.deleteFrom('blobs').where('id', '=', id).execute();
  }

  /** Past their expiry, or uploads never completed and started before `incompleteBefore`. */
  async expired(ex: Executor, now: number, incompleteBefore: number, limit: number): Promise<string[]> {
    const rows = await ex
      .selectFrom('blobs')
      .select('id')
      .where((eb) => eb.or([eb('expires_at', '<=', now), eb.and([eb('complete', '=', 0), eb('created_at', '<=', incompleteBefore)])]))
      .limit(limit)
      .execute();
    return rows.map((r) => r.id);
  }
}

function toRow(row: { [K in keyof BlobsTable]: unknown }): BlobRow {
  return {
    id: row.id as string,
    size: Number(row.size),
    received: Number(row.received),
    complete: Number(row.complete) === 1,
    createdAt: Number(row.created_at),
    expiresAt: Number(row.expires_at),
    expected: row.expected === null ? null : Number(row.expected),
    releases: Number(row.releases),
  };
}
