/** Child processes of the bench: servers and relays that print `url: …` once they listen, and the latency probe. */
import { spawn, spawnSync, type ChildProcess, type SpawnOptions } from 'node:child_process';
import { availableParallelism } from 'node:os';
import { writeFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import type { BenchPeer } from './accounts.js';
import type { BenchOptions } from './args.js';
import type { LatencyResult } from './load.js';
import type { TargetSpec } from './targets.js';

export const ROOT = fileURLToPath(new URL('../../', import.meta.url));

/*
 * Pinning: the server (or relay) gets one core, the load generator and its latency probe
 * the other, so a figure never hides a server starved by its own load (or the reverse).
 * taskset execs node, so the child's pid is the measured process. Without taskset (or
 * on one core) nothing is pinned and the report says so.
 */
const CORES = availableParallelism();
const HAVE_TASKSET = CORES >= 2 && spawnSync('taskset', ['-V']).status === 0;
export const SERVER_CPU = 0;
export const GENERATOR_CPU = 1;

export function pinning(): string {
  return HAVE_TASKSET ? `server on CPU ${SERVER_CPU}, load generator on CPU ${GENERATOR_CPU} (taskset)` : 'not pinned (no taskset or one core)';
}

/** Pins this process (the load generator) to its core. */
export function pinSelf(): void {
  if (HAVE_TASKSET) spawnSync('taskset', ['-a', '-p', '-c', String(GENERATOR_CPU), String(process.pid)], { stdio: 'ignore' });
}

function spawnPinned(cpu: number, args: string[], options: SpawnOptions): ChildProcess {
  return HAVE_TASKSET ? spawn('taskset', ['-c', String(cpu), process.execPath, ...args], options) : spawn(process.execPath, args, options);
}
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Spawns `node args…` in the repo root and resolves with the URL it prints on stdout (`url: …`). */
export async function startWithUrl(args: string[], env: NodeJS.ProcessEnv = {}, name = args.join(' ')): Promise<{ child: ChildProcess; url: string }> {
  const child = spawnPinned(SERVER_CPU, args, { cwd: ROOT, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'inherit'] });
  const url = await new Promise<string>((resolve, reject) => {
    let out = '';
    child.stdout!.setEncoding('utf8').on('data', (d: string) => {
      out += d;
      const m = /^url: (\S+)$/m.exec(out);
      if (m) resolve(m[1]!);
    });
    child.once('exit', (code) => reject(new Error(`${name} exited with ${code}`)));
  });
  return { child, url };
}

/**
 * A single-node kluis server on a fresh data directory, rate limits off, pinned like every
 * server here. KLUIS_BENCH_CPU_PROF=DIR: it writes a V8 CPU profile there when it exits.
 */
export function startKluisServer(dataDir: string): Promise<{ child: ChildProcess; url: string }> {
  const dir = process.env.KLUIS_BENCH_CPU_PROF;
  const profile = dir ? ['--cpu-prof', `--cpu-prof-dir=${dir}`] : [];
  return startWithUrl([...profile, 'packages/cli/bin/kluis.js', 'server', '--data', dataDir, '--port', '0', '--rate-limits', 'off']);
}

/** SIGTERM, then SIGKILL if it has not exited after `graceMs`. */
export async function stopChild(child: ChildProcess, graceMs = 10_000): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((r) => child.once('exit', r));
  child.kill('SIGTERM');
  await Promise.race([exited, sleep(graceMs).then(() => child.kill('SIGKILL'))]);
}

/** Runs scripts/bench/latency-probe.ts in its own process against `spec` (its job written to `file`); returns what it measured. */
export async function probeLatency(spec: TargetSpec, peers: BenchPeer[], opts: BenchOptions, file: string): Promise<LatencyResult> {
  const wirePeers = peers.map((p) => ({ ...p, accessKey: Buffer.from(p.accessKey).toString('base64') }));
  await writeFile(file, JSON.stringify({ target: spec, peers: wirePeers, rate: opts.rate, seconds: opts.rateSeconds, payload: opts.payload }));
  const child = spawnPinned(GENERATOR_CPU, ['--expose-gc', '--import', 'tsx', 'scripts/bench/latency-probe.ts', file], { cwd: ROOT, stdio: ['ignore', 'pipe', 'inherit'] });
  let out = '';
  child.stdout!.setEncoding('utf8').on('data', (d: string) => (out += d));
  const code = await new Promise<number | null>((r) => child.once('exit', r));
  if (code !== 0) throw new Error(`latency probe exited with ${code}`);
  return JSON.parse(out.trim().split('\n').pop()!) as LatencyResult;
}
