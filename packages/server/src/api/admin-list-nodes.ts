import { AdminNodeList } from '@kluis/protocol';
import { nodeView, staleAfterMs } from '../ops/node-registry.js';
import { defineRoute } from './route.js';

/** Operators only: nodes span every brand. A stale heartbeat shows as 'down'. */
export const adminNodes = defineRoute({
  name: 'adminNodes',
  auth: 'operator',
  summary: 'Cluster nodes: name, region, URL, connections, readiness and health (down = no heartbeat)',
  response: AdminNodeList,
  async handler(ctx) {
    const now = ctx.clock();
    const staleMs = staleAfterMs(ctx.config.heartbeatIntervalMs);
    const rows = await ctx.stores.nodes.list(ctx.db);
    return { nodes: rows.map((n) => nodeView(n, now, staleMs)), now, staleAfterMs: staleMs };
  },
});
