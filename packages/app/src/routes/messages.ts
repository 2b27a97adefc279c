import { createReadStream } from 'node:fs';
import { mkdir, stat, unlink } from 'node:fs/promises';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { SdkErrorCode, type Client, type StoredMessage } from '@kluis/sdk';
import { AppErrorCode } from '../api/index.js';
import { AppError } from '../errors.js';
import { defineRoute } from '../route.js';
import { client, ok } from '../input.js';

async function ownMessage(cl: Client, id: string): Promise<StoredMessage> {
  // The SDK has no lookup by id: scan local history (a person's, so small enough).
  const m = (await cl.messages.list({ limit: 100_000 })).find((x) => x.id === id);
  if (!m) throw new AppError(404, SdkErrorCode.UnknownMessage, 'no such message on this device');
  return m;
}

function fileName(header: string | undefined): string {
  try {
    return decodeURIComponent(header ?? 'file').slice(0, 255) || 'file';
  } catch {
    return 'file';
  }
}

export const messageRoutes = [
  defineRoute('upload', async (c) => {
    const name = fileName(c.headers['x-file-name']);
    const type = String(c.request.headers['content-type'] ?? 'application/octet-stream').slice(0, 255);
    // A voice note recorded in the page: its length (ms) comes along for the receiver's player.
    const voice = c.headers['x-voice-note'] === '1' ? { durationMs: Math.max(0, Math.min(24 * 3600_000, Number(c.headers['x-duration-ms']) || 0)) } : undefined;
    if (!c.body || c.body.length === 0) throw new AppError(400, AppErrorCode.EmptyFile, 'the file is empty');
    return { fileId: await c.session.addUpload(c.body, name, type, voice) };
  }),

  defineRoute('attachment', async (c) => {
    const cl = client(c);
    const index = Number(c.params.index);
    const m = await ownMessage(cl, c.params.id);
    const a = m.attachments?.find((x) => x.index === index);
    if (!a) throw new AppError(404, SdkErrorCode.UnknownAttachment, 'no such attachment');
    const name = a.fileName ?? `attachment-${index}`;
    const reply = c.reply.headers({
      // Never rendered by the host's origin as a page: the UI turns it into a blob: URL.
      'content-type': a.contentType.startsWith('image/') ? a.contentType : 'application/octet-stream',
      'content-disposition': `attachment; filename*=UTF-8''${encodeURIComponent(name)}`,
      'cache-control': 'no-store',
    });
    const kept = c.session.sentFile(m.id, index);
    if (kept) return reply.header('content-length', kept.bytes.length).send(kept.bytes);
    if (m.direction === 'outgoing' && !m.sync) {
      throw new AppError(404, AppErrorCode.NotKept, 'this device keeps no copy of files it sent before the app was unlocked');
    }
    await mkdir(c.session.tmpDir, { recursive: true, mode: 0o700 });
    const tmp = join(c.session.tmpDir, `down-${randomBytes(8).toString('hex')}`);
    await cl.messages.saveAttachment(m.id, index, tmp);
    const size = (await stat(tmp)).size;
    // The decrypted copy lives only as long as its answer: gone once sent (or the page went away).
    const stream = createReadStream(tmp);
    stream.on('close', () => void unlink(tmp).catch(() => {}));
    return reply.header('content-length', size).send(stream);
  }),

  defineRoute('react', async (c) => {
    await client(c).messages.react(c.params.id, c.body.emoji, { remove: c.body.remove ?? false });
    return ok;
  }),

  defineRoute('edit', async (c) => {
    await client(c).messages.edit(c.params.id, c.body.text);
    return ok;
  }),

  defineRoute('deleteMessage', async (c) => {
    const id = c.params.id;
    if (c.query.for === 'me') await client(c).messages.deleteForMe(id);
    else await client(c).messages.deleteForEveryone(id);
    return ok;
  }),

  defineRoute('messageHistory', async (c) => client(c).messages.history(c.params.id)),
];
