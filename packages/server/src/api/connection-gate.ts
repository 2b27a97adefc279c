import { createHmac, randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type { Server } from 'node:http';
import type { Socket } from 'node:net';
import { ErrorCode } from '@kluis/protocol';
import { ApiError } from '../errors.js';
import { endWithError } from './raw-error-answers.js';
import { addressSource } from './source-address.js';

/** Connections above the cap that may still be opened, for health checks only. */
export const HEALTH_HEADROOM = 32;
/** File descriptors kept for everything but client connections (database, WAL, blobs, logs, NATS, PostgreSQL). */
export const OTHER_FDS = 512;
/** Used when the open-file limit cannot be read (not Linux). */
const FALLBACK_MAX_CONNECTIONS = 1024 - OTHER_FDS - HEALTH_HEADROOM;
/** A connection in the health headroom must have been answered by then. */
const HEADROOM_LIFETIME_MS = 5_000;
/** Paths that may use the headroom above the cap (load balancers, Prometheus). */
export const HEALTH_PATHS: ReadonlySet<string> = new Set(['/healthz', '/readyz', '/metrics']);

export interface ConnectionGateOptions {
  /** Ordinary connections at most; 0 = derived from the open-file limit. */
  maxConnections: number;
  /** Connections from one address (IPv6: one /64); 0 = no per-address cap. Loopback is exempt. */
  maxPerSource: number;
  onRefused?: (cap: 'total' | 'source') => void;
  /** An idle connection was closed to make room at the cap. */
  onEvicted?: () => void;
}

/** The process's open-file limit (soft, hard) from /proc, or undefined off Linux. */
export function openFileLimit(): { soft: number; hard: number } | undefined {
  try {
    const line = readFileSync('/proc/self/limits', 'utf8')
      .split('\n')
      .find((l) => l.startsWith('Max open files'));
    const [soft, hard] = line?.slice('Max open files'.length).trim().split(/\s+/) ?? [];
    const parse = (v: string | undefined) => (v === 'unlimited' ? Number.MAX_SAFE_INTEGER : Number(v));
    const limits = { soft: parse(soft), hard: parse(hard) };
    return Number.isFinite(limits.soft) && limits.soft > 0 ? limits : undefined;
  } catch {
    return undefined;
  }
}

/** `--max-connections` 0: what the open-file limit leaves after other files and the health headroom. */
export function defaultMaxConnections(limit = openFileLimit()): number {
  if (!limit) return FALLBACK_MAX_CONNECTIONS;
  return Math.max(64, Math.min(limit.soft, 1_000_000) - OTHER_FDS - HEALTH_HEADROOM);
}

/**
 * Counts TCP connections as they arrive, before any byte is read. Past the cap a
 * connection is still taken into a small headroom (HEALTH_HEADROOM), where only health
 * and metrics paths are answered and nothing lives longer than a few seconds; past that
 * it is refused at once (503). Per source address, past its cap: 429 at once.
 *
 * Addresses are counted in memory only, as truncated HMACs under a per-process secret
 * (a heap dump holds no address list), never logged or stored, and forgotten when the
 * address's last connection closes. Loopback is not capped per source: behind a local
 * reverse proxy every client has the proxy's address.
 */
export class ConnectionGate {
  readonly maxConnections: number;
  private readonly maxPerSource: number;
  private readonly secret = randomBytes(32);
  private readonly perSource = new Map<string, number>();
  private readonly headroom = new WeakSet<Socket>();
  /**
   * Connections with no request under way (none yet, or a keep-alive one between
   * requests), oldest idle first: at the cap, a newcomer takes the place of the oldest.
   */
  private readonly idle = new Map<Socket, true>();
  /** Counted connections and their source key (undefined: not capped per source). */
  private readonly counted = new Map<Socket, string | undefined>();
  private readonly refused = new WeakSet<Socket>();
  private open = 0;

  constructor(private readonly opts: ConnectionGateOptions) {
    this.maxConnections = opts.maxConnections > 0 ? opts.maxConnections : defaultMaxConnections();
    this.maxPerSource = opts.maxPerSource;
  }

  /** Connections counted now (tests, metrics). */
  get connections(): number {
    return this.open;
  }

  /** Sources with at least one connection now (tests: the map empties as they close). */
  get sources(): number {
    return this.perSource.size;
  }

  attach(server: Server): void {
    // First listener: runs before the HTTP parser is attached.
    server.prependListener('connection', this.onConnection);
    server.prependListener('request', (req, res) => {
      const socket = req.socket;
      this.idle.delete(socket);
      res.once('finish', () => {
        if (!socket.destroyed && this.counted.has(socket)) this.idle.set(socket, true);
      });
    });
    // A WebSocket (or an upgrade being authenticated) is never idle in this sense.
    server.prependListener('upgrade', (req) => this.idle.delete(req.socket));
  }

  /** True for a connection taken into the headroom above the cap: health paths only. */
  inHeadroom(socket: Socket): boolean {
    return this.headroom.has(socket);
  }

  /** A connection that was refused on arrival; whatever it sends is not served. */
  isRefused(socket: Socket): boolean {
    return this.refused.has(socket);
  }

  /** The answer to a request that is not for a health path, on a connection in the headroom. */
  static busy(): ApiError {
    return new ApiError(ErrorCode.Unavailable, 'this server has too many open connections; try again shortly');
  }

  readonly onConnection = (socket: Socket): void => {
    const source = this.maxPerSource > 0 ? this.sourceKey(socket.remoteAddress) : undefined;
    const fromSource = source === undefined ? 0 : (this.perSource.get(source) ?? 0);
    if (source !== undefined && fromSource >= this.maxPerSource) {
      this.opts.onRefused?.('source');
      return this.refuse(socket, new ApiError(ErrorCode.RateLimited, 'too many open connections from this address; close some and try again', { retryAfterSeconds: 1 }));
    }
    // At the cap: an idle connection (one that sent no request, or sits between requests)
    // makes way, so idle floods cannot lock out health checks or real clients.
    if (this.open >= this.maxConnections) this.evictIdle();
    if (this.open >= this.maxConnections + HEALTH_HEADROOM) {
      this.opts.onRefused?.('total');
      return this.refuse(socket, ConnectionGate.busy());
    }
    this.open++;
    this.counted.set(socket, source);
    this.idle.set(socket, true);
    if (source !== undefined) this.perSource.set(source, fromSource + 1);
    if (this.open > this.maxConnections) {
      this.headroom.add(socket);
      setTimeout(() => socket.destroy(), HEADROOM_LIFETIME_MS).unref();
    }
    socket.once('close', () => this.release(socket));
  };

  /** Uncounts a connection, once (evicted ones are uncounted before their 'close'). */
  private release(socket: Socket): void {
    if (!this.counted.has(socket)) return;
    const source = this.counted.get(socket);
    this.counted.delete(socket);
    this.idle.delete(socket);
    this.open--;
    if (source === undefined) return;
    const left = (this.perSource.get(source) ?? 1) - 1;
    if (left <= 0) this.perSource.delete(source);
    else this.perSource.set(source, left);
  }

  private evictIdle(): void {
    for (const socket of this.idle.keys()) {
      this.idle.delete(socket);
      if (socket.destroyed) continue;
      this.opts.onEvicted?.();
      // Its 'close' comes on a later tick: uncount it now, so the newcomer has its place.
      this.release(socket);
      socket.destroy();
      return;
    }
  }

  private refuse(socket: Socket, error: ApiError): void {
    this.refused.add(socket);
    socket.on('error', () => {});
    // Read nothing: the answer is written at once, whatever the client was going to ask.
    socket.pause();
    endWithError(socket, error);
  }

  /** undefined: not capped (loopback, or no address). IPv6 by /64: one host holds many addresses. */
  private sourceKey(address: string | undefined): string | undefined {
    if (!address) return undefined;
    const { source, loopback } = addressSource(address);
    if (loopback) return undefined;
    return createHmac('sha256', this.secret).update(source).digest().subarray(0, 16).toString('base64url');
  }
}
