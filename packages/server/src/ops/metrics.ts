/**
 * Prometheus counters for one node, rendered in the text exposition format by hand:
 * a handful of series does not justify a client library on the hot path. Counters are
 * plain numbers bumped where things happen; gauges are read when scraped.
 */

/** Send latency buckets in seconds: a group commit takes ~1 ms on SQLite, more on PostgreSQL. */
const LATENCY_BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

export class Histogram {
  private readonly counts = new Array<number>(LATENCY_BUCKETS.length).fill(0);
  private sum = 0;
  private total = 0;

  observe(seconds: number): void {
    this.sum += seconds;
    this.total++;
    for (let i = 0; i < LATENCY_BUCKETS.length; i++) {
      if (seconds <= LATENCY_BUCKETS[i]!) {
        this.counts[i]!++;
        return;
      }
    }
  }

  /** Cumulative buckets, as Prometheus wants them. */
  render(name: string): string[] {
    const lines: string[] = [];
    let cumulative = 0;
    for (let i = 0; i < LATENCY_BUCKETS.length; i++) {
      cumulative += this.counts[i]!;
      lines.push(`${name}_bucket{le="${LATENCY_BUCKETS[i]}"} ${cumulative}`);
    }
    lines.push(`${name}_bucket{le="+Inf"} ${this.total}`, `${name}_sum ${this.sum}`, `${name}_count ${this.total}`);
    return lines;
  }
}

/** What is read at scrape time rather than counted. */
export interface MetricsGauges {
  connections: number;
  busConnected: boolean;
  busErrors: number;
  /** Rate-limit takes that found their kind's table full and used its shared sketch. */
  rateLimitOverflows?: number;
  /** TCP connections counted by the connection gate (HTTP, WebSocket, idle). */
  tcpConnections?: number;
}

export class Metrics {
  /** Envelope rows committed (one per destination device). */
  envelopesQueued = 0;
  /** Envelopes pushed over sockets (a redelivery counts again). */
  envelopesDelivered = 0;
  /** Requests and socket reads that failed because the database did not answer. */
  storeErrors = 0;
  /** Requests refused with 507 STORAGE_FULL (the disk was full; ops/storage-guard.ts). */
  storageFullRefusals = 0;
  /** Set by the storage guard: 1 while the disk is full and new writes are refused. */
  storageFull: () => boolean = () => false;
  readonly sendLatency = new Histogram();
  /** WebSockets the server closed: not read (slow consumer), pinged too often, missed heartbeat. */
  readonly socketCloses = { 'slow-consumer': 0, 'ping-flood': 0, heartbeat: 0 };
  /** TCP connections refused at once: past the connection cap, or past the per-address cap. */
  readonly connectionsRefused = { total: 0, source: 0 };
  /** Idle connections (no request under way) closed at the cap to make room for a new one. */
  connectionsEvicted = 0;

  render(g: MetricsGauges): string {
    const out: string[] = [];
    const metric = (name: string, type: string, help: string, value: number) => out.push(`# HELP ${name} ${help}`, `# TYPE ${name} ${type}`, `${name} ${value}`);
    metric('kluis_connections', 'gauge', 'Open device WebSockets on this node.', g.connections);
    metric('kluis_envelopes_queued_total', 'counter', 'Envelopes committed to device queues by this node.', this.envelopesQueued);
    metric('kluis_envelopes_delivered_total', 'counter', 'Envelopes pushed to devices by this node.', this.envelopesDelivered);
    out.push('# HELP kluis_send_latency_seconds Time from a send request to its answer.', '# TYPE kluis_send_latency_seconds histogram');
    out.push(...this.sendLatency.render('kluis_send_latency_seconds'));
    out.push('# HELP kluis_socket_server_closes_total WebSockets closed by the server, by reason.', '# TYPE kluis_socket_server_closes_total counter');
    for (const [reason, n] of Object.entries(this.socketCloses)) out.push(`kluis_socket_server_closes_total{reason="${reason}"} ${n}`);
    out.push('# HELP kluis_connections_refused_total TCP connections refused on arrival, by cap.', '# TYPE kluis_connections_refused_total counter');
    for (const [cap, n] of Object.entries(this.connectionsRefused)) out.push(`kluis_connections_refused_total{cap="${cap}"} ${n}`);
    if (g.tcpConnections !== undefined) metric('kluis_tcp_connections', 'gauge', 'Open TCP connections on this node (HTTP, WebSocket and idle).', g.tcpConnections);
    metric('kluis_rate_limit_overflows_total', 'counter', 'Rate-limit checks that found their table full of draining buckets and used the shared sketch (a flood of keys).', g.rateLimitOverflows ?? 0);
    metric('kluis_connections_evicted_total', 'counter', 'Idle TCP connections closed at the connection cap to make room.', this.connectionsEvicted);
    metric('kluis_store_errors_total', 'counter', 'Database operations that failed because the database was unreachable.', this.storeErrors);
    metric('kluis_storage_full_refusals_total', 'counter', "Requests refused with 507 because the server's storage was full.", this.storageFullRefusals);
    metric('kluis_storage_full', 'gauge', "1 while the server's storage is full and new messages are refused.", this.storageFull() ? 1 : 0);
    metric('kluis_bus_errors_total', 'counter', 'Bus publishes that failed or bus disconnects.', g.busErrors);
    metric('kluis_bus_connected', 'gauge', '1 while the bus (NATS, or in-process) is usable.', g.busConnected ? 1 : 0);
    return out.join('\n') + '\n';
  }
}
