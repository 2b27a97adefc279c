/**
 * Removes user metadata (`udta`, `meta`: location, device, title, software) from an
 * MP4's metadata prefix — ftyp ‖ moov as libsignal's Mp4Sanitizer returns it, which
 * keeps such boxes. The media data follows the prefix, so chunk offsets (stco/co64)
 * move back by the bytes removed. Works on the (small) prefix only, in memory.
 */
const CONTAINERS = new Set(['moov', 'trak', 'mdia', 'minf', 'stbl', 'edts', 'dinf', 'mvex']);
const DROP = new Set(['udta', 'meta']);

interface Box {
  type: string;
  /** Whole box, header included. */
  bytes: Buffer;
  headerLen: number;
}

function boxes(buf: Buffer): Box[] | undefined {
  const out: Box[] = [];
  for (let at = 0; at < buf.length; ) {
    if (at + 8 > buf.length) return undefined;
    let size = buf.readUInt32BE(at);
    let headerLen = 8;
    if (size === 1) {
      if (at + 16 > buf.length) return undefined;
      size = Number(buf.readBigUInt64BE(at + 8));
      headerLen = 16;
    } else if (size === 0) {
      size = buf.length - at;
    }
    if (size < headerLen || at + size > buf.length) return undefined;
    out.push({ type: buf.toString('latin1', at + 4, at + 8), bytes: buf.subarray(at, at + size), headerLen });
    at += size;
  }
  return out;
}

function withSize(box: Box, body: Buffer): Buffer {
  const header = Buffer.from(box.bytes.subarray(0, box.headerLen));
  if (box.headerLen === 16) header.writeBigUInt64BE(BigInt(16 + body.length), 8);
  else header.writeUInt32BE(8 + body.length, 0);
  return Buffer.concat([header, body]);
}

function strip(buf: Buffer): Buffer | undefined {
  const list = boxes(buf);
  if (!list) return undefined;
  const parts: Buffer[] = [];
  for (const box of list) {
    if (DROP.has(box.type)) continue;
    if (CONTAINERS.has(box.type)) {
      const inner = strip(box.bytes.subarray(box.headerLen));
      if (!inner) return undefined;
      parts.push(withSize(box, inner));
    } else {
      parts.push(Buffer.from(box.bytes));
    }
  }
  return Buffer.concat(parts);
}

/** Subtracts `delta` from every chunk offset, in place. */
function shiftOffsets(buf: Buffer, delta: number): void {
  const list = boxes(buf);
  if (!list) return;
  // Box views share memory with `buf`, so writing through them edits it in place.
  for (const box of list) {
    const body = box.bytes.subarray(box.headerLen);
    if (CONTAINERS.has(box.type)) shiftOffsets(body, delta);
    else if (box.type === 'stco' && body.length >= 8) {
      const n = body.readUInt32BE(4);
      for (let i = 0; i < n && 8 + 4 * i + 4 <= body.length; i++) body.writeUInt32BE(body.readUInt32BE(8 + 4 * i) - delta, 8 + 4 * i);
    } else if (box.type === 'co64' && body.length >= 8) {
      const n = body.readUInt32BE(4);
      for (let i = 0; i < n && 8 + 8 * i + 8 <= body.length; i++) body.writeBigUInt64BE(body.readBigUInt64BE(8 + 8 * i) - BigInt(delta), 8 + 8 * i);
    }
  }
}

/** The prefix without user metadata, or the prefix unchanged if it does not parse. */
export function stripMp4Metadata(prefix: Uint8Array): Uint8Array {
  const original = Buffer.from(prefix);
  const stripped = strip(original);
  if (!stripped || stripped.length === original.length) return prefix;
  shiftOffsets(stripped, original.length - stripped.length);
  return stripped;
}
