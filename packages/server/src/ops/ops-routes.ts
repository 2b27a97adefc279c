import type { FastifyInstance } from 'fastify';
import { ErrorCode } from '@kluis/protocol';
import type { AppContext } from '../context.js';
import { RETRY_AFTER_SECONDS } from '../errors.js';

/** A readiness probe must answer even when the database hangs: give up after this long. */
const READY_TIMEOUT_MS = 2_000;

/**
 * Operations endpoints outside the JSON route table (they are for load balancers and
 * Prometheus, not clients): `/readyz` answers 200 only while the store answers and the
 * bus is connected, so a balancer stops sending clients to a node that cannot serve
 * them; `/metrics` is the Prometheus text format. Neither carries user data.
 */
export function registerOpsRoutes(app: FastifyInstance, ctx: Pick<AppContext, 'adapter' | 'bus' | 'metrics' | 'delivery' | 'node'> & Partial<Pick<AppContext, 'limits'>>): void {
  app.get('/readyz', async (_req, reply) => {
    reply.type('application/json; charset=utf-8');
    // Draining (SIGTERM): out of the balancer at once, whatever the store says.
    if (ctx.node.draining) {
      reply.code(503).header('retry-after', String(RETRY_AFTER_SECONDS));
      return { code: ErrorCode.Unavailable, message: 'this node is draining; use another node', draining: true };
    }
    const [store, bus] = [await storeReachable(ctx), ctx.bus.stats?.().connected ?? true];
    if (store && bus) return { status: 'ready', store: 'ok', bus: 'ok' };
    reply.code(503).header('retry-after', String(RETRY_AFTER_SECONDS));
    return { code: ErrorCode.Unavailable, message: 'this node cannot serve right now', store: store ? 'ok' : 'unreachable', bus: bus ? 'ok' : 'unreachable' };
  });

  app.get('/metrics', async (_req, reply) => {
    const bus = ctx.bus.stats?.();
    reply.type('text/plain; version=0.0.4; charset=utf-8');
    return ctx.metrics.render({
      connections: ctx.delivery.sockets.connections.size,
      busConnected: bus?.connected ?? true,
      busErrors: bus?.errors ?? 0,
      rateLimitOverflows: Object.values(ctx.limits?.stats() ?? {}).reduce((n, s) => n + (s?.overflowed ?? 0), 0),
      tcpConnections: app.connectionGate?.connections,
    });
  });
}

async function storeReachable(ctx: Pick<AppContext, 'adapter' | 'metrics'>): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<boolean>((resolve) => (timer = setTimeout(() => resolve(false), READY_TIMEOUT_MS)));
  try {
    return await Promise.race([ctx.adapter.ping().then(() => true), timeout]);
  } catch {
    ctx.metrics.storeErrors++;
    return false;
  } finally {
    clearTimeout(timer);
  }
}
