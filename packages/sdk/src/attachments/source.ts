import { createReadStream } from 'node:fs';
import { open } from 'node:fs/promises';

/** What to attach: a file on disk (streamed) or bytes already in memory. */
export type AttachmentSource = { path: string } | { bytes: Uint8Array };

const CHUNK = 256 * 1024;

export async function* readSource(source: AttachmentSource, start = 0, end?: number): AsyncGenerator<Uint8Array> {
  if ('bytes' in source) {
    const stop = end ?? source.bytes.byteLength;
    for (let i = start; i < stop; i += CHUNK) yield source.bytes.subarray(i, Math.min(i + CHUNK, stop));
    return;
  }
  if (end !== undefined && end <= start) return;
  yield* createReadStream(source.path, { start, end: end === undefined ? undefined : end - 1, highWaterMark: CHUNK }) as AsyncIterable<Buffer>;
}

export async function sourceSize(source: AttachmentSource): Promise<number> {
  if ('bytes' in source) return source.bytes.byteLength;
  const fh = await open(source.path, 'r');
  try {
    return (await fh.stat()).size;
  } finally {
    await fh.close();
  }
}

/** The first `n` bytes (fewer if the source is shorter): enough to tell the format. */
export async function sourceHead(source: AttachmentSource, n: number): Promise<Buffer> {
  if ('bytes' in source) return Buffer.from(source.bytes.subarray(0, n));
  const fh = await open(source.path, 'r');
  try {
    const buf = Buffer.alloc(n);
    const { bytesRead } = await fh.read(buf, 0, n, 0);
    return buf.subarray(0, bytesRead);
  } finally {
    await fh.close();
  }
}
