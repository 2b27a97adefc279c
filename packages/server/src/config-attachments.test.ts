import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ConfigError, loadServerConfig, resolveConfig } from './config.js';

const load = (flags: Record<string, string | number | undefined>, env: NodeJS.ProcessEnv = {}) => loadServerConfig({ flags, env });

describe('attachment configuration', () => {
  it('defaults to blobs in the data directory, 100 MiB and 30 days', () => {
    expect(load({})).toMatchObject({ blobDir: '', maxAttachmentBytes: 100 * 1024 * 1024, attachmentTtlMs: 30 * 86_400_000 });
    expect(resolveConfig({ dataDir: 'd', host: 'h', port: 0, envelopeTtlMs: 5 })).toMatchObject({ blobDir: '', maxAttachmentBytes: 100 * 1024 * 1024 });
  });

  it('reads flags and environment variables', () => {
    expect(load({ 'blob-dir': 'shared/blobs', 'max-attachment-bytes': '2048', 'attachment-ttl-days': '0.5' })).toMatchObject({
      blobDir: resolve('shared/blobs'),
      maxAttachmentBytes: 2048,
      attachmentTtlMs: 43_200_000,
    });
    expect(load({}, { KLUIS_BLOB_DIR: '/mnt/kluis-blobs', KLUIS_MAX_ATTACHMENT_BYTES: '5000000', KLUIS_ATTACHMENT_TTL_DAYS: '7' })).toMatchObject({
      blobDir: '/mnt/kluis-blobs',
      maxAttachmentBytes: 5_000_000,
      attachmentTtlMs: 7 * 86_400_000,
    });
  });

  it('bounds reservations per account and store-wide, with a free-space reserve as a percent or MiB', () => {
    const GiB = 1024 ** 3;
    expect(load({})).toMatchObject({
      attachmentReservationsPerHour: 200,
      attachmentBytesPerDay: 2 * GiB,
      maxPendingAttachments: 10_000,
      maxPendingAttachmentBytes: 20 * GiB,
      attachmentDiskReserveBytes: 0,
      attachmentDiskReservePercent: 5,
    });
    expect(resolveConfig({ dataDir: 'd', host: 'h', port: 0, envelopeTtlMs: 5 })).toMatchObject({ attachmentBytesPerDay: 2 * GiB, attachmentDiskReservePercent: 5 });
    expect(
      load({ 'attachment-reservations-per-hour': '10', 'attachment-mib-per-day': '100', 'max-pending-attachments': '50', 'max-pending-attachment-mib': '1024', 'attachment-disk-reserve': '2048' }),
    ).toMatchObject({
      attachmentReservationsPerHour: 10,
      attachmentBytesPerDay: 100 * 1024 * 1024,
      maxPendingAttachments: 50,
      maxPendingAttachmentBytes: GiB,
      attachmentDiskReserveBytes: 2 * GiB,
      attachmentDiskReservePercent: 0,
    });
    expect(load({}, { KLUIS_ATTACHMENT_DISK_RESERVE: '12.5%' })).toMatchObject({ attachmentDiskReserveBytes: 0, attachmentDiskReservePercent: 12.5 });
    expect(() => load({ 'attachment-disk-reserve': '95%' })).toThrow(/--attachment-disk-reserve/);
    expect(() => load({ 'attachment-disk-reserve': '1GB' })).toThrow(ConfigError);
    expect(() => load({ 'attachment-reservations-per-hour': '0' })).toThrow(/--attachment-reservations-per-hour/);
    expect(() => load({}, { KLUIS_MAX_PENDING_ATTACHMENTS: 'many' })).toThrow(/KLUIS_MAX_PENDING_ATTACHMENTS/);
  });

  it('refuses bad values with the option named', () => {
    expect(() => load({ 'max-attachment-bytes': '10' })).toThrow(/--max-attachment-bytes/);
    expect(() => load({ 'max-attachment-bytes': '1e9' })).toThrow(ConfigError);
    expect(() => load({ 'attachment-ttl-days': '0' })).toThrow(/--attachment-ttl-days/);
    expect(() => load({}, { KLUIS_ATTACHMENT_TTL_DAYS: 'never' })).toThrow(ConfigError);
  });
});
