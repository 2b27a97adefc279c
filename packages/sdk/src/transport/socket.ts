import WebSocket from 'ws';
import {
  MAX_ACKS_PER_FRAME,
  MAX_SOCKET_FRAME_BYTES,
  ServerFrame,
  SocketCloseCode,
  type ClientFrame,
  type Envelope,
  type SendRequest,
  type MultiSendRequest,
} from '@kluis/protocol';
import { NetworkError, ServerError } from '../errors.js';
import type { RawResponse } from './http.js';
import { check } from './validate.js';

export type SocketState = 'connected' | 'disconnected' | 'replaced' | 'removed';

export interface SocketHandlers {
  onEnvelope(envelope: Envelope): void;
  onQueueEmpty(): void;
  onState(state: SocketState): void;
  onError(error: Error): void;
}

export interface SocketOptions {
  url: () => string;
  authorization: () => string | undefined;
  pingIntervalMs?: number;
  requestTimeoutMs?: number;
  backoffMinMs?: number;
  backoffMaxMs?: number;
  /**
   * Several nodes (transport/server-list.ts): `url()` names the node to try next, this
   * hears which one failed or told us to leave (4010 draining, 1001 going away, a dead
   * connection), and `startAttempts()` bounds the first connect over that many nodes.
   */
  onUrlFailed?: (url: string) => void;
  onUrlOpened?: (url: string) => void;
  startAttempts?: () => number;
}

/** Closes after which this node is not where to reconnect: it is leaving, or it vanished. */
const LEAVING_CODES: ReadonlySet<number> = new Set([SocketCloseCode.NodeDraining, SocketCloseCode.GoingAway, 1006]);

interface Pending {
  resolve(r: RawResponse): void;
  reject(e: Error): void;
  timer: NodeJS.Timeout;
}

export function socketUrl(serverUrl: string): string {
  const u = new URL(serverUrl.replace(/\/+$/, '') + '/v1/socket');
  u.protocol = u.protocol === 'https:' ? 'wss:' : 'ws:';
  return u.toString();
}

/**
 * The device's WebSocket: validates frames, pings, batches acks, carries 'send' requests, and
 * reconnects with jittered exponential backoff — except after close 4000 (connected elsewhere)
 * and 4001 (device removed), and after stop().
 */
export class DeviceSocket {
  private ws: WebSocket | undefined;
  private stopped = true;
  private attempt = 0;
  private reconnectTimer: NodeJS.Timeout | undefined;
  private pingTimer: NodeJS.Timeout | undefined;
  private lastSeen = 0;
  private nextId = 1;
  private readonly pending = new Map<number, Pending>();
  private acks: string[] = [];
  private paused = false;
  private ackScheduled = false;
  private readonly pingIntervalMs: number;
  private readonly requestTimeoutMs: number;
  private readonly backoffMinMs: number;
  private readonly backoffMaxMs: number;

  constructor(
    private readonly opts: SocketOptions,
    private readonly h: SocketHandlers,
  ) {
    this.pingIntervalMs = opts.pingIntervalMs ?? 30_000;
    this.requestTimeoutMs = opts.requestTimeoutMs ?? 30_000;
    this.backoffMinMs = opts.backoffMinMs ?? 250;
    this.backoffMaxMs = opts.backoffMaxMs ?? 30_000;
  }

  get isOpen(): boolean {
    return this.ws?.readyState === WebSocket.OPEN;
  }

  get isRunning(): boolean {
    return !this.stopped;
  }

  /** Connects; resolves once open. A failure of this first attempt rejects and stops. */
  async start(): Promise<void> {
    if (!this.stopped) return;
    this.stopped = false;
    this.attempt = 0;
    const attempts = Math.max(1, this.opts.startAttempts?.() ?? 1);
    for (let i = 0; ; i++) {
      try {
        await this.openOnce();
        return;
      } catch (e) {
        // Unreachable: the next node may answer. A refusal (401/403) would be the same everywhere.
        const elsewhere = e instanceof NetworkError || (e instanceof ServerError && e.status >= 500);
        if (!elsewhere || i + 1 >= attempts || this.stopped) {
          this.stopped = true;
          throw e;
        }
      }
    }
  }

  /** Stops taking new envelopes (they stay queued on the server); acks and sends still work. */
  pause(): void {
    this.paused = true;
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.reconnectTimer);
    this.flushAcks();
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
      const auth = this.opts.authorization();
      const url = this.opts.url();
      const ws = new WebSocket(url, { headers: auth ? { authorization: auth } : {} });
      this.ws = ws;
      let opened = false;
      let httpError: Error | undefined;
      ws.on('unexpected-response', (_req, res) => {
        let data = '';
        res.on('data', (c: Buffer) => (data += c.toString('utf8')));
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
        this.opts.onUrlOpened?.(url);
        this.lastSeen = Date.now();
        this.startPing(ws);
        this.h.onState('connected');
        resolve();
      });
      ws.on('message', (data, isBinary) => {
        if (ws !== this.ws) return;
        this.lastSeen = Date.now();
        if (isBinary) return this.h.onError(new NetworkError('unexpected binary frame'));
        this.onFrame(data.toString());
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
          this.acks = [];
        }
        if (!opened) {
          if (!(httpError instanceof ServerError) || httpError.status >= 500) this.opts.onUrlFailed?.(url);
          reject(httpError ?? new NetworkError(`socket closed before opening (${code})`));
          if (!this.stopped && this.attempt > 0) this.scheduleReconnect();
          return;
        }
        if (!mine) return;
        if (code === SocketCloseCode.ConnectedElsewhere) {
          this.stopped = true;
          this.h.onState('replaced');
        } else if (code === SocketCloseCode.DeviceRemoved) {
          this.stopped = true;
          this.h.onState('removed');
        } else {
          if (LEAVING_CODES.has(code)) this.opts.onUrlFailed?.(url);
          // Draining: the node asked us to move now; a short jittered delay spreads the herd.
          if (code === SocketCloseCode.NodeDraining) this.attempt = 0;
          this.h.onState('disconnected');
          if (!this.stopped) this.scheduleReconnect();
        }
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
        // 401/403: our credentials are gone; retrying will not help.
        if (e instanceof ServerError && (e.status === 401 || e.status === 403)) {
          this.stopped = true;
          this.h.onError(e);
          this.h.onState('removed');
        }
        // other failures already scheduled the next attempt from the close handler
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
      this.sendFrame({ type: 'ping' });
    }, this.pingIntervalMs);
    this.pingTimer.unref?.();
  }

  private stopPing(): void {
    clearInterval(this.pingTimer);
    this.pingTimer = undefined;
  }

  private onFrame(text: string): void {
    let frame: unknown;
    try {
      frame = JSON.parse(text);
    } catch {
      return this.h.onError(new NetworkError('server sent a frame that is not JSON'));
    }
    if (!check(ServerFrame, frame)) return this.h.onError(new NetworkError('server sent an invalid frame'));
    switch (frame.type) {
      case 'envelope':
        // Paused (closing): not acked, so the server redelivers it next time.
        if (this.paused) return;
        return this.h.onEnvelope(frame.envelope);
      case 'queue-empty':
        return this.h.onQueueEmpty();
      case 'response': {
        const p = this.pending.get(frame.id);
        if (!p) return;
        this.pending.delete(frame.id);
        clearTimeout(p.timer);
        return p.resolve({ status: frame.status, body: frame.body });
      }
      case 'pong':
        return;
      case 'error':
        return this.h.onError(new ServerError(400, frame.code, frame.message, frame));
    }
  }

  sendFrame(frame: ClientFrame): boolean {
    const ws = this.ws;
    if (!ws || ws.readyState !== WebSocket.OPEN) return false;
    ws.send(JSON.stringify(frame));
    return true;
  }

  /** Requests sent over the socket and not answered yet (diagnostics). */
  get pendingRequests(): number {
    return this.pending.size;
  }

  /** A 'send' over the socket; rejects with NetworkError if the socket is not open or drops. */
  request(destination: string, body: SendRequest): Promise<RawResponse> {
    return this.requestFrame((id) => ({ type: 'send', id, destination, body }));
  }

  /**
   * A 'send-multi' over the socket. Rejects with NetworkError (so callers fall back to
   * HTTP) when the frame would exceed the server's frame limit, as a large per-device
   * fan-out can.
   */
  requestMulti(body: MultiSendRequest): Promise<RawResponse> {
    return this.requestFrame((id) => ({ type: 'send-multi', id, body }));
  }

  private requestFrame(frame: (id: number) => ClientFrame): Promise<RawResponse> {
    return new Promise<RawResponse>((resolve, reject) => {
      const ws = this.ws;
      if (!ws || ws.readyState !== WebSocket.OPEN) return reject(new NetworkError('socket not open'));
      const id = this.nextId++;
      const text = JSON.stringify(frame(id));
      if (Buffer.byteLength(text) > MAX_SOCKET_FRAME_BYTES) return reject(new NetworkError('request too large for a socket frame'));
      const timer = setTimeout(() => {
        this.pending.delete(id);
        reject(new NetworkError('socket request timed out'));
      }, this.requestTimeoutMs);
      this.pending.set(id, { resolve, reject, timer });
      ws.send(text);
    });
  }

  /** Queues an ack; acks are sent in batches (≤ MAX_ACKS_PER_FRAME) on the next tick. */
  ack(guid: string): void {
    this.acks.push(guid);
    if (this.acks.length >= MAX_ACKS_PER_FRAME) return this.flushAcks();
    if (!this.ackScheduled) {
      this.ackScheduled = true;
      setImmediate(() => this.flushAcks());
    }
  }

  flushAcks(): void {
    this.ackScheduled = false;
    while (this.acks.length > 0) {
      const guids = this.acks.splice(0, MAX_ACKS_PER_FRAME);
      // Not open: the server redelivers; we drop the duplicate by guid then.
      if (!this.sendFrame({ type: 'ack', guids })) {
        this.acks = [];
        return;
      }
    }
  }

  private failPending(e: Error): void {
    for (const [id, p] of this.pending) {
      clearTimeout(p.timer);
      p.reject(e);
      this.pending.delete(id);
    }
  }
}
