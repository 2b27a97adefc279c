import type { Executor } from '../db/schema.js';

export interface NodeRecord {
  name: string;
  region: string;
  url: string;
  startedAt: number;
  heartbeatAt: number;
  connections: number;
  ready: boolean;
  draining: boolean;
}

/** The nodes registry: each node writes only its own row; anyone reads all of them. */
export class NodeStore {
  /** Insert or refresh this node's row (ON CONFLICT works alike on SQLite and PostgreSQL). */
  async upsert(ex: Executor, n: NodeRecord): Promise<void> {
    const row = {
      region: n.region,
      url: n.url,
      started_at: n.startedAt,
      heartbeat_at: n.heartbeatAt,
      connections: n.connections,
      ready: n.ready ? 1 : 0,
      draining: n.draining ? 1 : 0,
    };
    await ex
      .insertInto('nodes')
      .values({ name: n.name, ...row })
      .onConflict((oc) => oc.column('name').doUpdateSet(row))
      .execute();
  }

  async list(ex: Executor): Promise<NodeRecord[]> {
    const rows = await ex.selectFrom('nodes').selectAll().orderBy('region').orderBy('name').execute();
    return rows.map((r) => ({
      name: r.name,
      region: r.region,
      url: r.url,
      startedAt: Number(r.started_at),
      heartbeatAt: Number(r.heartbeat_at),
      connections: Number(r.connections),
      ready: Number(r.ready) === 1,
      draining: Number(r.draining) === 1,
    }));
  }

  /** Rows of nodes not heard from since `before` (a node renamed or retired for good). */
  async removeStale(ex: Executor, before: number): Promise<number> {
    const r = await ex.deleteFrom('nodes').where('heartbeat_at', '<', before).executeTakeFirst();
    return Number(r.numDeletedRows);
  }
}
