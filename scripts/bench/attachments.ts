/**
 * The attachment phase of `npm run bench -- --attachments N`: N files of M MiB each,
 * uploaded by one device and downloaded by another through the real server, one at a
 * time, with the SDK's streaming encryption and decryption. Prints MiB/s of file data.
 */
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { downloadAttachment, uploadAttachment } from '@kluis/sdk';
import { HttpApi } from '@kluis/sdk/testing';
import { sha256File, writeRandomFile } from '../../test/harness/random-file.js';
import type { BenchPeer } from './accounts.js';
import { cpuSeconds, rssBytes } from './proc-stats.js';

const MIB = 1024 * 1024;

export interface AttachmentBenchResult {
  files: number;
  mibEach: number;
  /** File MiB per second, encryption included (client side). */
  uploadMiBps: number;
  /** File MiB per second, verification and decryption included. */
  downloadMiBps: number;
  serverCpuSeconds: number;
  serverRssStart: number;
  serverRssPeak: number;
}

/** The bench registers peers with a Basic header; HttpApi wants the parts back. */
function apiFor(url: string, peer: BenchPeer): HttpApi {
  const [user, password] = Buffer.from(peer.authorization.replace(/^Basic /, ''), 'base64').toString('utf8').split(/:(.*)/s) as [string, string];
  const [accountId, deviceId] = user.split('.') as [string, string];
  return new HttpApi(url, () => ({ accountId, deviceId: Number(deviceId), password }));
}

export async function benchAttachments(
  url: string,
  pid: number,
  peers: [BenchPeer, BenchPeer],
  opts: { files: number; mib: number; dir: string; log: (s: string) => void },
): Promise<AttachmentBenchResult> {
  const sender = apiFor(url, peers[0]);
  const receiver = apiFor(url, peers[1]);
  const size = opts.mib * MIB;
  const src = join(opts.dir, 'attachment-src.bin');
  const dest = join(opts.dir, 'attachment-dest.bin');
  const sha = await writeRandomFile(src, size);
  const rssStart = rssBytes(pid);
  let rssPeak = rssStart;
  const sampler = setInterval(() => (rssPeak = Math.max(rssPeak, rssBytes(pid))), 50);
  const cpu0 = cpuSeconds(pid);
  let upMs = 0;
  let downMs = 0;
  try {
    for (let i = 0; i < opts.files; i++) {
      let t = performance.now();
      const pointer = await uploadAttachment(sender, { path: src }, { contentType: 'application/octet-stream' }, { tmpDir: opts.dir });
      upMs += performance.now() - t;
      t = performance.now();
      await downloadAttachment(receiver, pointer, dest);
      downMs += performance.now() - t;
      if ((await sha256File(dest)) !== sha) throw new Error(`attachment ${i} came back different`);
      await rm(dest);
      opts.log(`  attachments: ${i + 1}/${opts.files} × ${opts.mib} MiB up and down`);
    }
  } finally {
    clearInterval(sampler);
    await rm(src, { force: true });
  }
  const total = opts.files * opts.mib;
  return {
    files: opts.files,
    mibEach: opts.mib,
    uploadMiBps: total / (upMs / 1000),
    downloadMiBps: total / (downMs / 1000),
    serverCpuSeconds: cpuSeconds(pid) - cpu0,
    serverRssStart: rssStart,
    serverRssPeak: rssPeak,
  };
}

export function reportAttachments(r: AttachmentBenchResult): void {
  console.log(`\nattachments: ${r.files} × ${r.mibEach} MiB through the kluis server, one at a time (end to end: encrypt/decrypt included)`);
  console.log(`  upload    ${r.uploadMiBps.toFixed(1)} MiB/s`);
  console.log(`  download  ${r.downloadMiBps.toFixed(1)} MiB/s`);
  console.log(`  server CPU ${r.serverCpuSeconds.toFixed(2)} s; server RSS ${(r.serverRssStart / MIB).toFixed(0)} → peak ${(r.serverRssPeak / MIB).toFixed(0)} MiB`);
}
