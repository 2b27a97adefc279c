import type { NodeStatus, NodeView } from '@kluis/protocol';
import type { AppContext } from '../context.js';
import type { NodeRecord } from '../store/nodes.js';

/** This node as the registry and readiness see it; `draining` flips once, on SIGTERM. */
export interface NodeState {
  name: string;
  region: string;
  /** Set once the server listens (or from --public-url). */
  url: string;
  startedAt: number;
  draining: boolean;
}

/** Rows not heard from in a week belong to nodes renamed or retired: dropped at start. */
const FORGET_AFTER_MS = 7 * 24 * 60 * 60 * 1000;

/** Three missed heartbeats (at least 2 s of slack for a busy database) and a node is down. */
export function staleAfterMs(heartbeatIntervalMs: number): number {
  return Math.max(3 * heartbeatIntervalMs, heartbeatIntervalMs + 2_000);
}

export function nodeStatus(n: NodeRecord, now: number, staleMs: number): NodeStatus {
  if (now - n.heartbeatAt > staleMs) return 'down';
  if (n.draining) return 'draining';
  return n.ready ? 'up' : 'not-ready';
}

export function nodeView(n: NodeRecord, now: number, staleMs: number): NodeView {
  return { ...n, status: nodeStatus(n, now, staleMs) };
}

type RegistryContext = Pick<AppContext, 'db' | 'stores' | 'clock' | 'log' | 'bus' | 'delivery' | 'metrics' | 'node' | 'config'>;

export interface NodeHeartbeat {
  /** Writes the row now (also used right after a state change such as draining). */
  beat(): Promise<void>;
  stop(): Promise<void>;
}

/**
 * Upserts this node's row every interval. The write itself proves the store reachable;
 * a failed write just leaves the row to go stale, which is what readers should see.
 */
export function startNodeHeartbeat(ctx: RegistryContext): NodeHeartbeat {
  let running: Promise<void> | undefined;
  let failing = false;
  const write = async () => {
    const bus = ctx.bus.stats?.().connected ?? true;
    try {
      await ctx.stores.nodes.upsert(ctx.db, {
        name: ctx.node.name,
        region: ctx.node.region,
        url: ctx.node.url,
        startedAt: ctx.node.startedAt,
        heartbeatAt: ctx.clock(),
        connections: ctx.delivery.sockets.connections.size,
        ready: bus && !ctx.node.draining,
        draining: ctx.node.draining,
      });
      if (failing) ctx.log.info('node heartbeat written again');
      failing = false;
    } catch (err) {
      ctx.metrics.storeErrors++;
      // One line per outage, not one per beat.
      if (!failing) ctx.log.error('node heartbeat failed', err);
      failing = true;
    }
  };
  const beat = (): Promise<void> => {
    // Serialised: two upserts of one row must not race each other's values.
    const next = (running ?? Promise.resolve()).then(write);
    running = next;
    return next;
  };
  void ctx.stores.nodes.removeStale(ctx.db, ctx.clock() - FORGET_AFTER_MS).catch(() => {});
  void beat();
  const timer = setInterval(() => void beat(), ctx.config.heartbeatIntervalMs);
  timer.unref();
  return {
    beat,
    async stop() {
      clearInterval(timer);
      await running;
    },
  };
}
