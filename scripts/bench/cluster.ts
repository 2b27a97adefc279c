/**
 * `npm run bench -- --cluster N`: the single-node bench's load against three setups on
 * this machine, one after the other: the embedded node (SQLite, in-process bus), one
 * node on PostgreSQL, and N nodes on PostgreSQL + a 3-node NATS cluster with the devices
 * spread over the nodes. PostgreSQL and NATS come from the test harness (temp dirs,
 * random loopback ports, torn down at the end).
 */
import type { ChildProcess } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createDatabase } from '../../test/harness/cluster.js';
import { startNatsCluster, type NatsCluster } from '../../test/harness/nats.js';
import { startPostgres, type PostgresServer } from '../../test/harness/postgres.js';
import { freePort } from '../../test/harness/processes.js';
import { registerPeers } from './accounts.js';
import type { BenchOptions } from './args.js';
import { probeLatency, startWithUrl, stopChild as stopProcess } from './children.js';
import { LoadDriver, type LatencyResult, type ThroughputResult } from './load.js';
import { cpuSeconds } from './proc-stats.js';
import { makeTarget, type TargetSpec } from './targets.js';

/** The CLI's server command alone (no client SDK to load): see test/harness/kluis-node.mjs. */
const NODE_BIN = 'test/harness/kluis-node.mjs';
const PROBE_DEVICES = 50;
const log = (s: string) => process.stderr.write(`${s}\n`);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

interface Setup {
  name: string;
  urls: string[];
  pids: number[];
  token: string;
  /** PostgreSQL database the nodes use: its backends' CPU is measured too. */
  database?: string;
}

interface SetupResult {
  name: string;
  nodes: number;
  throughput: ThroughputResult;
  latency: LatencyResult;
  nodeCpuSeconds: number;
  /** CPU of the PostgreSQL backends serving this setup's database (undefined for SQLite). */
  pgCpuSeconds?: number;
}

/** CPU seconds of the PostgreSQL backends connected to `database` ("postgres: user db host" in their cmdline). */
function pgBackendCpu(database: string): number {
  let total = 0;
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const cmd = readFileSync(`/proc/${entry}/cmdline`, 'utf8');
      if (cmd.startsWith('postgres: ') && cmd.split(' ').includes(database)) total += cpuSeconds(Number(entry));
    } catch {
      // Gone meanwhile.
    }
  }
  return total;
}

async function startNode(dataDir: string, env: NodeJS.ProcessEnv): Promise<{ child: ChildProcess; url: string }> {
  const port = await freePort();
  return startWithUrl([...NODE_FLAGS, NODE_BIN, 'server', '--data', dataDir, '--port', String(port), '--host', '127.0.0.1', '--rate-limits', 'off'], env, 'kluis node');
}

const stopChild = (child: ChildProcess) => stopProcess(child, 15_000);

/** Registers through the first node, then drives the same load as the single-node bench, devices spread over the nodes. */
async function drive(setup: Setup, opts: BenchOptions, dir: string): Promise<SetupResult> {
  log(`${setup.name}: registering ${opts.devices} devices`);
  const peers = await registerPeers(setup.urls[0]!, setup.token, opts.devices, (n) => log(`  ${n}/${opts.devices} registered`));
  const spec: TargetSpec = { kind: 'kluis', base: setup.urls[0]!.replace(/^http/, 'ws'), bases: setup.urls.map((u) => u.replace(/^http/, 'ws')) };
  const probePeers = peers.slice(0, Math.min(PROBE_DEVICES, Math.floor(peers.length / 2)));
  const driver = new LoadDriver(makeTarget(spec), peers.slice(probePeers.length), opts.payload);
  await driver.connect((n) => log(`  ${setup.name}: ${n} sockets connected`));
  await sleep(1_000);
  const cpu0 = setup.pids.reduce((a, p) => a + cpuSeconds(p), 0);
  const pg0 = setup.database ? pgBackendCpu(setup.database) : 0;
  const throughput = await driver.throughput(opts.messages, opts.window, 0, (n) => log(`  ${setup.name}: ${n} delivered`));
  const nodeCpuSeconds = setup.pids.reduce((a, p) => a + cpuSeconds(p), 0) - cpu0;
  const pgCpuSeconds = setup.database ? pgBackendCpu(setup.database) - pg0 : undefined;
  await sleep(2_000);
  log(`  ${setup.name}: latency phase, ${opts.rate} msgs/s for ${opts.rateSeconds} s`);
  const latency = await probeLatency(spec, probePeers, opts, join(dir, `probe-${Date.now()}.json`));
  await driver.close();
  return { name: setup.name, nodes: setup.urls.length, throughput, latency, nodeCpuSeconds, ...(pgCpuSeconds !== undefined && { pgCpuSeconds }) };
}

/** KLUIS_BENCH_CPU_PROF=DIR: every node writes a V8 CPU profile there when it exits (after its SIGTERM drain). */
const PROFILE_DIR = process.env.KLUIS_BENCH_CPU_PROF;
const NODE_ENV = (extra: NodeJS.ProcessEnv): NodeJS.ProcessEnv => ({ KLUIS_HEARTBEAT_SECONDS: '5', ...extra });
/** Not allowed in NODE_OPTIONS: given on the command line. */
const NODE_FLAGS = PROFILE_DIR ? ['--cpu-prof', `--cpu-prof-dir=${PROFILE_DIR}`] : [];

export async function benchCluster(opts: BenchOptions, nodes: number): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), 'kluis-bench-cluster-'));
  const children: ChildProcess[] = [];
  let pg: PostgresServer | undefined;
  let nats: NatsCluster | undefined;
  const results: SetupResult[] = [];
  try {
    // 1. Embedded: SQLite, in-process bus.
    {
      const dataDir = await mkdtemp(join(dir, 'sqlite-'));
      const n = await startNode(dataDir, NODE_ENV({}));
      children.push(n.child);
      const token = (await readFile(join(dataDir, 'operator-token'), 'utf8')).trim();
      results.push(await drive({ name: 'embedded (SQLite)', urls: [n.url], pids: [n.child.pid!], token }, opts, dir));
      await stopChild(n.child);
    }
    log('starting PostgreSQL');
    pg = await startPostgres();
    // 2. One node on PostgreSQL (in-process bus: nothing else to wake).
    {
      const database = await createDatabase(pg.url, 'bench_single');
      const dataDir = await mkdtemp(join(dir, 'pg1-'));
      const n = await startNode(dataDir, NODE_ENV({ KLUIS_DATABASE: database, KLUIS_NODE_NAME: 'single' }));
      children.push(n.child);
      const token = (await readFile(join(dataDir, 'operator-token'), 'utf8')).trim();
      results.push(await drive({ name: '1 node (PostgreSQL)', urls: [n.url], pids: [n.child.pid!], token, database: 'bench_single' }, opts, dir));
      await stopChild(n.child);
    }
    // 3. N nodes on PostgreSQL + NATS.
    {
      log('starting a 3-node NATS cluster');
      nats = await startNatsCluster({ size: 3 });
      const database = await createDatabase(pg.url, 'bench_cluster');
      const dataDir = await mkdtemp(join(dir, 'cluster-'));
      const started: Array<{ child: ChildProcess; url: string }> = [];
      for (let i = 0; i < nodes; i++) {
        const own = nats.nodes[i % 3]!;
        const bus = [own.url, ...nats.nodes.filter((x) => x !== own).map((x) => x.url)].join(',');
        const n = await startNode(dataDir, NODE_ENV({ KLUIS_DATABASE: database, KLUIS_BUS: bus, KLUIS_NODE_NAME: `node-${i + 1}`, KLUIS_REGION: `r${i + 1}` }));
        children.push(n.child);
        started.push(n);
      }
      const token = (await readFile(join(dataDir, 'operator-token'), 'utf8')).trim();
      results.push(
        await drive({ name: `${nodes} nodes (PostgreSQL + NATS)`, urls: started.map((n) => n.url), pids: started.map((n) => n.child.pid!), token, database: 'bench_cluster' }, opts, dir),
      );
      for (const n of started) await stopChild(n.child);
    }
    report(opts, results);
  } finally {
    for (const c of children) await stopChild(c);
    await nats?.stop();
    await pg?.stop();
    await rm(dir, { recursive: true, force: true });
  }
}

function report(opts: BenchOptions, results: SetupResult[]): void {
  const fmt = (n: number, d = 0) => n.toLocaleString('en-US', { maximumFractionDigits: d, minimumFractionDigits: d });
  const base = results[0]!.throughput.msgsPerSec;
  const rows: Array<[string, (r: SetupResult) => string]> = [
    ['delivered msgs/s', (r) => fmt(r.throughput.msgsPerSec)],
    ['vs embedded', (r) => `${((r.throughput.msgsPerSec / base) * 100).toFixed(0)}%`],
    ['delivered / sent', (r) => `${r.throughput.delivered}/${r.throughput.sent}`],
    ['duplicates', (r) => String(r.throughput.duplicates)],
    ['failed sends', (r) => String(r.throughput.failedSends)],
    ['kluis CPU s (all nodes)', (r) => fmt(r.nodeCpuSeconds, 1)],
    ['kluis CPU µs per message', (r) => fmt((r.nodeCpuSeconds / Math.max(1, r.throughput.delivered)) * 1e6)],
    ['PostgreSQL CPU s (backends)', (r) => (r.pgCpuSeconds === undefined ? '-' : fmt(r.pgCpuSeconds, 1))],
    ['PostgreSQL CPU µs per message', (r) => (r.pgCpuSeconds === undefined ? '-' : fmt((r.pgCpuSeconds / Math.max(1, r.throughput.delivered)) * 1e6))],
    [`p50 latency @ ${opts.rate}/s (ms)`, (r) => fmt(r.latency.p50Ms, 2)],
    [`p99 latency @ ${opts.rate}/s (ms)`, (r) => fmt(r.latency.p99Ms, 2)],
    ['max latency (ms)', (r) => fmt(r.latency.maxMs, 2)],
  ];
  const w0 = Math.max(...rows.map((r) => r[0].length));
  const w = Math.max(...results.map((r) => r.name.length)) + 2;
  console.log(`\nkluis cluster bench: ${opts.devices} devices, ${opts.messages} × ${opts.payload} B envelopes, window ${opts.window}, on one machine\n`);
  console.log(`${''.padEnd(w0)}${results.map((r) => r.name.padStart(w)).join('')}`);
  for (const [k, f] of rows) console.log(`${k.padEnd(w0)}${results.map((r) => f(r).padStart(w)).join('')}`);
  const ok = results.every((r) => r.throughput.duplicates === 0 && r.throughput.missing === 0 && r.throughput.failedSends === 0);
  console.log(`\nexactly-once: ${ok ? 'ok' : 'FAILED'} in every setup`);
  if (opts.json) console.log(JSON.stringify({ options: opts, results }));
  if (!ok) process.exitCode = 1;
}
