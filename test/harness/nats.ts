import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from './processes.js';

export const NATS_SERVER_BIN = process.env.KLUIS_NATS_SERVER_BIN ?? 'nats-server';

export interface NatsNode {
  name: string;
  /** Client URL, nats://127.0.0.1:PORT. */
  url: string;
  clientPort: number;
  monitorPort: number;
  clusterPort: number;
  readonly pid: number | undefined;
  /** Kills the process (SIGKILL by default, for chaos tests) and waits for it to exit. */
  kill(signal?: NodeJS.Signals): Promise<void>;
  /** Starts it again on the same ports and waits until it rejoined the cluster. */
  restart(): Promise<void>;
}

export interface NatsCluster {
  nodes: NatsNode[];
  /** Every client URL, comma-separated: the form `--bus` takes. */
  url: string;
  stop(): Promise<void>;
}

/** Children still running, killed synchronously if the test process exits without teardown. */
const live = new Set<ChildProcess>();
let exitHookInstalled = false;

/**
 * A NATS cluster of `size` nodes on random loopback ports (client, cluster and
 * monitoring port each), fully meshed by explicit routes. Ready means every node's
 * /healthz answers ok and /routez shows routes to all the others, so a publish on
 * one node reaches subscribers on any other.
 */
export async function startNatsCluster(opts: { size?: number } = {}): Promise<NatsCluster> {
  const size = opts.size ?? 3;
  if (!exitHookInstalled) {
    exitHookInstalled = true;
    process.once('exit', () => {
      for (const child of live) child.kill('SIGKILL');
    });
  }
  const dir = await mkdtemp(join(tmpdir(), 'kluis-nats-'));
  const specs: Array<{ name: string; clientPort: number; monitorPort: number; clusterPort: number }> = [];
  for (let i = 0; i < size; i++) {
    specs.push({ name: `nats-${i + 1}`, clientPort: await freePort(), monitorPort: await freePort(), clusterPort: await freePort() });
  }
  const nodes: ManagedNode[] = [];
  try {
    for (const spec of specs) {
      const routes = specs.filter((s) => s !== spec).map((s) => `nats-route://127.0.0.1:${s.clusterPort}`);
      const config = join(dir, `${spec.name}.conf`);
      await writeFile(
        config,
        [
          `server_name: ${spec.name}`,
          `listen: 127.0.0.1:${spec.clientPort}`,
          `http: 127.0.0.1:${spec.monitorPort}`,
          `cluster {`,
          `  name: kluis-test`,
          `  listen: 127.0.0.1:${spec.clusterPort}`,
          `  routes: [${routes.join(', ')}]`,
          `}`,
        ].join('\n') + '\n',
      );
      nodes.push(new ManagedNode(spec, config, join(dir, `${spec.name}.log`)));
    }
    for (const node of nodes) node.spawn();
    await Promise.all(nodes.map((n) => n.waitReady(size - 1)));
  } catch (err) {
    await Promise.all(nodes.map((n) => n.kill('SIGKILL')));
    await rm(dir, { recursive: true, force: true });
    throw err;
  }
  let stopping: Promise<void> | undefined;
  return {
    nodes,
    url: nodes.map((n) => n.url).join(','),
    stop: () =>
      (stopping ??= (async () => {
        // SIGKILL: nats-server takes 1–2 s to exit on SIGTERM and a test cluster has nothing to flush.
        await Promise.all(nodes.map((n) => n.kill('SIGKILL')));
        if (!process.env.KLUIS_KEEP_TEST_DIRS) await rm(dir, { recursive: true, force: true });
      })()),
  };
}

class ManagedNode implements NatsNode {
  readonly name: string;
  readonly clientPort: number;
  readonly monitorPort: number;
  readonly clusterPort: number;
  readonly url: string;
  private child?: ChildProcess;
  private exited?: Promise<void>;
  private output = '';

  constructor(
    spec: { name: string; clientPort: number; monitorPort: number; clusterPort: number },
    private readonly config: string,
    private readonly logFile: string,
  ) {
    this.name = spec.name;
    this.clientPort = spec.clientPort;
    this.monitorPort = spec.monitorPort;
    this.clusterPort = spec.clusterPort;
    this.url = `nats://127.0.0.1:${spec.clientPort}`;
  }

  get pid(): number | undefined {
    return this.child?.pid;
  }

  spawn(): void {
    this.output = '';
    const child = spawn(NATS_SERVER_BIN, ['-c', this.config, '-l', this.logFile], { stdio: ['ignore', 'pipe', 'pipe'] });
    child.stdout!.setEncoding('utf8').on('data', (d: string) => (this.output += d));
    child.stderr!.setEncoding('utf8').on('data', (d: string) => (this.output += d));
    live.add(child);
    this.exited = new Promise((resolve) => child.once('exit', () => resolve()));
    void this.exited.then(() => live.delete(child));
    this.child = child;
  }

  /** Polls the monitoring port until the node is healthy and routed to `peers` others. */
  async waitReady(peers: number, timeoutMs = 15_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    let last = '';
    for (;;) {
      const child = this.child!;
      if (child.exitCode !== null || child.signalCode !== null) throw new Error(`${this.name} exited: ${this.output}`);
      try {
        const health = await fetch(`http://127.0.0.1:${this.monitorPort}/healthz`);
        if (health.ok) {
          const routez = (await (await fetch(`http://127.0.0.1:${this.monitorPort}/routez`)).json()) as { num_routes: number };
          if (routez.num_routes >= peers) return;
          last = `${routez.num_routes} of ${peers} routes`;
        } else last = `healthz ${health.status}`;
      } catch (err) {
        last = (err as Error).message;
      }
      if (Date.now() > deadline) throw new Error(`${this.name} not ready after ${timeoutMs} ms (${last}): ${this.output}`);
      await new Promise((r) => setTimeout(r, 25));
    }
  }

  async kill(signal: NodeJS.Signals = 'SIGKILL'): Promise<void> {
    const child = this.child;
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    child.kill(signal);
    const timer = setTimeout(() => child.kill('SIGKILL'), 5_000);
    await this.exited;
    clearTimeout(timer);
  }

  async restart(): Promise<void> {
    await this.kill();
    this.spawn();
    // Routes are re-solicited by whichever side retries first; one is enough to be reachable.
    await this.waitReady(1);
  }
}
