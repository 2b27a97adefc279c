import { randomBytes } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import { WebSocketServer, type WebSocket } from 'ws';
import { EVENTS_PATH } from './api/routes.js';
import { AppErrorCode } from './api/errors.js';
import { AppError, toAppError } from './errors.js';
import { checkApi, SOCKET_PROTOCOL, socketToken, type GuardConfig } from './guard.js';
import { buildAppHttp } from './http-app.js';
import { AppSession } from './session.js';
import { SlowRequestWatch } from './slow-requests.js';
import { WEB_DIST } from './static-files.js';

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

/**
 * The local host of `kluis app`: the SDK client of one profile behind a small JSON API and
 * one WebSocket of live events, plus the UI's static files. Listens on 127.0.0.1 only.
 */
export async function startAppHost(o: AppHostOptions): Promise<AppHost> {
  const log = o.log ?? (() => {});
  const token = o.token ?? randomBytes(32).toString('hex');
  const session = new AppSession(o.profileName, o.profileDir, log, o.defaultServerUrl);
  const guard: GuardConfig = { port: 0, token };
  const sockets = new Set<WebSocket>();
  const slow = new SlowRequestWatch(log, () => session.diagnostics());
  const app = buildAppHttp({ session, guard, distDir: o.distDir ?? WEB_DIST, slow, log });

  const wss = new WebSocketServer({
    noServer: true,
    maxPayload: 64 * 1024,
    handleProtocols: (offered) => (offered.has(SOCKET_PROTOCOL) ? SOCKET_PROTOCOL : false),
  });
  app.server.on('upgrade', (req, socket, head) => {
    try {
      if (new URL(req.url ?? '/', 'http://x').pathname !== EVENTS_PATH) throw new AppError(404, AppErrorCode.NotFound, 'no such socket');
      checkApi(req, guard, socketToken(req));
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

  await app.listen({ port: o.port ?? 0, host: '127.0.0.1' });
  const port = (app.server.address() as AddressInfo).port;
  guard.port = port;
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
      await app.close();
      await session.close();
    },
  };
}
