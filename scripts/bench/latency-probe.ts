/**
 * The latency phase in a process of its own, driving a few devices while the main
 * driver keeps the other sockets open: the main driver's per-socket work would
 * otherwise show up as latency. Input: a JSON file; output: one JSON line.
 */
import { readFileSync } from 'node:fs';
import type { BenchPeer } from './accounts.js';
import { LoadDriver } from './load.js';
import { makeTarget, type TargetSpec } from './targets.js';

interface ProbeInput {
  target: TargetSpec;
  peers: Array<Omit<BenchPeer, 'accessKey'> & { accessKey: string }>;
  rate: number;
  seconds: number;
  payload: number;
}

const input = JSON.parse(readFileSync(process.argv[2]!, 'utf8')) as ProbeInput;
const peers: BenchPeer[] = input.peers.map((p) => ({ ...p, accessKey: Buffer.from(p.accessKey, 'base64') }));
const driver = new LoadDriver(makeTarget(input.target), peers, input.payload);
await driver.connect(() => {});
await new Promise((r) => setTimeout(r, 1_000));
(globalThis as { gc?: () => void }).gc?.();
const result = await driver.latency(input.rate, input.seconds, 0);
await driver.close();
process.stdout.write(JSON.stringify(result) + '\n');
