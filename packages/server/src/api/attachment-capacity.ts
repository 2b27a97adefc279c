import { ErrorCode } from '@kluis/protocol';
import type { BlobStore } from '../blobs/blob-store.js';
import type { ResolvedServerConfig } from '../config.js';
import { ApiError } from '../errors.js';

type CapacityConfig = Pick<ResolvedServerConfig, 'maxPendingAttachments' | 'maxPendingAttachmentBytes' | 'attachmentDiskReserveBytes' | 'attachmentDiskReservePercent'>;

/** Unfinished uploads finish or are swept within hours: a client may try again later. */
const RETRY_AFTER_SECONDS = 600;

const MIB = 1024 * 1024;

function bytes(n: number): string {
  return n >= 10 * MIB ? `${Math.round(n / MIB)} MiB` : `${n} bytes`;
}

function storageFull(message: string): ApiError {
  return new ApiError(ErrorCode.StorageFull, message, { retryAfterSeconds: RETRY_AFTER_SECONDS });
}

/**
 * Store-wide bounds on a new reservation of `size` bytes (the per-account buckets came
 * first): the unfinished uploads, counted from the database so every node and a restart
 * see the same number and a swept upload stops counting, and the free space left on the
 * blob filesystem once every unfinished upload arrives. Nothing is stored when it throws.
 */
export async function assertAttachmentCapacity(blobs: BlobStore, config: CapacityConfig, size: number, now: number): Promise<void> {
  const pending = await blobs.outstanding(now);
  if (pending.count >= config.maxPendingAttachments) {
    throw storageFull(`the server has ${config.maxPendingAttachments} unfinished attachment uploads, as many as it takes; try again later`);
  }
  if (pending.bytes + size > config.maxPendingAttachmentBytes) {
    throw storageFull(`unfinished attachment uploads on this server already claim ${bytes(pending.bytes)} of ${bytes(config.maxPendingAttachmentBytes)}; try again later`);
  }
  const disk = await blobs.diskSpace();
  const reserve = Math.max(config.attachmentDiskReserveBytes, (disk.total * config.attachmentDiskReservePercent) / 100);
  if (disk.free - pending.remaining - size < reserve) {
    throw storageFull("the server's attachment storage is full; try again later");
  }
}
