import { randomUUID } from 'node:crypto';
import { connect, type NatsConnection, type Subscription } from '@nats-io/transport-node';
import type { Bus, DeviceEvent, DeviceEventHandler } from './bus.js';
import { LocalBus } from './local-bus.js';

export interface NatsBusOptions {
  /** NATS client URLs (nats://host:4222); the client fails over between them. */
  servers: string[];
  /** Shown in NATS monitoring (connz) so operators see which kluis node a client is. */
  name?: string;
  /**
   * Every local socket re-reads its queue from the database at least this often, so a
   * lost publish delays delivery by at most this much but never loses it.
   */
  pollIntervalMs?: number;
  /** The same, while NATS is unreachable (delivery then depends on polling alone). */
  degradedPollIntervalMs?: number;
  /** Called on connection state changes (logging, readiness). */
  onStatus?: (status: 'connected' | 'disconnected') => void;
}

/**
 * On the wire: who sent it (to skip our own echo) and the event, without the bodies of
 * stored envelopes. Online-only envelopes do travel with their (base64) content: they
 * exist nowhere else.
 */
type OnlineEvent = Extract<DeviceEvent, { type: 'online' }>;
/** An online envelope on NATS: its content as base64 text inside the JSON event. */
type WireOnline = { type: 'online'; envelopes: Array<Omit<OnlineEvent['envelopes'][number], 'content'> & { content: string }> };
type WireDeviceEvent = Exclude<DeviceEvent, { type: 'envelopes' } | { type: 'online' }> | WireOnline;

interface WireEvent {
  o: string;
  e: WireDeviceEvent;
}

/** Stored envelopes cross as a plain 'wake' (the database has them). */
function toWire(event: DeviceEvent): WireDeviceEvent {
  if (event.type === 'envelopes') return { type: 'wake' };
  if (event.type === 'online') return { type: 'online', envelopes: event.envelopes.map((e) => ({ ...e, content: e.content.toString('base64') })) };
  return event;
}

function fromWire(event: WireDeviceEvent): DeviceEvent {
  if (event.type !== 'online') return event;
  if (!Array.isArray(event.envelopes)) return { type: 'online', envelopes: [] };
  return { type: 'online', envelopes: event.envelopes.map((e) => ({ ...e, content: Buffer.from(String(e.content), 'base64') })) };
}

const SUBJECT_PREFIX = 'kluis.device.';
/** The periodic poll is spread over the interval in ticks this long, not done all at once. */
const POLL_TICK_MS = 250;

/**
 * The cluster bus. Local subscribers get events synchronously (as with LocalBus, so
 * pushes on the committing node keep commit order); other nodes get them over NATS on
 * one subject per device, subscribed only while a socket of that device is open here
 * (plus kluis.device.access, ACCESS_CHANGES_KEY, which every node holds for good; its
 * periodic and post-reconnect 'wake' tells the access-key cache to start over).
 * Envelope events cross nodes as a plain 'wake': the receiving node reads the queue
 * from the shared database, which stays the only truth. Nothing depends on a publish
 * arriving: a periodic wake of every local socket (and one after each NATS reconnect)
 * bounds the delay of a lost one. 'online' events (never stored) cross whole, and a
 * lost one stays lost, as an online-only send may.
 */
export class NatsBus implements Bus {
  private readonly local = new LocalBus();
  private readonly origin = randomUUID();
  /** NATS subscription and local handler count per device key. */
  private readonly remote = new Map<string, { sub: Subscription; handlers: number }>();
  private readonly pollTimer: NodeJS.Timeout;
  private pollQueue: string[] = [];
  private pollStartedAt = 0;
  private connected = true;
  private closed = false;
  private publishErrors = 0;
  private disconnects = 0;

  private constructor(
    private readonly nc: NatsConnection,
    private readonly options: NatsBusOptions,
  ) {
    this.pollTimer = setInterval(() => this.pollTick(), POLL_TICK_MS);
    this.pollTimer.unref();
    void this.watchStatus();
  }

  static async connect(options: NatsBusOptions): Promise<NatsBus> {
    const nc = await connect({
      servers: options.servers,
      name: options.name,
      // A kluis node never gives up on the bus: it polls meanwhile (see class comment).
      maxReconnectAttempts: -1,
      reconnectTimeWait: 500,
      reconnectJitter: 250,
      pingInterval: 10_000,
      maxPingOut: 2,
    });
    return new NatsBus(nc, options);
  }

  /** True while connected to some NATS server (readiness). */
  get isConnected(): boolean {
    return this.connected && !this.closed;
  }

  /** Publishes that failed synchronously (closed connection); for metrics. */
  get errors(): number {
    return this.publishErrors;
  }

  stats(): { connected: boolean; errors: number } {
    return { connected: this.isConnected, errors: this.publishErrors + this.disconnects };
  }

  publish(key: string, event: DeviceEvent): void {
    this.local.publish(key, event);
    if (this.closed) return;
    const wire: WireEvent = { o: this.origin, e: toWire(event) };
    try {
      // While disconnected the client buffers publishes and sends them on reconnect.
      this.nc.publish(SUBJECT_PREFIX + key, JSON.stringify(wire));
    } catch {
      this.publishErrors++;
    }
  }

  /**
   * A request with many replies: every other node holding `key` answers once its local
   * handlers ran (onRemote). Bounded by `timeoutMs`: a node cut off from NATS never
   * answers, and drops its access-key cache on its degraded poll instead.
   */
  async publishAcked(key: string, event: DeviceEvent, acks: number, timeoutMs: number): Promise<number> {
    if (acks <= 0 || this.closed) {
      this.publish(key, event);
      return 0;
    }
    this.local.publish(key, event);
    const wire: WireEvent = { o: this.origin, e: toWire(event) };
    let confirmed = 0;
    try {
      const replies = await this.nc.requestMany(SUBJECT_PREFIX + key, JSON.stringify(wire), { strategy: 'count', maxMessages: acks, maxWait: timeoutMs });
      for await (const _reply of replies) confirmed++;
    } catch {
      // Closed or disconnected: the caller answers anyway; the others' poll bounds the rest.
      this.publishErrors++;
    }
    return confirmed;
  }

  subscribe(key: string, handler: DeviceEventHandler): () => void {
    const unsubscribeLocal = this.local.subscribe(key, handler);
    let entry = this.remote.get(key);
    if (entry) entry.handlers++;
    else if (!this.closed) {
      const sub = this.nc.subscribe(SUBJECT_PREFIX + key, {
        callback: (err, msg) => {
          if (!err) this.onRemote(key, msg.string(), msg.reply ? () => msg.respond() : undefined);
        },
      });
      entry = { sub, handlers: 1 };
      this.remote.set(key, entry);
    }
    let active = true;
    return () => {
      if (!active) return;
      active = false;
      unsubscribeLocal();
      const current = this.remote.get(key);
      if (current && --current.handlers === 0) {
        this.remote.delete(key);
        current.sub.unsubscribe();
      }
    };
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    clearInterval(this.pollTimer);
    this.remote.clear();
    await this.local.close();
    // drain() flushes what we published (e.g. 'connected' events) before closing.
    await this.nc.drain().catch(() => this.nc.close());
  }

  /** `ack`: the publisher waits for this node (publishAcked), told once the handlers ran. */
  private onRemote(key: string, text: string, ack?: () => unknown): void {
    let wire: WireEvent;
    try {
      wire = JSON.parse(text) as WireEvent;
    } catch {
      return;
    }
    // Our own publish was already delivered locally, synchronously.
    if (wire.o === this.origin || !wire.e || typeof wire.e.type !== 'string') return;
    this.local.publish(key, fromWire(wire.e));
    try {
      ack?.();
    } catch {
      // Closed meanwhile: the publisher's wait is bounded.
    }
  }

  /**
   * Wakes a slice of the local sockets each tick so that every one is woken once per
   * interval, spreading the database reads evenly instead of in one burst.
   */
  private pollTick(): void {
    const interval = this.connected ? (this.options.pollIntervalMs ?? 10_000) : (this.options.degradedPollIntervalMs ?? 1_000);
    const now = Date.now();
    if (this.pollQueue.length === 0) {
      if (now - this.pollStartedAt < interval) return;
      this.pollStartedAt = now;
      this.pollQueue = [...this.remote.keys()];
    }
    const slice = Math.max(1, Math.ceil((this.remote.size * POLL_TICK_MS) / interval));
    for (const key of this.pollQueue.splice(0, slice)) this.local.publish(key, { type: 'wake' });
  }

  private wakeAll(): void {
    for (const key of this.remote.keys()) this.local.publish(key, { type: 'wake' });
  }

  private async watchStatus(): Promise<void> {
    for await (const status of this.nc.status()) {
      if (status.type === 'disconnect') {
        this.connected = false;
        this.disconnects++;
        this.options.onStatus?.('disconnected');
      } else if (status.type === 'reconnect') {
        this.connected = true;
        this.options.onStatus?.('connected');
        // Publishes from other nodes may have been lost while we were away.
        this.wakeAll();
      }
    }
  }
}

/** `--bus` value: comma-separated nats:// URLs. */
export function parseBusServers(value: string): string[] {
  return value
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
}
