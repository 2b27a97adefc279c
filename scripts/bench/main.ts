/**
 * `npm run bench`: kluis's durable delivery against a bare WebSocket relay, same load,
 * same run. Prints figures; asserts nothing but exactly-once delivery.
 */
import type { ChildProcess } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseBenchArgs, type BenchOptions } from './args.js';
import { benchAttachments, reportAttachments } from './attachments.js';
import { registerPeers, type BenchPeer } from './accounts.js';
import { pinning, pinSelf, probeLatency, startKluisServer, startWithUrl, stopChild } from './children.js';
import { LoadDriver, type LatencyResult, type ThroughputResult } from './load.js';
import { cpuSeconds, rssBytes } from './proc-stats.js';
import { makeTarget, type TargetSpec } from './targets.js';
import { benchCluster } from './cluster.js';
import { benchMemberSessions } from './member-sessions.js';
import { benchGroupFanout, type GroupFanoutResult } from './group-fanout.js';
import { reportGroupFanout } from './group-fanout-report.js';
import { benchSeedLoad } from './seed-load.js';
import { reportSeedLoad } from './seed-load-report.js';

/** Devices the latency probe drives; the main driver keeps the rest connected. */
const PROBE_DEVICES = 50;

const log = (s: string) => process.stderr.write(`${s}\n`);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

interface RunResult {
  throughput: ThroughputResult;
  /** The same burst as sealed 1:1 sends over the sealed socket (kluis: the SDK's default path). */
  sealed: ThroughputResult;
  sealedCpuSeconds: number;
  latency: LatencyResult;
  idleRssPerConnection: number;
  rssAfterLoad: number;
  cpuSeconds: number;
}

async function drive(spec: TargetSpec, pid: number, peers: BenchPeer[], opts: BenchOptions, dir: string): Promise<RunResult> {
  const target = makeTarget(spec);
  // The probe's devices stay out of the main driver: a second socket would replace the first.
  const probePeers = peers.slice(0, Math.min(PROBE_DEVICES, Math.floor(peers.length / 2)));
  const mainPeers = peers.slice(probePeers.length);
  const driver = new LoadDriver(target, mainPeers, opts.payload);
  await sleep(500);
  const rssBefore = rssBytes(pid);
  await driver.connect((n) => log(`  ${target.name}: ${n}/${mainPeers.length} sockets connected`));
  await sleep(2_000);
  const idleRssPerConnection = (rssBytes(pid) - rssBefore) / mainPeers.length;
  const cpu0 = cpuSeconds(pid);
  const throughput = await driver.throughput(opts.messages, opts.window, 0, (n) => log(`  ${target.name}: ${n} delivered`));
  const cpu = cpuSeconds(pid) - cpu0;
  await sleep(3_000);
  // Sealed 1:1 sends: each device also holds its sealed socket (no credential on it).
  const sealedTarget = makeTarget({ ...spec, sealed: true });
  const sealedDriver = new LoadDriver(sealedTarget, mainPeers, opts.payload);
  await driver.close();
  await sleep(1_000);
  await sealedDriver.connect((n) => log(`  ${sealedTarget.name}: ${n}/${mainPeers.length} device + sealed sockets connected`));
  await sleep(1_000);
  const sealedCpu0 = cpuSeconds(pid);
  const sealed = await sealedDriver.throughput(opts.messages, opts.window, 0, (n) => log(`  ${sealedTarget.name}: ${n} delivered`));
  const sealedCpuSeconds = cpuSeconds(pid) - sealedCpu0;
  // Let the throughput phase's after-effects (acks in flight, WAL checkpoint, garbage)
  // settle so the latency phase measures a steady rate, not the tail of a burst.
  await sleep(3_000);
  log(`  ${target.name}: latency phase, ${opts.rate} msgs/s for ${opts.rateSeconds} s over ${probePeers.length} devices (other sockets stay connected)`);
  const latency = await probeLatency(spec, probePeers, opts, join(dir, `probe-${spec.kind}.json`));
  const rssAfterLoad = rssBytes(pid);
  await sealedDriver.close();
  return { throughput, sealed, sealedCpuSeconds, latency, idleRssPerConnection, rssAfterLoad, cpuSeconds: cpu };
}

function fmt(n: number, digits = 0): string {
  return n.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: digits });
}

const usPerMessage = (cpu: number, t: ThroughputResult) => (t.delivered > 0 ? (cpu * 1e6) / t.delivered : NaN);
const generator = (load: number) => `${fmt(load * 100, 0)}%${load > 0.9 ? ' (generator-bound)' : ''}`;

function report(opts: BenchOptions, kluis: RunResult, relay: RunResult): void {
  const ratio = kluis.throughput.msgsPerSec / relay.throughput.msgsPerSec;
  const sealedRatio = kluis.sealed.msgsPerSec / relay.sealed.msgsPerSec;
  const rows: Array<[string, string, string]> = [
    ['server CPU µs per delivered message', fmt(usPerMessage(kluis.cpuSeconds, kluis.throughput), 1), fmt(usPerMessage(relay.cpuSeconds, relay.throughput), 1)],
    ['  … sealed 1:1 over the sealed socket', fmt(usPerMessage(kluis.sealedCpuSeconds, kluis.sealed), 1), fmt(usPerMessage(relay.sealedCpuSeconds, relay.sealed), 1)],
    ['delivered msgs/s', fmt(kluis.throughput.msgsPerSec), fmt(relay.throughput.msgsPerSec)],
    ['  … sealed', fmt(kluis.sealed.msgsPerSec), fmt(relay.sealed.msgsPerSec)],
    ['generator CPU (throughput / sealed)', `${generator(kluis.throughput.generatorCpu)} / ${generator(kluis.sealed.generatorCpu)}`, `${generator(relay.throughput.generatorCpu)} / ${generator(relay.sealed.generatorCpu)}`],
    ['delivered / sent', `${kluis.throughput.delivered}/${kluis.throughput.sent}`, `${relay.throughput.delivered}/${relay.throughput.sent}`],
    ['  … sealed', `${kluis.sealed.delivered}/${kluis.sealed.sent}`, `${relay.sealed.delivered}/${relay.sealed.sent}`],
    ['duplicates (identified + sealed)', String(kluis.throughput.duplicates + kluis.sealed.duplicates), String(relay.throughput.duplicates + relay.sealed.duplicates)],
    ['failed sends (identified + sealed)', String(kluis.throughput.failedSends + kluis.sealed.failedSends), String(relay.throughput.failedSends + relay.sealed.failedSends)],
    ['server CPU s (throughput phase)', fmt(kluis.cpuSeconds, 2), fmt(relay.cpuSeconds, 2)],
    [`p50 latency @ ${opts.rate}/s (ms)`, fmt(kluis.latency.p50Ms, 2), fmt(relay.latency.p50Ms, 2)],
    [`p99 latency @ ${opts.rate}/s (ms)`, fmt(kluis.latency.p99Ms, 2), fmt(relay.latency.p99Ms, 2)],
    ['max latency (ms)', fmt(kluis.latency.maxMs, 2), fmt(relay.latency.maxMs, 2)],
    ['probe CPU (latency phase)', generator(kluis.latency.generatorCpu), generator(relay.latency.generatorCpu)],
    ['RSS per idle connection (KB)', fmt(kluis.idleRssPerConnection / 1024, 1), fmt(relay.idleRssPerConnection / 1024, 1)],
    ['server RSS after load (MB)', fmt(kluis.rssAfterLoad / 2 ** 20, 0), fmt(relay.rssAfterLoad / 2 ** 20, 0)],
  ];
  const w0 = Math.max(...rows.map((r) => r[0].length));
  console.log(`\nkluis bench: ${opts.devices} devices, ${opts.messages} × ${opts.payload} B envelopes, window ${opts.window}; ${pinning()}\n`);
  console.log(`${''.padEnd(w0)}  ${'kluis'.padStart(14)}  ${'bare relay'.padStart(14)}`);
  for (const [k, a, b] of rows) console.log(`${k.padEnd(w0)}  ${a.padStart(14)}  ${b.padStart(14)}`);
  const exactlyOnce = [kluis.throughput, kluis.sealed].every((t) => t.duplicates === 0 && t.missing === 0 && t.failedSends === 0);
  console.log(`\ndurable delivery / bare relay: ${(ratio * 100).toFixed(1)}% identified, ${(sealedRatio * 100).toFixed(1)}% sealed (target ≥ 85%)`);
  console.log(`exactly-once: ${exactlyOnce ? 'ok' : 'FAILED'} (${kluis.throughput.delivered} + ${kluis.sealed.delivered} delivered of ${kluis.throughput.sent} + ${kluis.sealed.sent} acknowledged)`);
  if (opts.json) console.log(JSON.stringify({ options: opts, kluis, relay, ratio, sealedRatio }));
  if (!exactlyOnce) process.exitCode = 1;
}

/** The seed-load replay on its own fresh server (only with --seed-load / --seed-only). */
async function seedLoadPhase(opts: BenchOptions): Promise<void> {
  const result = await benchSeedLoad(
    { messages: opts.seedMessages, accounts: opts.seedAccounts, rounds: opts.seedRounds, window: opts.window, payload: opts.payload, timeLimitSeconds: opts.seedTimeLimitSeconds },
    log,
  );
  if (!reportSeedLoad(result)) process.exitCode = 1;
  if (opts.json) console.log(JSON.stringify({ seedLoad: result }));
}

async function main(): Promise<void> {
  const opts = parseBenchArgs(process.argv.slice(2));
  if (!opts) return;
  pinSelf();
  if (opts.memberSessions > 0) return benchMemberSessions(opts.memberSessions, log);
  if (opts.cluster > 0) return benchCluster(opts, opts.cluster);
  if (opts.seedOnly) return seedLoadPhase(opts);
  const dataDir = await mkdtemp(join(tmpdir(), 'kluis-bench-'));
  const children: ChildProcess[] = [];
  try {
    log(`starting kluis server (data in ${dataDir})`);
    const kluis = await startKluisServer(dataDir);
    children.push(kluis.child);
    const token = (await readFile(join(dataDir, 'operator-token'), 'utf8')).trim();
    const attachmentPhase = async (pair: BenchPeer[]) => {
      log(`attachment phase: ${opts.attachments} × ${opts.attachmentMib} MiB`);
      return benchAttachments(kluis.url, kluis.child.pid!, [pair[0]!, pair[1]!], { files: opts.attachments, mib: opts.attachmentMib, dir: dataDir, log });
    };
    if (opts.attachmentsOnly) {
      const attachments = await attachmentPhase(await registerPeers(kluis.url, token, 2, () => {}));
      reportAttachments(attachments);
      if (opts.json) console.log(JSON.stringify({ options: opts, attachments }));
      return;
    }
    const groupPhase = (): Promise<GroupFanoutResult[]> =>
      benchGroupFanout(
        kluis.url,
        token,
        kluis.child.pid!,
        { sizes: opts.groups, messages: opts.groupMessages, window: opts.groupWindow, latencyMessages: opts.groupLatencyMessages, bundleFetches: opts.groupBundleFetches },
        log,
      );
    const reportGroups = (groups: GroupFanoutResult[]) => {
      if (!reportGroupFanout(groups)) process.exitCode = 1;
    };
    if (opts.groupsOnly) {
      const groups = await groupPhase();
      reportGroups(groups);
      if (opts.json) console.log(JSON.stringify({ options: opts, groups }));
      return;
    }
    log(`registering ${opts.devices} devices`);
    const t0 = Date.now();
    const peers = await registerPeers(kluis.url, token, opts.devices, (n) => log(`  ${n}/${opts.devices} registered`));
    log(`  registered in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
    const kluisResult = await drive({ kind: 'kluis', base: kluis.url.replace(/^http/, 'ws') }, kluis.child.pid!, peers, opts, dataDir);
    // After the message load, on the same server and accounts (their sockets are closed by now).
    const attachments = opts.attachments > 0 ? await attachmentPhase(peers) : undefined;
    // Group fan-out last on this server: its own accounts, after the other sockets closed.
    const groups = opts.groups.length > 0 ? await groupPhase() : undefined;
    await stopChild(kluis.child);

    log('starting the bare relay');
    // `--import tsx` keeps the relay in one process, so its pid is the one we measure.
    const relay = await startWithUrl(['--import', 'tsx', 'scripts/bench/bare-relay.ts']);
    children.push(relay.child);
    const relayResult = await drive({ kind: 'relay', base: relay.url.replace(/^http/, 'ws') }, relay.child.pid!, peers, opts, dataDir);
    report(opts, kluisResult, relayResult);
    if (attachments) reportAttachments(attachments);
    if (groups) {
      reportGroups(groups);
      if (opts.json) console.log(JSON.stringify({ groups }));
    }
  } finally {
    for (const c of children) await stopChild(c);
    await rm(dataDir, { recursive: true, force: true });
  }
  // Last, after the other servers stopped: its figures are its own server's alone.
  if (opts.seedLoad) await seedLoadPhase(opts);
}

main().catch((err) => {
  console.error(`bench failed: ${(err as Error).stack ?? err}`);
  process.exitCode = 1;
});
