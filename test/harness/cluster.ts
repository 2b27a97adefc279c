import pg from 'pg';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Routes, routeParts, type CreateInvitesResponse } from '@kluis/protocol';
import type { Harness } from './harness.js';
import { startNatsCluster, type NatsCluster } from './nats.js';
import { fileURLToPath } from 'node:url';
import { freePort, type CliProcess } from './processes.js';

/** The CLI's server command alone (see kluis-node.mjs). */
export const KLUIS_NODE_BIN = fileURLToPath(new URL('./kluis-node.mjs', import.meta.url));

/**
 * N `kluis server` processes sharing one PostgreSQL database and a 3-node NATS cluster,
 * each on a fixed loopback port so it can be SIGKILLed or SIGTERMed and started again
 * where clients expect it. Used by the chaos, drain and failover tests and the bench.
 */
export interface ClusterNode {
  readonly name: string;
  readonly region: string;
  readonly port: number;
  readonly url: string;
  /** The running process, undefined while stopped. */
  readonly process: CliProcess | undefined;
  readonly running: boolean;
  /** Started and listening (false from stop() until start() resolves). */
  readonly listening: boolean;
  /** Sends `signal` and waits for the exit (SIGKILL: at once; SIGTERM: after the drain). */
  stop(signal?: NodeJS.Signals, timeoutMs?: number): Promise<{ code: number | null; signal: NodeJS.Signals | null; stderr: string }>;
  /** Starts it again on the same port and waits until it listens. */
  start(): Promise<void>;
}

export interface Cluster {
  nodes: ClusterNode[];
  nats: NatsCluster;
  databaseUrl: string;
  operatorToken: string;
  /** Any running node's URL (for setup calls). */
  anyUrl(): string;
  mintInvites(count: number): Promise<string[]>;
  stop(): Promise<void>;
}

export interface ClusterOptions {
  /** A PostgreSQL URL whose server may create databases (the global setup's). */
  postgresUrl: string;
  /** Name of the database created for this cluster. */
  database: string;
  nodes?: number;
  regions?: string[];
  heartbeatSeconds?: number;
  drainTimeoutSeconds?: number;
  env?: NodeJS.ProcessEnv;
}

/** Creates `database` on the server behind `adminUrl` and returns its URL. */
export async function createDatabase(adminUrl: string, database: string): Promise<string> {
  const admin = new pg.Client({ connectionString: adminUrl });
  await admin.connect();
  try {
    await admin.query(`create database ${database}`);
  } finally {
    await admin.end();
  }
  const url = new URL(adminUrl);
  url.pathname = `/${database}`;
  return url.toString();
}

export async function startCluster(h: Harness, opts: ClusterOptions): Promise<Cluster> {
  const count = opts.nodes ?? 3;
  const regions = opts.regions ?? ['eu-nl', 'eu-de', 'eu-fr'];
  const databaseUrl = await createDatabase(opts.postgresUrl, opts.database);
  const nats = await startNatsCluster({ size: 3 });
  // One data dir for all: in cluster mode it holds only the operator-token file of the first start.
  const dataDir = await h.tempDir('cluster');
  const nodes: ManagedKluisNode[] = [];
  try {
    for (let i = 0; i < count; i++) {
      // Each node lists its "own" NATS server first, as a real deployment would.
      const bus = [nats.nodes[i % 3]!.url, ...nats.nodes.filter((_, j) => j !== i % 3).map((n) => n.url)].join(',');
      const env: NodeJS.ProcessEnv = {
        KLUIS_DATABASE: databaseUrl,
        KLUIS_BUS: bus,
        KLUIS_NODE_NAME: `node-${i + 1}`,
        KLUIS_REGION: regions[i % regions.length],
        KLUIS_ARGON2_MEMORY_KIB: '64',
        KLUIS_ARGON2_ITERATIONS: '1',
        KLUIS_HEARTBEAT_SECONDS: String(opts.heartbeatSeconds ?? 1),
        KLUIS_DRAIN_TIMEOUT_SECONDS: String(opts.drainTimeoutSeconds ?? 10),
        ...opts.env,
      };
      nodes.push(new ManagedKluisNode(h, `node-${i + 1}`, regions[i % regions.length]!, await freePort(), dataDir, env));
    }
    // The first alone, so exactly one first start writes the token file the others read.
    await nodes[0]!.start();
    await Promise.all(nodes.slice(1).map((n) => n.start()));
  } catch (err) {
    await Promise.all(nodes.map((n) => n.stop('SIGKILL').catch(() => {})));
    await nats.stop();
    throw err;
  }
  const operatorToken = (await readFile(join(dataDir, 'operator-token'), 'utf8')).trim();
  const anyUrl = () => (nodes.find((n) => n.running) ?? nodes[0]!).url;
  return {
    nodes,
    nats,
    databaseUrl,
    operatorToken,
    anyUrl,
    async mintInvites(n) {
      const { method, path } = routeParts(Routes.createInvites);
      const res = await fetch(new URL(path, anyUrl()), {
        method,
        headers: { authorization: `Bearer ${operatorToken}`, 'content-type': 'application/json' },
        body: JSON.stringify({ count: n }),
      });
      if (!res.ok) throw new Error(`minting invites failed: ${res.status} ${await res.text()}`);
      return ((await res.json()) as CreateInvitesResponse).codes;
    },
    async stop() {
      await Promise.all(nodes.map((n) => n.stop('SIGKILL').catch(() => {})));
      await nats.stop();
    },
  };
}

class ManagedKluisNode implements ClusterNode {
  private proc: CliProcess | undefined;
  listening = false;

  constructor(
    private readonly h: Harness,
    readonly name: string,
    readonly region: string,
    readonly port: number,
    private readonly dataDir: string,
    private readonly env: NodeJS.ProcessEnv,
  ) {}

  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  get process(): CliProcess | undefined {
    return this.proc;
  }

  get running(): boolean {
    const c = this.proc?.child;
    return !!c && c.exitCode === null && c.signalCode === null;
  }

  async start(): Promise<void> {
    if (this.running) return;
    // spawnCli registers a SIGKILL for dispose(): nothing outlives the test file.
    this.proc = this.h.spawnCli(['server', '--data', this.dataDir, '--port', String(this.port), '--host', '127.0.0.1'], this.env, undefined, KLUIS_NODE_BIN);
    await this.proc.waitFor(/^url: (\S+)$/m, 60_000);
    this.listening = true;
  }

  async stop(signal: NodeJS.Signals = 'SIGKILL', timeoutMs = 30_000) {
    const proc = this.proc;
    this.listening = false;
    if (!proc) return { code: null, signal: null, stderr: '' };
    proc.kill(signal);
    const r = await proc.wait(timeoutMs);
    return { code: r.code, signal: r.signal, stderr: r.stderr };
  }
}
