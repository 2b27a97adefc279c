import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { downloadAttachment, uploadAttachment } from '@kluis/sdk';
import { HttpApi } from '@kluis/sdk/testing';
import { registerAccount } from '../../packages/server/src/test-support/accounts.js';
import type { TestServer as ServerTestServer } from '../../packages/server/src/test-support/test-server.js';
import { Harness } from '../harness/index.js';
import { sha256File, writeRandomFile } from '../harness/random-file.js';

const MIB = 1024 * 1024;

/** VmRSS of a process, in bytes (Linux). */
async function rss(pid: number): Promise<number> {
  const status = await readFile(`/proc/${pid}/status`, 'utf8');
  return Number(/^VmRSS:\s+(\d+) kB/m.exec(status)![1]) * 1024;
}

/**
 * 100 MiB through a real `kluis server` process: the server streams both ways, so its
 * memory stays flat however large the file.
 */
describe('a 100 MiB attachment through the server process', () => {
  const h = new Harness();
  afterAll(() => h.dispose());

  it('round-trips with the same SHA-256 while the server RSS stays within +60 MiB', async () => {
    const server = await h.spawnServer();
    const alice = await registerAccount(server as unknown as ServerTestServer);
    const bob = await registerAccount(server as unknown as ServerTestServer);
    const api = (d: typeof alice) => new HttpApi(server.url, () => ({ accountId: d.accountId, deviceId: d.deviceId, password: d.password }));
    const dir = await h.tempDir('files');
    const src = join(dir, 'big.bin');
    const sha = await writeRandomFile(src, 100 * MIB);

    const pid = server.process.pid;
    const start = await rss(pid);
    let peak = start;
    const sampler = setInterval(() => {
      rss(pid).then(
        (r) => (peak = Math.max(peak, r)),
        () => {},
      );
    }, 20);
    let upMs = 0;
    let downMs = 0;
    try {
      let t = performance.now();
      const pointer = await uploadAttachment(api(alice), { path: src }, { contentType: 'application/octet-stream', fileName: 'big.bin' }, { tmpDir: dir });
      upMs = performance.now() - t;
      expect(pointer.size).toBe(100 * MIB);
      t = performance.now();
      await downloadAttachment(api(bob), pointer, join(dir, 'big.out'));
      downMs = performance.now() - t;
    } finally {
      clearInterval(sampler);
    }
    expect(await sha256File(join(dir, 'big.out'))).toBe(sha);
    const growth = peak - start;
    console.log(
      `100 MiB attachment: server RSS ${(start / MIB).toFixed(1)} MiB at start, peak ${(peak / MIB).toFixed(1)} MiB (+${(growth / MIB).toFixed(1)}); ` +
        `upload (incl. encrypt) ${(upMs / 1000).toFixed(2)} s, download (incl. decrypt) ${(downMs / 1000).toFixed(2)} s`,
    );
    expect(growth).toBeLessThan(60 * MIB);
  }, 300_000);
});
