import { describe, expect, it } from 'vitest';
import { ConfigError, loadServerConfig, resolveConfig } from './config.js';

const load = (flags: Record<string, string | undefined>, env: NodeJS.ProcessEnv = {}) => loadServerConfig({ flags, env });
const MIB = 1024 * 1024;

describe('per-account caps and full-disk settings', () => {
  it('have defaults a real user never meets, a flag and an environment variable each', () => {
    expect(load({})).toMatchObject({
      maxQueueEnvelopes: 50_000,
      maxQueueBytes: 200 * MIB,
      maxPreKeys: 200,
      storageReserveBytes: 8 * MIB,
      storageCheckIntervalMs: 10_000,
      sendsPerSecond: 200,
      renewalFailures: 10,
      linkCodeMisses: 20,
    });
    expect(resolveConfig({ dataDir: '/tmp/x', host: '', port: 0, envelopeTtlMs: 1 })).toMatchObject({ maxQueueEnvelopes: 50_000, maxQueueBytes: 200 * MIB, storageReserveBytes: 8 * MIB });
    const flags = { 'max-queue-messages': '10', 'max-queue-mib': '1', 'max-prekeys': '500', 'storage-reserve-mib': '0', 'storage-check-seconds': '2', 'sends-per-second': '5', 'renewal-failures': '3', 'link-code-misses': '4' };
    expect(load(flags)).toMatchObject({ maxQueueEnvelopes: 10, maxQueueBytes: MIB, maxPreKeys: 500, storageReserveBytes: 0, storageCheckIntervalMs: 2000, sendsPerSecond: 5, renewalFailures: 3, linkCodeMisses: 4 });
    expect(load({}, { KLUIS_MAX_QUEUE_MESSAGES: '7', KLUIS_STORAGE_RESERVE_MIB: '16' })).toMatchObject({ maxQueueEnvelopes: 7, storageReserveBytes: 16 * MIB });
  });

  it('refuses values that make no sense, naming the flag', () => {
    expect(() => load({ 'max-queue-messages': '0' })).toThrow(/--max-queue-messages \/ KLUIS_MAX_QUEUE_MESSAGES must be an integer from 1/);
    // Below the SDK's own upload of 100 keys, a fresh device could not register.
    expect(() => load({ 'max-prekeys': '99' })).toThrow(ConfigError);
    expect(() => load({ 'storage-check-seconds': 'soon' })).toThrow(/--storage-check-seconds/);
    expect(() => load({}, { KLUIS_SENDS_PER_SECOND: '-1' })).toThrow(/KLUIS_SENDS_PER_SECOND/);
  });
});
