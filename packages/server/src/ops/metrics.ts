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
}

export class Metrics {
  /** Envelope rows committed (one per destination device). */
  envelopesQueued = 0;
  /** Envelopes pushed over sockets (a redelivery counts again). */
  envelopesDelivered = 0;
  /** Requests and socket reads that failed because the database did not answer. */
  storeErrors = 0;
  readonly sendLatency = new Histogram();

  render(g: MetricsGauges): string {
    const out: string[] = [];
    const metric = (name: string, type: string, help: string, value: number) => out.push(`# HELP ${name} ${help}`, `# TYPE ${name} ${type}`, `${name} ${value}`);
    metric('kluis_connections', 'gauge', 'Open device WebSockets on this node.', g.connections);
    metric('kluis_envelopes_queued_total', 'counter', 'Envelopes committed to device queues by this node.', this.envelopesQueued);
    metric('kluis_envelopes_delivered_total', 'counter', 'Envelopes pushed to devices by this node.', this.envelopesDelivered);
    out.push('# HELP kluis_send_latency_seconds Time from a send request to its answer.', '# TYPE kluis_send_latency_seconds histogram');
    out.push(...this.sendLatency.render('kluis_send_latency_seconds'));
    metric('kluis_store_errors_total', 'counter', 'Database operations that failed because the database was unreachable.', this.storeErrors);
    metric('kluis_bus_errors_total', 'counter', 'Bus publishes that failed or bus disconnects.', g.busErrors);
    metric('kluis_bus_connected', 'gauge', '1 while the bus (NATS, or in-process) is usable.', g.busConnected ? 1 : 0);
    return out.join('\n') + '\n';
  }
}
