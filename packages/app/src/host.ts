import { randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { WebSocketServer, type WebSocket } from 'ws';
import { findRoute, runRoute } from './router.js';
import { AppError, toAppError } from './errors.js';
import { bearer, checkApi, checkTransport, SOCKET_PROTOCOL, socketToken, type GuardConfig } from './guard.js';
import { AppSession } from './session.js';
import { SlowRequestWatch } from './slow-requests.js';
import { securityHeaders, serveStatic, WEB_DIST } from './static-files.js';

export interface AppHostOptions {
  profileName: string;
  profileDir: string;
  /** 0: any free port. */
  port?: number;
  /** Fixed for tests; otherwise 32 random bytes per start. */
  token?: string;
  distDir?: string;
  /** Prefilled in the page's onboarding form (KLUIS_SERVER for `kluis app`). */
  defaultServerUrl?: string;
  log?: (line: string) => void;
}

export interface AppHost {
  /** http://127.0.0.1:PORT/#token=… : what the user opens. */
  url: string;
  origin: string;
  port: number;
  token: string;
  session: AppSession;
  close(): Promise<void>;
}

function sendJson(res: ServerResponse, status: number, value: unknown): void {
  const body = JSON.stringify(value ?? null);
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'cache-control': 'no-store', 'content-length': Buffer.byteLength(body) });
  res.end(body);
}

function sendError(res: ServerResponse, e: AppError): void {
  if (res.headersSent) return void res.destroy();
  sendJson(res, e.status, { code: e.code, message: e.message, ...(e.details ?? {}) });
}

/**
 * The local host of `kluis app`: the SDK client of one profile behind a small JSON API and
 * one WebSocket of live events, plus the UI's static files. Listens on 127.0.0.1 only.
 */
export async function startAppHost(o: AppHostOptions): Promise<AppHost> {
  const log = o.log ?? (() => {});
  const token = o.token ?? randomBytes(32).toString('hex');
  const session = new AppSession(o.profileName, o.profileDir, log, o.defaultServerUrl);
  const dist = o.distDir ?? WEB_DIST;
  const cfg: GuardConfig = { port: 0, token };
  const sockets = new Set<WebSocket>();
  const slow = new SlowRequestWatch(log, () => session.diagnostics());

  const handle = async (req: IncomingMessage, res: ServerResponse) => {
    try {
      checkTransport(req, cfg);
      securityHeaders(res, req.headers.host!);
      const path = new URL(req.url ?? '/', 'http://x').pathname;
      if (path === '/api' || path.startsWith('/api/')) {
        // A CORS preflight gets no CORS headers, so the browser refuses the real request.
        checkApi(req, cfg, bearer(req));
        const found = findRoute(req.method ?? 'GET', path);
        if (!found) throw new AppError(404, 'NOT_FOUND', 'no such API route');
        const done = slow.start(`${req.method} ${found.path}`);
        try {
          const result = await runRoute(found, session, req, res);
          if (!res.headersSent) sendJson(res, 200, result);
        } finally {
          done();
        }
        return;
      }
      if (req.method !== 'GET' && req.method !== 'HEAD') throw new AppError(405, 'METHOD', 'method not allowed');
      await serveStatic(req, res, dist);
    } catch (e) {
      const err = toAppError(e);
      if (err.status >= 500) log(`kluis app: ${req.method} ${req.url}: ${(e as Error)?.stack ?? String(e)}`);
      sendError(res, err);
    }
  };

  const server: Server = createServer((req, res) => void handle(req, res));
  const wss = new WebSocketServer({
    noServer: true,
    maxPayload: 64 * 1024,
    handleProtocols: (offered) => (offered.has(SOCKET_PROTOCOL) ? SOCKET_PROTOCOL : false),
  });
  server.on('upgrade', (req, socket, head) => {
    try {
      if (new URL(req.url ?? '/', 'http://x').pathname !== '/api/events') throw new AppError(404, 'NOT_FOUND', 'no such socket');
      checkApi(req, cfg, socketToken(req));
    } catch (e) {
      const err = toAppError(e);
      socket.end(`HTTP/1.1 ${err.status} ${err.code}\r\nConnection: close\r\nContent-Length: 0\r\n\r\n`);
      return;
    }
    wss.handleUpgrade(req, socket, head, (ws) => {
      sockets.add(ws);
      const off = session.onEvent((e) => ws.send(JSON.stringify(e)));
      ws.on('close', () => {
        off();
        sockets.delete(ws);
      });
      // The page only listens; anything it sends is ignored.
      ws.send(JSON.stringify({ type: 'hello', data: { state: session.state } }));
    });
  });

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(o.port ?? 0, '127.0.0.1', () => resolve());
  });
  const port = (server.address() as AddressInfo).port;
  cfg.port = port;
  const origin = `http://127.0.0.1:${port}`;
  let closed = false;
  return {
    url: `${origin}/#token=${token}`,
    origin,
    port,
    token,
    session,
    async close() {
      if (closed) return;
      closed = true;
      slow.stop();
      for (const ws of sockets) ws.close(1001);
      wss.close();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await session.close();
    },
  };
}
