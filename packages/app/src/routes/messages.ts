import { createReadStream } from 'node:fs';
import { mkdir, stat, unlink } from 'node:fs/promises';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import type { Client, StoredMessage } from '@kluis/sdk';
import { AppError } from '../errors.js';
import * as S from '../schemas.js';
import { MAX_UPLOAD_BYTES, readBody } from '../body.js';
import { client, defineRoutes, ok } from '../route-kit.js';

async function ownMessage(cl: Client, id: string): Promise<StoredMessage> {
  // The SDK has no lookup by id: scan local history (a person's, so small enough).
  const m = (await cl.messages({ limit: 100_000 })).find((x) => x.id === id);
  if (!m) throw new AppError(404, 'UNKNOWN_MESSAGE', 'no such message on this device');
  return m;
}

export const messageRoutes = defineRoutes((route) => {
  route('POST', '/api/files', async (c) => {
    const name = decodeURIComponent(String(c.req.headers['x-file-name'] ?? 'file')).slice(0, 255) || 'file';
    const type = String(c.req.headers['content-type'] ?? 'application/octet-stream').slice(0, 255);
    // A voice note recorded in the page: its length (ms) comes along for the receiver's player.
    const voice = c.req.headers['x-voice-note'] === '1' ? { durationMs: Math.max(0, Math.min(24 * 3600_000, Number(c.req.headers['x-duration-ms']) || 0)) } : undefined;
    const bytes = await readBody(c.req, MAX_UPLOAD_BYTES);
    if (bytes.length === 0) throw new AppError(400, 'EMPTY_FILE', 'the file is empty');
    return { fileId: await c.session.addUpload(bytes, name, type, voice) };
  });

  route('GET', '/api/messages/:id/attachments/:index', async (c) => {
    const cl = client(c);
    const index = Number(c.params.index);
    const m = await ownMessage(cl, c.params.id!);
    const a = m.attachments?.find((x) => x.index === index);
    if (!a) throw new AppError(404, 'UNKNOWN_ATTACHMENT', 'no such attachment');
    const name = a.fileName ?? `attachment-${index}`;
    const headers = (size: number) => ({
      // Never rendered by the host's origin as a page: the UI turns it into a blob: URL.
      'content-type': a.contentType.startsWith('image/') ? a.contentType : 'application/octet-stream',
      'content-length': size,
      'content-disposition': `attachment; filename*=UTF-8''${encodeURIComponent(name)}`,
      'cache-control': 'no-store',
    });
    const kept = c.session.sentFile(m.id, index);
    if (kept) {
      c.res.writeHead(200, headers(kept.bytes.length));
      c.res.end(kept.bytes);
      return undefined;
    }
    if (m.direction === 'outgoing' && !m.sync) {
      throw new AppError(404, 'NOT_KEPT', 'this device keeps no copy of files it sent before the app was unlocked');
    }
    await mkdir(c.session.tmpDir, { recursive: true, mode: 0o700 });
    const tmp = join(c.session.tmpDir, `down-${randomBytes(8).toString('hex')}`);
    await cl.saveAttachment(m.id, index, tmp);
    c.res.writeHead(200, headers((await stat(tmp)).size));
    await new Promise<void>((resolve, reject) => {
      const s = createReadStream(tmp);
      s.on('error', reject);
      c.res.on('finish', resolve);
      c.res.on('close', resolve);
      s.pipe(c.res);
    }).finally(() => unlink(tmp).catch(() => {}));
    return undefined;
  });

  route('POST', '/api/messages/:id/reactions', async (c) => {
    const b = S.parse(S.ReactBody, await c.body());
    await client(c).react(c.params.id!, b.emoji, { remove: b.remove ?? false });
    return ok;
  });

  route('PATCH', '/api/messages/:id', async (c) => {
    const b = S.parse(S.EditBody, await c.body());
    await client(c).edit(c.params.id!, b.text);
    return ok;
  });

  route('DELETE', '/api/messages/:id', async (c) => {
    const forMe = new URL(c.req.url ?? '', 'http://x').searchParams.get('for') === 'me';
    const id = c.params.id!;
    if (forMe) await client(c).deleteForMe(id);
    else await client(c).deleteForEveryone(id);
    return ok;
  });

  route('GET', '/api/messages/:id/history', async (c) => client(c).messageHistory(c.params.id!));
});
