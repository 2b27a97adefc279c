import { STATUS_CODES, type IncomingMessage } from 'node:http';
import type { Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import { WebSocketServer } from 'ws';
import { ErrorCode, MAX_SOCKET_FRAME_BYTES, routeParts, Routes, SocketCloseCode } from '@kluis/protocol';
import type { DeviceAuthenticator } from '../auth/device-auth.js';
import { ApiError } from '../errors.js';
import type { Logger } from '../logger.js';
import { DeviceConnection, type ConnectionDeps } from './connection.js';
import { SealedConnection, type SealedConnectionDeps } from './sealed-connection.js';
import { WriteBatcher } from './write-batcher.js';

/** A send frame carries at most 6 ciphertexts of 96 KiB: 1 MiB is plenty. */
export const MAX_FRAME_BYTES = MAX_SOCKET_FRAME_BYTES;
export const DEFAULT_HEARTBEAT_MS = 30_000;
const DEFAULT_UPGRADE_TIMEOUT_MS = 10_000;
const CLOSE_GRACE_MS = 2_000;

const SOCKET_PATH = routeParts(Routes.socket).path;
const SEALED_SOCKET_PATH = routeParts(Routes.sealedSocket).path;

/**
 * WebSocket endpoints on the HTTP server's 'upgrade' event. The device socket's
 * credentials are checked before the upgrade: a bad login gets a plain HTTP 401 with a
 * JSON body and never a WebSocket. The sealed socket takes no credential at all.
 */
export class SocketServer {
  readonly connections = new Set<DeviceConnection>();
  /** Sealed sockets: no identity, counted apart (metrics). */
  readonly sealedConnections = new Set<SealedConnection>();
  private readonly wss: WebSocketServer;
  private readonly heartbeat: NodeJS.Timeout;
  private readonly batcher = new WriteBatcher();
  private closing = false;

  constructor(
    private readonly deps: ConnectionDeps &
      SealedConnectionDeps & {
      auth: DeviceAuthenticator;
      log: Logger;
      heartbeatMs?: number;
      /** An upgrade not authenticated within this is refused (a hung store must not pin sockets). */
      upgradeTimeoutMs?: number;
    },
  ) {
    this.wss = new WebSocketServer({
      noServer: true,
      perMessageDeflate: false,
      maxPayload: MAX_FRAME_BYTES,
      clientTracking: false,
      // Frames are binary; a text frame is refused unread, so its UTF-8 needs no check.
      skipUTF8Validation: true,
      // Each connection answers pings itself, a few a second at most (a flood of pings from a
      // peer that never reads would otherwise queue pongs without bound).
      autoPong: false,
    });
    // A handshake ws refuses (bad Upgrade, Sec-WebSocket-Key or -Version) would get ws's own
    // text/html answer; this listener makes it a {code, message} 400 like every other refusal.
    this.wss.on('wsClientError', (err: Error, socket: Duplex) => {
      const reason = err.message.replace(/^Invalid/, 'invalid').replace(/^Missing/, 'missing');
      reject(socket, new ApiError(ErrorCode.BadRequest, `the WebSocket handshake was refused: ${reason}`));
    });
    // One timer for all sockets: a peer that has not echoed the last round's ping is dropped.
    this.heartbeat = setInterval(() => {
      for (const c of [...this.connections, ...this.sealedConnections]) {
        if (c.awaitingPong) c.expire();
        else c.ping();
      }
    }, deps.heartbeatMs ?? DEFAULT_HEARTBEAT_MS);
    this.heartbeat.unref();
  }

  readonly handleUpgrade = (req: IncomingMessage, socket: Duplex, head: Buffer): void => {
    socket.on('error', ignore);
    if (this.closing) return reject(socket, new ApiError(ErrorCode.Unavailable, 'the server is shutting down'));
    const path = (req.url ?? '').split('?')[0];
    if (path !== SOCKET_PATH && path !== SEALED_SOCKET_PATH) {
      return reject(socket, new ApiError(ErrorCode.NotFound, `no WebSocket endpoint at this path; use ${SOCKET_PATH} or ${SEALED_SOCKET_PATH}`));
    }
    if (req.method !== 'GET') return reject(socket, new ApiError(ErrorCode.BadRequest, 'WebSocket upgrades use GET'));
    if (path === SEALED_SOCKET_PATH) return this.upgradeSealed(req, socket, head);
    const timer = setTimeout(
      () => reject(socket, new ApiError(ErrorCode.Unavailable, 'the login could not be checked in time; try again shortly')),
      this.deps.upgradeTimeoutMs ?? DEFAULT_UPGRADE_TIMEOUT_MS,
    );
    timer.unref();
    this.deps.auth.authenticate(req.headers.authorization, req.socket.remoteAddress).then(
      (identity) => {
        clearTimeout(timer);
        if (socket.destroyed || socket.writableEnded) return;
        if (this.closing) return reject(socket, new ApiError(ErrorCode.Unavailable, 'the server is shutting down'));
        // The HTTP server's inactivity timeout does not apply to a WebSocket: its heartbeat does.
        (socket as Socket).setTimeout?.(0);
        this.wss.handleUpgrade(req, socket, head, (ws) => {
          if (this.closing) {
            ws.close(SocketCloseCode.GoingAway, 'server shutting down');
            return;
          }
          const connection = new DeviceConnection({ ...this.deps, batcher: this.batcher }, ws, socket, identity, (c) => this.connections.delete(c));
          this.connections.add(connection);
          connection.start();
        });
      },
      (err: unknown) => {
        clearTimeout(timer);
        if (err instanceof ApiError) return reject(socket, err);
        this.deps.log.error('socket authentication failed', err);
        reject(socket, new ApiError(ErrorCode.Internal, 'internal error'));
      },
    );
  };

  /**
   * No credential is read, even if one is sent: nothing here may tie this socket to an
   * account. A client that sends an Authorization header anyway is refused, so a bug
   * cannot quietly undo that.
   */
  private upgradeSealed(req: IncomingMessage, socket: Duplex, head: Buffer): void {
    if (req.headers.authorization !== undefined) {
      return reject(socket, new ApiError(ErrorCode.BadRequest, 'the sealed socket takes no credential; connect without an Authorization header'));
    }
    (socket as Socket).setTimeout?.(0);
    this.wss.handleUpgrade(req, socket, head, (ws) => {
      if (this.closing) {
        ws.close(SocketCloseCode.GoingAway, 'server shutting down');
        return;
      }
      const connection = new SealedConnection({ ...this.deps, batcher: this.batcher }, ws, socket, (c) => this.sealedConnections.delete(c));
      this.sealedConnections.add(connection);
      connection.start();
    });
  }

  /** From now on new sockets are refused (503); open ones stay until close(). */
  refuseNew(): void {
    this.closing = true;
  }

  /**
   * Refuses new sockets and closes the open ones with 1001 (reconnect later / elsewhere),
   * or with the code given (4010 when draining: reconnect to another node now).
   */
  async close(code: number = SocketCloseCode.GoingAway, reason = 'server shutting down'): Promise<void> {
    this.closing = true;
    clearInterval(this.heartbeat);
    // Let answers to sends that just committed reach their sockets before 1001.
    await new Promise((resolve) => setImmediate(resolve));
    const open = [...this.connections, ...this.sealedConnections];
    const closed = open.map((c) => c.closedPromise());
    for (const c of open) c.close(code, reason);
    const timeout = new Promise<'timeout'>((resolve) => setTimeout(() => resolve('timeout'), CLOSE_GRACE_MS).unref());
    if ((await Promise.race([Promise.all(closed), timeout])) === 'timeout') for (const c of open) c.terminate();
    this.wss.close();
  }
}

function ignore(): void {}

function reject(socket: Duplex, error: ApiError): void {
  if (socket.destroyed) return;
  const body = JSON.stringify(error.toBody());
  socket.end(
    `HTTP/1.1 ${error.status} ${STATUS_CODES[error.status] ?? 'Error'}\r\n` +
      'Content-Type: application/json; charset=utf-8\r\n' +
      // As over HTTP (http-app.ts): a refused login past its limit says when to try again.
      (error.status === 429 && typeof error.extra?.retryAfterSeconds === 'number' ? `Retry-After: ${error.extra.retryAfterSeconds}\r\n` : '') +
      `Content-Length: ${Buffer.byteLength(body)}\r\n` +
      'Connection: close\r\n\r\n' +
      body,
  );
  setTimeout(() => socket.destroy(), 1000).unref();
}
