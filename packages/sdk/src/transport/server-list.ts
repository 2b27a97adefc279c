import { PublicNodeList, type PublicNode } from '@kluis/protocol';
import { normalizeServerUrl } from './http.js';
import { check } from './validate.js';

/** A node that failed is avoided this long, so a client does not bounce back into a dead node. */
export const FAILED_COOLDOWN_MS = 30_000;

export interface ServerListOptions {
  /** The account's home node (the URL it registered or linked with): always a candidate. */
  home: string;
  /** More node URLs given by the app (OpenOptions.serverUrls). */
  extra?: readonly string[];
  /** Nodes learned from a bootstrap list (GET /v1/nodes), kept in the profile. */
  known?: readonly PublicNode[];
  /** This client's region: nodes there are tried first. */
  region?: string;
  now?: () => number;
  random?: () => number;
}

interface Candidate {
  url: string;
  region: string;
  /** Fixed per list: spreads clients over the nodes of one region. */
  tiebreak: number;
}

/**
 * The nodes a client may talk to, in the order it prefers them: its own region first
 * (in a per-client random order, so one region's clients spread over its nodes), then
 * the home node, then the rest. A node that failed is skipped for a cooldown; when every
 * node failed lately, the one that failed longest ago is tried again.
 */
export class ServerList {
  private readonly candidates = new Map<string, Candidate>();
  private readonly failedAt = new Map<string, number>();
  private readonly home: string;
  private readonly region: string;
  private readonly now: () => number;
  private readonly random: () => number;

  constructor(opts: ServerListOptions) {
    this.now = opts.now ?? Date.now;
    this.random = opts.random ?? Math.random;
    this.home = normalizeServerUrl(opts.home);
    this.region = opts.region ?? '';
    this.add(this.home, '');
    for (const url of opts.extra ?? []) this.add(url, '');
    this.update(opts.known ?? []);
  }

  /** Merges a bootstrap list (URLs that fail to parse are ignored, never thrown). */
  update(nodes: readonly PublicNode[]): void {
    for (const n of nodes) this.add(n.url, n.region);
  }

  /** Every candidate in preference order (ignoring failures). */
  ordered(): string[] {
    const rank = (c: Candidate) => (this.region && c.region === this.region ? 0 : c.url === this.home ? 1 : 2);
    return [...this.candidates.values()].sort((a, b) => rank(a) - rank(b) || a.tiebreak - b.tiebreak).map((c) => c.url);
  }

  /** The node to use now. */
  pick(): string {
    const now = this.now();
    const order = this.ordered();
    const healthy = order.find((url) => !(now - (this.failedAt.get(url) ?? -Infinity) < FAILED_COOLDOWN_MS));
    if (healthy) return healthy;
    // All failed lately: the one that failed longest ago has had the most time to recover.
    return order.reduce((best, url) => ((this.failedAt.get(url) ?? 0) < (this.failedAt.get(best) ?? 0) ? url : best));
  }

  /** `url` could not be reached, or told us to go elsewhere (draining). */
  failed(url: string): void {
    const key = this.keyOf(url);
    if (key) this.failedAt.set(key, this.now());
  }

  /** A request or socket to `url` worked: forget its failure. */
  succeeded(url: string): void {
    const key = this.keyOf(url);
    if (key) this.failedAt.delete(key);
  }

  get size(): number {
    return this.candidates.size;
  }

  /** The candidate a (possibly longer) URL belongs to, e.g. a socket URL. */
  private keyOf(url: string): string | undefined {
    const origin = safeOrigin(url);
    return [...this.candidates.keys()].find((c) => safeOrigin(c) === origin);
  }

  private add(url: string, region: string): void {
    let normalized: string;
    try {
      normalized = normalizeServerUrl(url);
    } catch {
      return;
    }
    const had = this.candidates.get(normalized);
    this.candidates.set(normalized, { url: normalized, region: region || had?.region || '', tiebreak: had?.tiebreak ?? this.random() });
  }
}

function safeOrigin(url: string): string {
  try {
    const u = new URL(url);
    // ws(s) and http(s) of one host are the same node.
    return `${u.protocol.replace(/^ws/, 'http')}//${u.host}`;
  } catch {
    return url;
  }
}

/**
 * A fetch that sends each request to the list's current node and, when the node cannot
 * be reached (or answers 503 while draining or shutting down), tries the next one. Only
 * failures before any response are retried for non-idempotent requests, so a send is
 * repeated only when it may never have arrived; receivers drop a repeat by timestamp.
 */
export function failoverFetch(list: ServerList, base: typeof fetch = fetch): typeof fetch {
  return async (input, init) => {
    const original = new URL(typeof input === 'string' ? input : input instanceof URL ? input.href : input.url);
    // A streamed body (an attachment upload) is consumed by the first attempt: no retry.
    const replayable = init?.body === undefined || init.body === null || typeof init.body === 'string' || init.body instanceof Uint8Array;
    const tries = replayable ? Math.max(1, Math.min(list.size, 4)) : 1;
    let lastError: unknown;
    for (let i = 0; i < tries; i++) {
      const node = new URL(list.pick());
      const target = new URL(original.pathname + original.search, node);
      try {
        const res = await base(target, init);
        if (res.status === 503 && i + 1 < tries && list.size > 1) {
          list.failed(node.href);
          await res.body?.cancel().catch(() => {});
          continue;
        }
        list.succeeded(node.href);
        return res;
      } catch (e) {
        // Our own timeout: the request may be in progress on that node; do not send it twice.
        if (init?.signal?.aborted) throw e;
        list.failed(node.href);
        lastError = e;
      }
    }
    throw lastError instanceof Error ? lastError : new Error('no server reachable');
  };
}

/** GET /v1/nodes from `url`; undefined when the server has no such list or cannot be reached. */
export async function fetchNodeList(url: string, fetchImpl: typeof fetch = fetch, timeoutMs = 5_000): Promise<PublicNode[] | undefined> {
  try {
    const res = await fetchImpl(new URL('/v1/nodes', url), { signal: AbortSignal.timeout(timeoutMs) });
    if (!res.ok) return undefined;
    const body: unknown = await res.json();
    return check(PublicNodeList, body) ? body.nodes : undefined;
  } catch {
    return undefined;
  }
}
