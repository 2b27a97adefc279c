import { mkdir } from 'node:fs/promises';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { apiRoutes } from './api/index.js';
import { buildHttpApp } from './api/http-app.js';
import { registerConsole } from './api/console-static.js';
import { registerOpsRoutes } from './ops/ops-routes.js';
import { startNodeHeartbeat } from './ops/node-registry.js';
import { resolveConfig, type ResolvedServerConfig, type ServerConfig } from './config.js';
import { createAppContext } from './context.js';
import { migrateToLatest } from './db/migrator.js';
import { openDatabase } from './db/open-database.js';
import type { Bus } from './delivery/bus.js';
import type { QueueReaderFactory } from './delivery/queue-reader.js';
import { LocalBus } from './delivery/local-bus.js';
import { NatsBus, parseBusServers } from './delivery/nats-bus.js';
import { firstStartIfNeeded, type FirstStart } from './first-start.js';
import { runExpiry, startExpiryJob, type ExpiryResult } from './jobs/expiry.js';
import { createLogger, stderrSink, type Logger, type LogSink } from './logger.js';
import { SocketCloseCode } from '@kluis/protocol';
import { HEALTH_HEADROOM, openFileLimit, OTHER_FDS } from './api/connection-gate.js';

export const DATABASE_FILE = 'kluis.db';

export interface StartOptions {
  /** Milliseconds since the epoch; tests move time. */
  clock?: () => number;
  /** Receives log lines (never bodies, IPs or usernames). Default: stderr. */
  log?: LogSink;
  /** Defaults to config.bus: NATS when set, else an in-process bus. */
  bus?: Bus;
  /** Defaults to what the database's capabilities call for; tests run the rescan reader on SQLite. */
  queueReader?: QueueReaderFactory;
}

export interface RunningServer {
  url: string;
  port: number;
  dataDir: string;
  /** Present only when this start created the data directory's database. */
  firstStart?: FirstStart;
  /** Runs the expiry job now (it also runs on a timer). */
  runExpiry(): Promise<ExpiryResult>;
  /** "METHOD /url" of every HTTP route the server answers (tests check they cover them all). */
  routes: readonly string[];
  /** Graceful: stop accepting, commit what was accepted, close sockets (1001), close the database. */
  close(): Promise<void>;
  /**
   * SIGTERM in a cluster: readiness turns 503 and the registry row says draining, new
   * sockets are refused, accepted sends commit, open sockets close with 4010 (clients
   * reconnect to another node), then close(). Bounded by the drain timeout: after it,
   * whatever lingers is cut. Resolves `timedOut: true` if the bound was hit.
   */
  drain(): Promise<{ timedOut: boolean }>;
}

export async function startServer(input: ServerConfig, opts: StartOptions = {}): Promise<RunningServer> {
  const config = resolveConfig(input);
  const log = createLogger(opts.log ?? stderrSink);
  const clock = opts.clock ?? Date.now;
  await mkdir(config.dataDir, { recursive: true, mode: 0o700 });
  const adapter = openDatabase({
    database: config.database,
    sqliteFile: join(config.dataDir, DATABASE_FILE),
    sqliteSync: config.sqliteSync,
    onError: (message, err) => log.error(message, err),
  });
  let bus: Bus;
  try {
    bus = opts.bus ?? (await openBus(config, log));
  } catch (err) {
    await adapter.close().catch(() => {});
    throw err;
  }
  let ctx: ReturnType<typeof createAppContext> | undefined;
  try {
    await migrateToLatest(adapter);
    ctx = createAppContext({ config, adapter, clock, log, bus, queueReader: opts.queueReader });
    await ctx.storage.start();
    const firstStart = await firstStartIfNeeded(ctx, config.dataDir);
    const app = buildHttpApp(ctx, apiRoutes);
    registerConsole(app);
    registerOpsRoutes(app, ctx);
    await app.listen({ host: config.host, port: config.port });
    const port = (app.server.address() as AddressInfo).port;
    const url = `http://${urlHost(config.host)}:${port}`;
    ctx.node.url ||= url;
    // Clients elsewhere learn node URLs from GET /v1/nodes: a loopback address helps nobody.
    if (config.database && !config.publicUrl) log.info(`no --public-url set: GET /v1/nodes tells clients ${url}`);
    const expiry = startExpiryJob(ctx, config.expiryIntervalMs);
    const heartbeat = startNodeHeartbeat(ctx);
    log.info(`kluis server listening on ${url}`);
    logConnectionCap(log, app.connectionGate.maxConnections);

    const running = ctx;
    let closing: Promise<void> | undefined;
    const close = (): Promise<void> =>
      (closing ??= (async () => {
        await expiry.stop();
        // The last word in the registry: not ready, so /v1/nodes stops listing this node.
        await bounded(heartbeat.stop(), 1_000);
        running.node.draining = true;
        await bounded(heartbeat.beat(), 1_000);
        // Stops listening; requests already in flight still finish (new ones get 503).
        const httpClosed = app.close();
        // Every send accepted so far is committed and answered before sockets go.
        await running.delivery.writer.close();
        await running.delivery.sockets.close();
        // Keep-alive connections that were busy when closing began are idle now: close
        // them, and cut whatever still lingers after a grace period.
        app.server.closeIdleConnections();
        const force = setTimeout(() => app.server.closeAllConnections(), 2000);
        force.unref();
        await httpClosed;
        clearTimeout(force);
        await bus.close();
        await running.storage.close();
        await adapter.close();
        log.info('kluis server stopped');
      })());

    let draining: Promise<{ timedOut: boolean }> | undefined;
    const drain = () =>
      (draining ??= (async () => {
        running.node.draining = true;
        // No new sockets from this moment; the open ones go once accepted sends are answered.
        running.delivery.sockets.refuseNew();
        log.info(`draining (at most ${Math.round(config.drainTimeoutMs / 1000)} s)`);
        const work = (async () => {
          await bounded(heartbeat.beat(), 1_000);
          // Answer sends already accepted before the sockets go, so clients need not resend.
          await running.delivery.writer.idle();
          await running.delivery.sockets.close(SocketCloseCode.NodeDraining, 'node draining; connect to another node');
          await close();
        })();
        const finished = await bounded(work.then(() => true), config.drainTimeoutMs);
        if (finished) return { timedOut: false };
        log.error('drain timeout reached; cutting the remaining connections');
        app.server.closeAllConnections();
        for (const c of [...running.delivery.sockets.connections, ...running.delivery.sockets.sealedConnections]) c.terminate();
        return { timedOut: true };
      })());

    return {
      url,
      port,
      dataDir: config.dataDir,
      ...(firstStart && { firstStart }),
      runExpiry: () => runExpiry(running),
      routes: app.registeredRoutes,
      close,
      drain,
    };
  } catch (err) {
    await ctx?.delivery.sockets.close().catch(() => {});
    await adapter.close().catch(() => {});
    throw err;
  }
}

/** NATS when `--bus` names servers (cluster mode), else the in-process bus. */
async function openBus(config: ResolvedServerConfig, log: Logger): Promise<Bus> {
  if (!config.bus) return new LocalBus();
  return NatsBus.connect({
    servers: parseBusServers(config.bus),
    name: `kluis-${config.nodeName}`,
    onStatus: (status) => (status === 'connected' ? log.info('bus reconnected') : log.error('bus disconnected; delivering by polling the database')),
  });
}

/**
 * Node cannot raise its own open-file limit: say what the cap is and whether the limit
 * (systemd's LimitNOFILE, `ulimit -n`) leaves room for it.
 */
function logConnectionCap(log: Logger, maxConnections: number): void {
  const limit = openFileLimit();
  log.info(`at most ${maxConnections} client connections (+${HEALTH_HEADROOM} for health checks)${limit ? `; open-file limit ${limit.soft}` : ''}`);
  if (limit && maxConnections + HEALTH_HEADROOM + OTHER_FDS > limit.soft) {
    log.error(`--max-connections ${maxConnections} needs an open-file limit of at least ${maxConnections + HEALTH_HEADROOM + OTHER_FDS} (now ${limit.soft}); raise LimitNOFILE or ulimit -n`);
  }
}

/** `promise`'s value, or undefined once `ms` passed (a shutdown step must not hang on a dead database). */
async function bounded<T>(promise: Promise<T>, ms: number): Promise<T | undefined> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<undefined>((resolve) => (timer = setTimeout(() => resolve(undefined), ms)));
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/** A URL clients can use: wildcard binds are reached via loopback; IPv6 needs brackets. */
function urlHost(host: string): string {
  if (host === '0.0.0.0') return '127.0.0.1';
  if (host === '::') return '[::1]';
  return host.includes(':') ? `[${host}]` : host;
}
