import { stat } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { createLogger } from '../logger.js';
import { removeTempDirs, tempDir } from '../test-support/test-server.js';
import { RESERVE_FILE, StorageGuard } from './storage-guard.js';

afterAll(() => removeTempDirs());

const diskFull = () => Object.assign(new Error('database or disk is full'), { code: 'SQLITE_FULL' });

function guard(dir: string, reserveBytes = 1024 * 1024) {
  const lines: string[] = [];
  let refused = 0;
  const g = new StorageGuard({ dir, reserveBytes, checkIntervalMs: 60_000, log: createLogger((l) => lines.push(l)), onRefused: () => refused++ });
  return { g, lines, refused: () => refused };
}

describe('StorageGuard', () => {
  it('keeps a reserve file, releases it when the disk fills, refuses new writes with 507, and takes them again once there is room', async () => {
    const dir = await tempDir();
    const { g, lines, refused } = guard(dir);
    await g.start();
    expect((await stat(join(dir, RESERVE_FILE))).size).toBe(1024 * 1024);
    expect(g.refuse()).toBeUndefined();

    // Other errors are not a full disk.
    g.report(Object.assign(new Error('x'), { code: 'SQLITE_BUSY' }));
    expect(g.isFull).toBe(false);

    for (let i = 0; i < 1000; i++) g.report(diskFull());
    expect(g.isFull).toBe(true);
    const r = g.refuse();
    expect(r?.status).toBe(507);
    expect(r?.toBody()).toEqual({ code: 'STORAGE_FULL', message: expect.stringMatching(/^the server's storage is full/), retryAfterSeconds: 60 });
    expect(refused()).toBe(1);
    await expect.poll(() => stat(join(dir, RESERVE_FILE)).then(() => true, () => false)).toBe(false);
    // A thousand failures, one line.
    expect(lines.filter((l) => /storage/.test(l))).toHaveLength(1);

    // This test's disk has room: the next check makes the reserve again and resumes.
    await g.check();
    expect(g.isFull).toBe(false);
    expect(g.refuse()).toBeUndefined();
    expect((await stat(join(dir, RESERVE_FILE))).size).toBe(1024 * 1024);
    expect(lines.at(-1)).toMatch(/^storage has room again \(.* free\): accepting new messages \(1 refused since the last line\)$/);
    await g.close();
  });

  it('without a local disk to watch (PostgreSQL) leaves the full state after one interval and lets writes try again', async () => {
    const { g } = guard('', 0);
    await g.start();
    g.report(Object.assign(new Error('could not extend file'), { code: '53100' }));
    expect(g.refuse()?.status).toBe(507);
    await g.check();
    expect(g.isFull).toBe(false);
    await g.close();
  });
});
