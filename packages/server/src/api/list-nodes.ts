import { PublicNodeList } from '@kluis/protocol';
import { nodeStatus, staleAfterMs } from '../ops/node-registry.js';
import { defineRoute } from './route.js';

/**
 * The bootstrap list: clients ask any node which nodes are up and where. Only live,
 * ready nodes that are not draining, and no counts (load is the operator's business).
 */
export const listNodes = defineRoute({
  name: 'listNodes',
  auth: 'none',
  response: PublicNodeList,
  async handler(ctx) {
    const now = ctx.clock();
    const stale = staleAfterMs(ctx.config.heartbeatIntervalMs);
    const rows = await ctx.stores.nodes.list(ctx.db);
    const nodes = rows.filter((n) => nodeStatus(n, now, stale) === 'up').map((n) => ({ name: n.name, region: n.region, url: n.url }));
    return { nodes };
  },
});
