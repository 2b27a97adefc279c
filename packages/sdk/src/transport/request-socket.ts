import WebSocket from 'ws';
import {
  decodeServerFrame,
  encodeClientFrame,
  MAX_SOCKET_FRAME_BYTES,
  SocketCloseCode,
  type ClientFrameInit,
  type WireServerFrame,
} from '@kluis/protocol';
import { NetworkError, ServerError } from '../errors.js';
import type { RawResponse } from './http.js';

export interface RequestSocketOptions {
  url: () => string;
  /** The upgrade request's headers; the sealed socket sends none. */
  headers: () => Record<string, string>;
  pingIntervalMs?: number | undefined;
  requestTimeoutMs?: number | undefined;
  backoffMinMs?: number | undefined;
  backoffMaxMs?: number | undefined;
  /** Bounds an upgrade that never completes (undefined: ws's default, none). */
  handshakeTimeoutMs?: number | undefined;
  /** The largest frame taken from the server (undefined: ws's default). */
  maxPayloadBytes?: number | undefined;
  /**
   * Several nodes (transport/server-list.ts): `url()` names the node to try next, this
   * hears which one failed or told us to leave (4010 draining, 1001 going away, a dead
   * connection), and `startAttempts()` bounds the first connect over that many nodes.
   */
  onUrlFailed?: ((url: string) => void) | undefined;
  onUrlOpened?: ((url: string) => void) | undefined;
  startAttempts?: (() => number) | undefined;
}

/** Closes after which this node is not where to reconnect: it is leaving, or it vanished. */
const LEAVING_CODES: ReadonlySet<number> = new Set([SocketCloseCode.NodeDraining, SocketCloseCode.GoingAway, 1006]);

interface Pending {
  resolve(r: RawResponse): void;
  reject(e: Error): void;
  timer: NodeJS.Timeout;
}

/** `/v1/socket` or `/v1/sealed-socket` of a server, as a ws(s) URL. */
export function wsUrl(serverUrl: string, path: string): string {
  const u = new URL(serverUrl.replace(/\/+$/, '') + path);
  u.protocol = u.protocol === 'https:' ? 'wss:' : 'ws:';
  return u.toString();
}

/**
 * What both client sockets share (the device socket, socket.ts, and the sealed socket,
 * sealed-socket.ts): binary frames, requests answered by Response frames (ids, timeouts,
 * the frame size limit), pings that detect a dead connection, and reconnects with
 * jittered exponential backoff over the cluster's nodes. Subclasses say what the upgrade
 * carries, what to do with pushed frames and which closes end the socket for good.
 */
export abstract class RequestSocket {
  private ws: WebSocket | undefined;
  private stopped = true;
  private attempt = 0;
  private reconnectTimer: NodeJS.Timeout | undefined;
  private pingTimer: NodeJS.Timeout | undefined;
  private lastSeen = 0;
  private nextId = 1;
  private readonly pending = new Map<number, Pending>();
  private readonly pingIntervalMs: number;
  private readonly requestTimeoutMs: number;
  private readonly backoffMinMs: number;
  private readonly backoffMaxMs: number;

  constructor(private readonly base: RequestSocketOptions) {
    this.pingIntervalMs = base.pingIntervalMs ?? 30_000;
    this.requestTimeoutMs = base.requestTimeoutMs ?? 30_000;
    this.backoffMinMs = base.backoffMinMs ?? 250;
    this.backoffMaxMs = base.backoffMaxMs ?? 30_000;
  }

  /** A frame other than a Response or a Pong. */
  protected abstract onPush(frame: WireServerFrame['frame']): void;
  protected abstract reportError(error: Error): void;
  /** The socket opened. */
  protected onOpen(): void {}
  /** This socket's connection went away (opened or not): per-connection state is void. */
  protected onDropped(): void {}
  /** An open socket closed with `code`: true ends it for good (no reconnect). */
  protected endsOn(_code: number): boolean {
    return false;
  }
  /** An open socket closed with `code`; `ended` when it will not reconnect. */
  protected onClosed(_code: number, _ended: boolean): void {}
  /** A reconnect was refused: true ends the socket for good (then `onGaveUp`). */
  protected givesUpOn(_error: Error): boolean {
    return false;
  }
  protected onGaveUp(_error: Error): void {}
  /** The first connect failed: true keeps reconnecting in the background instead of stopping. */
  protected retriesAfterFailedStart(_error: Error): boolean {
    return false;
  }
  protected beforeStop(): void {}

  get isOpen(): boolean {
    return this.ws?.readyState === WebSocket.OPEN;
  }

  get isRunning(): boolean {
    return !this.stopped;
  }

  /** Requests sent over the socket and not answered yet (diagnostics). */
  get pendingRequests(): number {
    return this.pending.size;
  }

  /**
   * Connects; resolves once open. A failure of this first attempt rejects and stops,
   * unless `retriesAfterFailedStart` says to keep trying (then it rejects and reconnects).
   */
  async start(): Promise<void> {
    if (!this.stopped) return;
    this.stopped = false;
    this.attempt = 0;
    const attempts = Math.max(1, this.base.startAttempts?.() ?? 1);
    for (let i = 0; ; i++) {
      try {
        await this.openOnce();
        return;
      } catch (e) {
        // Unreachable: the next node may answer. A refusal (401/403) would be the same everywhere.
        const elsewhere = e instanceof NetworkError || (e instanceof ServerError && e.status >= 500);
        if (elsewhere && i + 1 < attempts && !this.stopped) continue;
        if (!this.stopped && this.retriesAfterFailedStart(e as Error)) this.scheduleReconnect();
        else this.stopped = true;
        throw e;
      }
    }
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.reconnectTimer);
    this.beforeStop();
    const ws = this.ws;
    this.ws = undefined;
    this.stopPing();
    this.failPending(new NetworkError('socket closed'));
    if (ws && ws.readyState !== WebSocket.CLOSED) {
      await new Promise<void>((resolve) => {
        const t = setTimeout(() => {
          ws.terminate();
          resolve();
        }, 1000);
        ws.once('close', () => {
          clearTimeout(t);
          resolve();
        });
        ws.close(1000);
      });
    }
  }

  private openOnce(): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      const url = this.base.url();
      const ws = new WebSocket(url, {
        headers: this.base.headers(),
        // Both sockets offer the same handshake; the server turns compression off anyway.
        perMessageDeflate: false,
        ...(this.base.handshakeTimeoutMs !== undefined ? { handshakeTimeout: this.base.handshakeTimeoutMs } : {}),
        ...(this.base.maxPayloadBytes !== undefined ? { maxPayload: this.base.maxPayloadBytes } : {}),
      });
      this.ws = ws;
      let opened = false;
      let httpError: Error | undefined;
      ws.on('unexpected-response', (_req, res) => {
        let data = '';
        res.on('data', (c: Buffer) => {
          // A refusal is a small JSON body; anything longer is not read further.
          if (data.length < 64 * 1024) data += c.toString('utf8');
        });
        res.on('end', () => {
          let body: unknown = data;
          try {
            body = JSON.parse(data);
          } catch {
            /* keep text */
          }
          const b = body as { code?: unknown; message?: unknown };
          httpError = new ServerError(
            res.statusCode ?? 0,
            typeof b?.code === 'string' ? b.code : `HTTP_${res.statusCode}`,
            typeof b?.message === 'string' ? b.message : `socket upgrade refused: ${res.statusCode}`,
            body,
          );
          ws.terminate();
        });
      });
      ws.on('open', () => {
        opened = true;
        this.attempt = 0;
        this.base.onUrlOpened?.(url);
        this.lastSeen = Date.now();
        this.startPing(ws);
        this.onOpen();
        resolve();
      });
      ws.on('message', (data, isBinary) => {
        if (ws !== this.ws) return;
        this.lastSeen = Date.now();
        if (!isBinary) return this.reportError(new NetworkError('unexpected text frame'));
        this.onFrame(data as Buffer);
      });
      ws.on('error', (e) => {
        if (!opened && !httpError) httpError = new NetworkError(`socket: ${e.message}`, { cause: e });
      });
      ws.on('close', (code) => {
        const mine = ws === this.ws;
        if (mine) {
          this.ws = undefined;
          this.stopPing();
          this.failPending(new NetworkError(`socket closed (${code})`));
          this.onDropped();
        }
        if (!opened) {
          if (!(httpError instanceof ServerError) || httpError.status >= 500) this.base.onUrlFailed?.(url);
          reject(httpError ?? new NetworkError(`socket closed before opening (${code})`));
          if (!this.stopped && this.attempt > 0) this.scheduleReconnect();
          return;
        }
        if (!mine) return;
        const ended = this.endsOn(code);
        if (ended) this.stopped = true;
        else {
          if (LEAVING_CODES.has(code)) this.base.onUrlFailed?.(url);
          // Draining: the node asked us to move now; a short jittered delay spreads the herd.
          if (code === SocketCloseCode.NodeDraining) this.attempt = 0;
        }
        this.onClosed(code, ended);
        if (!this.stopped) this.scheduleReconnect();
      });
    });
  }

  private scheduleReconnect(): void {
    if (this.stopped) return;
    clearTimeout(this.reconnectTimer);
    const cap = Math.min(this.backoffMaxMs, this.backoffMinMs * 2 ** Math.min(this.attempt, 16));
    const delay = this.backoffMinMs / 2 + Math.random() * cap;
    this.attempt++;
    this.reconnectTimer = setTimeout(() => {
      if (this.stopped) return;
      this.openOnce().catch((e: Error) => {
        if (this.stopped || !this.givesUpOn(e)) return;
        // Other failures already scheduled the next attempt from the close handler.
        this.stopped = true;
        clearTimeout(this.reconnectTimer);
        this.onGaveUp(e);
      });
    }, delay);
    this.reconnectTimer.unref?.();
  }

  private startPing(ws: WebSocket): void {
    this.stopPing();
    this.pingTimer = setInterval(() => {
      if (ws !== this.ws) return;
      if (Date.now() - this.lastSeen > this.pingIntervalMs * 2.5) {
        ws.terminate(); // dead connection: the close handler reconnects
        return;
      }
      this.sendFrame({ frame: { case: 'ping', value: {} } });
    }, this.pingIntervalMs);
    this.pingTimer.unref?.();
  }

  private stopPing(): void {
    clearInterval(this.pingTimer);
    this.pingTimer = undefined;
  }

  private onFrame(bytes: Buffer): void {
    let frame: WireServerFrame;
    try {
      frame = decodeServerFrame(bytes);
    } catch {
      return this.reportError(new NetworkError('server sent a frame that is not a valid ServerFrame'));
    }
    const f = frame.frame;
    if (f.case === 'pong') return;
    if (f.case !== 'response') return this.onPush(f);
    const id = Number(f.value.id);
    const p = this.pending.get(id);
    if (!p) return;
    this.pending.delete(id);
    clearTimeout(p.timer);
    let body: unknown;
    try {
      body = f.value.body === '' ? undefined : JSON.parse(f.value.body);
    } catch {
      return p.reject(new NetworkError('server sent a response whose body is not JSON'));
    }
    p.resolve({ status: f.value.status, body });
  }

  /** Sends a frame if the socket is open; false when it is not. */
  sendFrame(frame: ClientFrameInit): boolean {
    const ws = this.ws;
    if (!ws || ws.readyState !== WebSocket.OPEN) return false;
    ws.send(encodeClientFrame(frame));
    return true;
  }

  /**
   * A request frame and its Response. Rejects with NetworkError (callers fall back to
   * HTTP) when the socket is not open, drops, does not answer in time, or when the frame
   * would exceed the server's frame limit.
   */
  protected requestFrame(frame: (id: bigint) => ClientFrameInit): Promise<RawResponse> {
    return new Promise<RawResponse>((resolve, reject) => {
      const ws = this.ws;
      if (!ws || ws.readyState !== WebSocket.OPEN) return reject(new NetworkError('socket not open'));
      const id = this.nextId++;
      const bytes = encodeClientFrame(frame(BigInt(id)));
      if (bytes.length > MAX_SOCKET_FRAME_BYTES) return reject(new NetworkError('request too large for a socket frame'));
      const timer = setTimeout(() => {
        this.pending.delete(id);
        reject(new NetworkError('socket request timed out'));
      }, this.requestTimeoutMs);
      this.pending.set(id, { resolve, reject, timer });
      ws.send(bytes);
    });
  }

  private failPending(e: Error): void {
    for (const [id, p] of this.pending) {
      clearTimeout(p.timer);
      p.reject(e);
      this.pending.delete(id);
    }
  }
}
