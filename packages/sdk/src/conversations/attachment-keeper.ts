import { mkdirSync, rmSync } from 'node:fs';
import { copyFile } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { create } from '@bufbuild/protobuf';
import { pb } from '@kluis/protocol';
import { downloadAttachment, uploadAttachment, type AttachmentPointer } from '../attachments/index.js';
import { pointerFrom } from '../attachments/pointer.js';
import type { Ctx } from '../context.js';
import { KluisError } from '../errors.js';
import { unb64 } from '../keys.js';
import { parseAttachments, toStored, type AttachmentRecord } from './stored.js';
import type { FileInput } from './conversations.js';

/**
 * Attachments on this device: uploads for sends, fetches for arrivals (into the profile
 * directory, owner-only), and cleanup when a message is deleted or disappears. Nothing is
 * told to the server after a fetch: a blob stays there, for every recipient device, until
 * its TTL (as in Signal), so no device can take it away from another.
 */
export class AttachmentKeeper {
  private readonly dir: string;
  private readonly inflight = new Map<string, Promise<void>>();

  constructor(
    private readonly ctx: Ctx,
    profileDir: string,
    private readonly autoDownloadBytes: number,
  ) {
    this.dir = join(profileDir, 'attachments');
  }

  async upload(f: FileInput): Promise<pb.AttachmentPointer> {
    const meta: Parameters<typeof uploadAttachment>[2] = {
      contentType: f.contentType ?? guessContentType(f.path, f.voiceNote),
      fileName: f.fileName ?? basename(f.path),
      ...(f.voiceNote ? { voiceNote: true } : {}),
      ...(f.durationMs !== undefined ? { durationMs: f.durationMs } : {}),
    };
    const p = await uploadAttachment(this.ctx.api(), { path: f.path }, meta);
    return toProto(p);
  }

  /** Fetches and verifies a pointer that belongs to no message (a group picture) straight to `dest`. */
  async savePointer(p: pb.AttachmentPointer, dest: string): Promise<void> {
    await downloadAttachment(this.ctx.api(), fromProto(p), dest);
  }

  /** Keeps a copy of what we sent, so this device can open it like a received one. */
  async keepSent(messageId: string, files: FileInput[]): Promise<void> {
    mkdirSync(this.dir, { recursive: true, mode: 0o700 });
    for (let i = 0; i < files.length; i++) {
      const local = `${messageId}-${i}`;
      await copyFile(files[i]!.path, join(this.dir, local));
      this.update(messageId, i, { state: 'downloaded', localPath: local });
    }
  }

  /** Fetches the attachments of a new message in the background (within the size limit). */
  autoDownload(messageId: string): void {
    const m = this.ctx.data.getMessage(messageId);
    if (!m) return;
    parseAttachments(m.attachments).forEach((a, i) => {
      if (a.state === 'pending' && a.size <= this.autoDownloadBytes) this.ctx.background('attachment download', () => this.fetch(messageId, i));
    });
  }

  /** Copies attachment `index` of a message to `dest` (fetching it first if needed). */
  async saveTo(messageId: string, index: number, dest: string): Promise<void> {
    await this.fetch(messageId, index);
    const a = this.record(messageId, index);
    if (a.state !== 'downloaded' || !a.localPath) throw new KluisError('ATTACHMENT_UNAVAILABLE', 'this attachment could not be fetched');
    await copyFile(join(this.dir, a.localPath), dest);
  }

  /** Local path of a fetched attachment (for previews), or undefined. */
  localPath(messageId: string, index: number): string | undefined {
    const a = parseAttachments(this.ctx.data.getMessage(messageId)?.attachments)[index];
    return a?.state === 'downloaded' && a.localPath ? join(this.dir, a.localPath) : undefined;
  }

  fetch(messageId: string, index: number): Promise<void> {
    const key = `${messageId}/${index}`;
    let p = this.inflight.get(key);
    if (!p) {
      p = this.doFetch(messageId, index).finally(() => this.inflight.delete(key));
      this.inflight.set(key, p);
    }
    return p;
  }

  private async doFetch(messageId: string, index: number): Promise<void> {
    const a = this.record(messageId, index);
    if (a.state === 'downloaded') return;
    mkdirSync(this.dir, { recursive: true, mode: 0o700 });
    const local = `${messageId}-${index}`;
    try {
      await downloadAttachment(this.ctx.api(), fromRecord(a), join(this.dir, local));
    } catch (e) {
      const code = (e as { code?: string }).code;
      if (code === 'ATTACHMENT_CORRUPT' || (e as { status?: number }).status === 404) this.update(messageId, index, { state: 'failed' });
      throw e;
    }
    this.update(messageId, index, { state: 'downloaded', localPath: local });
  }

  /** A message's attachments are gone: their local files are deleted (the blobs expire on the server). */
  discard(records: AttachmentRecord[]): void {
    for (const a of records) if (a.localPath) rmSync(join(this.dir, a.localPath), { force: true });
  }

  private record(messageId: string, index: number): AttachmentRecord {
    const m = this.ctx.data.getMessage(messageId);
    const a = parseAttachments(m?.attachments)[index];
    if (!m || !a) throw new KluisError('UNKNOWN_ATTACHMENT', `message ${messageId} has no attachment ${index}`);
    return a;
  }

  private update(messageId: string, index: number, patch: Partial<AttachmentRecord>): void {
    this.ctx.store.transaction(() => {
      const m = this.ctx.data.getMessage(messageId);
      if (!m) return;
      const list = parseAttachments(m.attachments);
      if (!list[index]) return;
      list[index] = { ...list[index]!, ...patch };
      this.ctx.conv.setAttachments(messageId, JSON.stringify(list));
    });
    const m = this.ctx.data.getMessage(messageId);
    if (m) this.ctx.emit('message-updated', toStored(m, this.ctx.conv, (a) => this.ctx.data.usernameOf(a)));
  }
}

export function toProto(p: AttachmentPointer): pb.AttachmentPointer {
  return create(pb.AttachmentPointerSchema, {
    id: p.id,
    key: p.key,
    digest: p.digest,
    size: BigInt(p.size),
    contentType: p.contentType,
    ...(p.fileName !== undefined ? { fileName: p.fileName } : {}),
    ...(p.width !== undefined ? { width: p.width } : {}),
    ...(p.height !== undefined ? { height: p.height } : {}),
    ...(p.durationMs !== undefined ? { durationMs: p.durationMs } : {}),
    voiceNote: p.voiceNote ?? false,
  });
}

// The optional fields have the same names in the protobuf pointer and in our record.
function fromProto(p: pb.AttachmentPointer): AttachmentPointer {
  return pointerFrom({ id: p.id, key: new Uint8Array(p.key), digest: new Uint8Array(p.digest), size: Number(p.size) }, p);
}

function fromRecord(a: AttachmentRecord): AttachmentPointer {
  return pointerFrom({ id: a.id, key: unb64(a.key), digest: unb64(a.digest), size: a.size }, a);
}

const TYPES: Record<string, string> = {
  jpg: 'image/jpeg',
  jpeg: 'image/jpeg',
  png: 'image/png',
  gif: 'image/gif',
  webp: 'image/webp',
  mp4: 'video/mp4',
  m4a: 'audio/mp4',
  ogg: 'audio/ogg',
  opus: 'audio/ogg',
  webm: 'audio/webm',
  mp3: 'audio/mpeg',
  pdf: 'application/pdf',
  txt: 'text/plain',
};

export function guessContentType(path: string, voiceNote?: boolean): string {
  const ext = path.toLowerCase().split('.').pop() ?? '';
  return TYPES[ext] ?? (voiceNote ? 'audio/ogg' : 'application/octet-stream');
}
