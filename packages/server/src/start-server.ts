import { mkdir } from 'node:fs/promises';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { apiRoutes } from './api/index.js';
import { buildHttpApp } from './api/http-app.js';
import { registerConsole } from './api/console-static.js';
import { registerOpsRoutes } from './ops/ops-routes.js';
import { resolveConfig, type ResolvedServerConfig, type ServerConfig } from './config.js';
import { createAppContext } from './context.js';
import { migrateToLatest } from './db/migrator.js';
import { openDatabase } from './db/open-database.js';
import type { Bus } from './delivery/bus.js';
import { LocalBus } from './delivery/local-bus.js';
import { NatsBus, parseBusServers } from './delivery/nats-bus.js';
import { firstStartIfNeeded, type FirstStart } from './first-start.js';
import { runExpiry, startExpiryJob, type ExpiryResult } from './jobs/expiry.js';
import { createLogger, stderrSink, type Logger, type LogSink } from './logger.js';

export const DATABASE_FILE = 'kluis.db';

export interface StartOptions {
  /** Milliseconds since the epoch; tests move time. */
  clock?: () => number;
  /** Receives log lines (never bodies, IPs or usernames). Default: stderr. */
  log?: LogSink;
  /** Defaults to config.bus: NATS when set, else an in-process bus. */
  bus?: Bus;
}

export interface RunningServer {
  url: string;
  port: number;
  dataDir: string;
  /** Present only when this start created the data directory's database. */
  firstStart?: FirstStart;
  /** Runs the expiry job now (it also runs on a timer). */
  runExpiry(): Promise<ExpiryResult>;
  /** Graceful: stop accepting, commit what was accepted, close sockets (1001), close the database. */
  close(): Promise<void>;
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
    ctx = createAppContext({ config, adapter, clock, log, bus });
    const firstStart = await firstStartIfNeeded(ctx, config.dataDir);
    const app = buildHttpApp(ctx, apiRoutes);
    registerConsole(app);
    registerOpsRoutes(app, ctx);
    await app.listen({ host: config.host, port: config.port });
    const port = (app.server.address() as AddressInfo).port;
    const url = `http://${urlHost(config.host)}:${port}`;
    const expiry = startExpiryJob(ctx, config.expiryIntervalMs);
    log.info(`kluis server listening on ${url}`);

    const running = ctx;
    let closing: Promise<void> | undefined;
    const close = (): Promise<void> =>
      (closing ??= (async () => {
        await expiry.stop();
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
        await adapter.close();
        log.info('kluis server stopped');
      })());

    return {
      url,
      port,
      dataDir: config.dataDir,
      ...(firstStart && { firstStart }),
      runExpiry: () => runExpiry(running),
      close,
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

/** A URL clients can use: wildcard binds are reached via loopback; IPv6 needs brackets. */
function urlHost(host: string): string {
  if (host === '0.0.0.0') return '127.0.0.1';
  if (host === '::') return '[::1]';
  return host.includes(':') ? `[${host}]` : host;
}
