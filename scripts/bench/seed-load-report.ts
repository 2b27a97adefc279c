/** What `npm run bench -- --seed-load` prints for the replay (seed-load.ts). */
import { pinning } from './children.js';
import type { SeedLoadResult } from './seed-load.js';

/** The reference service's volume should replay within this. */
const TARGET_SECONDS = 120;

function fmt(n: number, digits = 0): string {
  return Number.isFinite(n) ? n.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: digits }) : '–';
}

const mib = (bytes: number) => `${fmt(bytes / 2 ** 20, 0)} MiB`;

/** Prints the figures; true when delivery was exactly once and complete. */
export function reportSeedLoad(r: SeedLoadResult): boolean {
  const o = r.options;
  const exactlyOnce = r.stopped === undefined && r.sent === o.messages && r.received === r.sent && r.duplicates === 0 && r.missing === 0 && r.misrouted === 0;
  const rows: Array<[string, string]> = [
    ['wall time of the replay', `${fmt(r.wallSeconds, 1)} s (target < ${TARGET_SECONDS} s: ${r.wallSeconds < TARGET_SECONDS && !r.stopped ? 'met' : 'missed'})`],
    ['delivered msgs/s', fmt(r.msgsPerSec)],
    ['server CPU µs per delivered message', `${fmt(r.serverCpuUsPerMessage, 1)} (${fmt(r.serverCpuSeconds, 1)} s)`],
    ['generator CPU', `${fmt(r.generatorCpu * 100)}%${r.generatorCpu > 0.9 ? ' (generator-bound)' : ''}`],
    ['peak server RSS', mib(r.peakServerRss)],
    ['database file at the end (+ WAL)', `${mib(r.databaseBytes)} (+ ${mib(r.walBytes)})`],
    ['sent (answered 200)', fmt(r.sent)],
    ['  … queued for an offline account', `${fmt(r.queued)} (${fmt((r.queued / Math.max(1, r.sent)) * 100, 1)}%)`],
    ['received', fmt(r.received)],
    ['duplicates', fmt(r.duplicates)],
    ['missing', fmt(r.missing)],
    ['failed sends / misrouted / dropped sockets', `${fmt(r.failedSends)} / ${fmt(r.misrouted)} / ${fmt(r.droppedSockets)}`],
    ['registration (before the clock)', `${fmt(r.registerSeconds, 1)} s`],
  ];
  for (const p of r.phases) rows.push([`  ${p.label}`, `${fmt(p.sent)} sent, ${fmt(p.delivered)} delivered, ${fmt(p.seconds, 1)} s`]);
  const w0 = Math.max(...rows.map((x) => x[0].length));
  console.log(`\nseed load: ${fmt(o.messages)} × ${o.payload} B among ${fmt(o.accounts)} accounts (one device each), half offline at any time, ${o.rounds} rounds + a final drain, window ${o.window}; ${pinning()}\n`);
  for (const [k, v] of rows) console.log(`${k.padEnd(w0)}  ${v}`);
  if (r.stopped) console.log(`\nstopped early (${r.stopped}, limit ${o.timeLimitSeconds} s): the figures cover what was done by then`);
  console.log(`exactly-once: ${exactlyOnce ? 'ok' : 'FAILED'} (sent ${r.sent} of ${o.messages}, received ${r.received}, ${r.duplicates} duplicates, ${r.missing} missing)`);
  return exactlyOnce;
}
