/** The table `npm run bench -- --groups …` prints for the group fan-out phase (group-fanout.ts). */
import { availableParallelism, loadavg } from 'node:os';
import { GROUP_TEXT_BYTES, type GroupFanoutResult } from './group-fanout.js';

function fmt(n: number, digits = 0): string {
  return Number.isFinite(n) ? n.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: digits }) : '–';
}

export function reportGroupFanout(results: GroupFanoutResult[]): boolean {
  if (results.length === 0) return true;
  const r0 = results[0]!;
  const rows: Array<[string, ...string[]]> = [
    ['receiving devices (members − sender)', ...results.map((r) => fmt(r.receivers))],
    [`first send: bundles + sessions, ${r0.bundleFetches} at a time (ms)`, ...results.map((r) => fmt(r.firstSend.bundlesMs, 1))],
    ['first send: distribution encrypt (ms)', ...results.map((r) => fmt(r.firstSend.distributionEncryptMs, 1))],
    ['first send: distribution upload (ms)', ...results.map((r) => fmt(r.firstSend.distributionUploadMs, 1))],
    ['first send: distribution request (KB)', ...results.map((r) => fmt(r.firstSend.distributionBytes / 1024, 0))],
    ['first send: until sender got 200 (ms)', ...results.map((r) => fmt(r.firstSend.sentMs, 1))],
    ['first send: until all decrypted (ms)', ...results.map((r) => fmt(r.firstSend.allDecryptedMs, 1))],
    ['throughput phase: messages × members', ...results.map((r) => `${r.throughput.messages} × ${r.receivers}`)],
    [`envelopes delivered/s (window ${r0.throughput.window})`, ...results.map((r) => fmt(r.throughput.envelopesPerSec))],
    ['group messages/s', ...results.map((r) => fmt(r.throughput.messagesPerSec, 1))],
    ['delivered / expected', ...results.map((r) => `${r.throughput.delivered}/${r.throughput.expected}`)],
    ['p50 / p99 e2e in that burst (ms)', ...results.map((r) => `${fmt(r.throughput.p50Ms, 0)} / ${fmt(r.throughput.p99Ms, 0)}`)],
    ['server CPU per envelope (µs)', ...results.map((r) => fmt((r.throughput.serverCpuSeconds / r.throughput.delivered) * 1e6, 0))],
    ['CPU s: server / members / sender', ...results.map((r) => `${fmt(r.throughput.serverCpuSeconds, 1)}/${fmt(r.throughput.receiversCpuSeconds, 1)}/${fmt(r.throughput.senderCpuSeconds, 1)}`)],
    [`p50 e2e, 1 msg at a time (ms)`, ...results.map((r) => fmt(r.latency.p50Ms, 2))],
    [`p99 e2e, 1 msg at a time (ms)`, ...results.map((r) => fmt(r.latency.p99Ms, 2))],
    ['max e2e (ms)', ...results.map((r) => fmt(r.latency.maxMs, 2))],
    ['p50 / p99 until whole group (ms)', ...results.map((r) => `${fmt(r.latency.wholeGroupP50Ms, 1)} / ${fmt(r.latency.wholeGroupP99Ms, 1)}`)],
    ['p50 / p99 per device (ms) †', ...results.map((r) => `${fmt(r.latency.ownDeviceP50Ms, 2)} / ${fmt(r.latency.ownDeviceP99Ms, 2)}`)],
    ['groupEncrypt, median (µs, sender) ‡', ...results.map((r) => fmt(r.crypto.groupEncryptUs, 0))],
    ['groupDecrypt + decode, median (µs) ‡', ...results.map((r) => fmt(r.crypto.groupDecryptUs, 0))],
    ['SenderKey / distribution msg (B)', ...results.map((r) => `${r.crypto.ciphertextBytes} / ${r.crypto.distributionMessageBytes}`)],
  ];
  const w0 = Math.max(...rows.map((r) => r[0].length));
  const w = 16;
  console.log(`\ngroup fan-out: one sender, sender keys (one groupEncrypt and one PUT /v1/messages per message, fanned out by the server), ${GROUP_TEXT_BYTES} B texts`);
  console.log(`load average at the end: ${loadavg().map((x) => x.toFixed(2)).join(' ')} on ${availableParallelism()} cores`);
  console.log(`${''.padEnd(w0)}  ${results.map((r) => `${r.members} members`.padStart(w)).join('  ')}`);
  for (const [k, ...v] of rows) console.log(`${k.padEnd(w0)}  ${v.map((x) => x.padStart(w)).join('  ')}`);
  console.log(`e2e: from the sender's groupEncrypt to the member's groupDecrypt + decode, every member device in one process (one thread).`);
  console.log(`† arrival at that device's socket + its own decrypt: what a member on a phone of its own would see.`);
  console.log(`‡ wall time on that event loop during the one-at-a-time phase (encodeContent included on the sender).`);
  let ok = true;
  for (const r of results) {
    const e = r.exactlyOnce;
    const good = e.received === e.expected && e.duplicates === 0 && e.errors === 0 && r.throughput.failedSends === 0 && r.firstSend.ok;
    ok &&= good;
    console.log(`exactly-once, ${r.members} members: ${good ? 'ok' : 'FAILED'} (${e.sent} sent × ${r.receivers} members = ${e.expected}; received once ${e.received}, duplicates ${e.duplicates}, errors ${e.errors})`);
    for (const err of e.firstErrors) console.log(`  ${err}`);
  }
  return ok;
}
