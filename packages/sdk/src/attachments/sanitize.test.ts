import { writeFile, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { io, Mp4Sanitizer, WebpSanitizer } from '@signalapp/libsignal-client';
import { describe, expect, it } from 'vitest';
import { AttachmentInvalidMediaError } from './errors.js';
import { detectMedia, sanitizeBytes, sanitizedSource } from './sanitize.js';

const seg = (marker: number, body: Buffer) => {
  const h = Buffer.from([0xff, marker, 0, 0]);
  h.writeUInt16BE(body.length + 2, 2);
  return Buffer.concat([h, body]);
};

describe('JPEG', () => {
  const soi = Buffer.from([0xff, 0xd8]);
  const app0 = seg(0xe0, Buffer.from('JFIF\0\x01\x01\0\0\x01\0\x01\0\0', 'latin1'));
  const exif = seg(0xe1, Buffer.from('Exif\0\0GPS 52.37N 4.90E Canon EOS', 'latin1'));
  const xmp = seg(0xe1, Buffer.from('http://ns.adobe.com/xap/1.0/\0<x:xmpmeta creator="alice"/>', 'latin1'));
  const iptc = seg(0xed, Buffer.from('Photoshop 3.0\0by-line alice', 'latin1'));
  const comment = seg(0xfe, Buffer.from('taken at home', 'latin1'));
  const icc = seg(0xe2, Buffer.from('ICC_PROFILE\0colour', 'latin1'));
  const dqt = seg(0xdb, Buffer.alloc(65, 1));
  const sos = seg(0xda, Buffer.from([1, 1, 0, 0, 0x3f, 0]));
  // Entropy-coded data may contain 0xFF 0xE1 byte pairs (after stuffing): they must survive.
  const scan = Buffer.from([0x12, 0xff, 0x00, 0x34, 0xff, 0xe1, 0x56, 0xff, 0xd9]);
  const jpeg = Buffer.concat([soi, app0, exif, xmp, dqt, iptc, comment, icc, sos, scan]);

  it('drops APP1 (EXIF, XMP), APP13 and comments, keeps the rest byte for byte', async () => {
    const out = Buffer.from(await sanitizeBytes(jpeg));
    expect(out.equals(Buffer.concat([soi, app0, dqt, icc, sos, scan]))).toBe(true);
    for (const secret of ['GPS', 'Canon', 'alice', 'home']) expect(out.includes(Buffer.from(secret))).toBe(false);
  });

  it('streams a large file from disk the same way', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'kluis-sanitize-'));
    try {
      const big = Buffer.concat([soi, app0, exif, dqt, sos, Buffer.alloc(3 * 1024 * 1024, 7), Buffer.from([0xff, 0xd9])]);
      await writeFile(join(dir, 'a.jpg'), big);
      const { kind, stream } = await sanitizedSource({ path: join(dir, 'a.jpg') });
      expect(kind).toBe('jpeg');
      const parts: Buffer[] = [];
      for await (const p of stream) parts.push(Buffer.from(p));
      expect(Buffer.concat(parts).equals(Buffer.concat([soi, app0, dqt, sos, Buffer.alloc(3 * 1024 * 1024, 7), Buffer.from([0xff, 0xd9])]))).toBe(true);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});

describe('PNG', () => {
  const chunk = (type: string, data: Buffer) => {
    const h = Buffer.alloc(8);
    h.writeUInt32BE(data.length, 0);
    h.write(type, 4, 'latin1');
    return Buffer.concat([h, data, Buffer.from([1, 2, 3, 4])]);
  };
  const sig = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
  const ihdr = chunk('IHDR', Buffer.from([0, 0, 0, 1, 0, 0, 0, 1, 8, 2, 0, 0, 0]));
  const idat = chunk('IDAT', Buffer.alloc(100, 9));
  const iend = chunk('IEND', Buffer.alloc(0));

  it('drops tEXt, iTXt, zTXt and eXIf chunks and anything after IEND', async () => {
    const png = Buffer.concat([
      sig,
      ihdr,
      chunk('tEXt', Buffer.from('Author\0alice', 'latin1')),
      chunk('iTXt', Buffer.from('XML:com.adobe.xmp\0\0\0\0\0<gps/>', 'latin1')),
      idat,
      chunk('zTXt', Buffer.from('Comment\0\0xx', 'latin1')),
      chunk('eXIf', Buffer.from('MM\0*GPS', 'latin1')),
      iend,
      Buffer.from('trailing secret'),
    ]);
    const out = Buffer.from(await sanitizeBytes(png));
    expect(out.equals(Buffer.concat([sig, ihdr, idat, iend]))).toBe(true);
  });
});

describe('WebP', () => {
  // A 1×1 lossless image in the extended (VP8X) layout, which is where EXIF and XMP live.
  const webp = Buffer.from('UklGRiwAAABXRUJQVlA4WAoAAAAAAAAAAAAAAAAAVlA4TA0AAAAvAAAAEAcQERGIiP4HAA==', 'base64');
  const riffChunk = (type: string, data: Buffer) => {
    const h = Buffer.alloc(8);
    h.write(type, 0, 'latin1');
    h.writeUInt32LE(data.length, 4);
    return Buffer.concat([h, data, data.length & 1 ? Buffer.alloc(1) : Buffer.alloc(0)]);
  };

  it('drops EXIF and XMP chunks, fixes the RIFF size and VP8X flags; libsignal accepts the result', async () => {
    const withMeta = Buffer.concat([webp, riffChunk('EXIF', Buffer.from('MM\0*GPS 52N camera', 'latin1')), riffChunk('XMP ', Buffer.from('<x:xmpmeta creator="alice"/>'))]);
    withMeta.writeUInt32LE(withMeta.length - 8, 4);
    withMeta[20] = withMeta[20]! | 0x0c;
    const out = Buffer.from(await sanitizeBytes(withMeta));
    expect(out.equals(webp)).toBe(true);
    expect(() => WebpSanitizer.sanitize(new Uint8Array(out))).not.toThrow();
  });

  it('refuses a malformed WebP', async () => {
    const broken = Buffer.from(webp);
    broken.writeUInt32LE(5000, 4 + 12);
    await expect(sanitizeBytes(broken)).rejects.toBeInstanceOf(AttachmentInvalidMediaError);
  });
});

describe('MP4', () => {
  const u32 = (...n: number[]) => {
    const b = Buffer.alloc(4 * n.length);
    n.forEach((x, i) => b.writeUInt32BE(x >>> 0, i * 4));
    return b;
  };
  const box = (type: string, ...parts: Buffer[]) => {
    const body = Buffer.concat(parts);
    const h = u32(8 + body.length, 0);
    h.write(type, 4, 'latin1');
    return Buffer.concat([h, body]);
  };
  const full = (v: number, f: number) => u32((v << 24) | f);
  const media = Buffer.from('MEDIA-DATA-0123456789');
  const ftyp = box('ftyp', Buffer.from('isom'), u32(512), Buffer.from('isomiso2mp41'));
  /** A one-sample audio track with a location and a title in udta boxes. */
  function moov(chunkOffset: number): Buffer {
    const mvhd = box('mvhd', full(0, 0), u32(0, 0, 1000, 1000, 0x10000), Buffer.from([1, 0, 0, 0]), Buffer.alloc(8), u32(0x10000, 0, 0, 0, 0x10000, 0, 0, 0, 0x40000000), Buffer.alloc(24), u32(2));
    const tkhd = box('tkhd', full(0, 3), u32(0, 0, 1, 0, 1000), Buffer.alloc(16), u32(0x10000, 0, 0, 0, 0x10000, 0, 0, 0, 0x40000000), u32(0, 0));
    const stbl = box(
      'stbl',
      box('stsd', full(0, 0), u32(1), box('mp4a', Buffer.alloc(6), Buffer.from([0, 1]), Buffer.alloc(8), Buffer.from([0, 2, 0, 16, 0, 0, 0, 0]), u32(44100 << 16))),
      box('stts', full(0, 0), u32(1, 1, 1000)),
      box('stsc', full(0, 0), u32(1, 1, 1, 1)),
      box('stsz', full(0, 0), u32(0, 1, media.length)),
      box('stco', full(0, 0), u32(1, chunkOffset)),
    );
    const minf = box('minf', box('smhd', full(0, 0), u32(0)), box('dinf', box('dref', full(0, 0), u32(1), box('url ', full(0, 1)))), stbl);
    const mdia = box('mdia', box('mdhd', full(0, 0), u32(0, 0, 1000, 1000), Buffer.from([0x55, 0xc4, 0, 0])), box('hdlr', full(0, 0), u32(0), Buffer.from('soun'), Buffer.alloc(12), Buffer.from('snd\0')), minf);
    const trak = box('trak', tkhd, mdia, box('udta', box('name', Buffer.from('alice phone'))));
    return box('moov', mvhd, trak, box('udta', box('\xa9xyz', Buffer.from('+52.3676+004.9041/')), box('meta', full(0, 0), Buffer.from('secret-meta'))));
  }
  class Mem extends io.InputStream {
    pos = 0;
    constructor(private readonly b: Buffer) {
      super();
    }
    async read(n: number) {
      const o = new Uint8Array(this.b.subarray(this.pos, this.pos + n));
      this.pos += o.length;
      return o;
    }
    async skip(n: number) {
      this.pos += n;
    }
  }
  const check = async (out: Buffer) => {
    for (const secret of ['+52.3676', 'alice phone', 'secret-meta']) expect(out.includes(Buffer.from(secret))).toBe(false);
    // Still a valid MP4 whose one chunk offset points at the media bytes.
    const again = await Mp4Sanitizer.sanitize(new Mem(out), BigInt(out.length));
    const stco = out.indexOf(Buffer.from('stco'));
    const offset = out.readUInt32BE(stco + 12);
    expect(out.subarray(offset, offset + media.length).equals(media)).toBe(true);
    expect(Number(again.getDataOffset()) + Number(again.getDataLen())).toBe(out.length);
  };

  it('removes udta/meta from a moov-first file and moves chunk offsets with it', async () => {
    const size = ftyp.length + moov(0).length + 8;
    const mp4 = Buffer.concat([ftyp, moov(size), box('mdat', media)]);
    expect(detectMedia(mp4)).toBe('mp4');
    await check(Buffer.from(await sanitizeBytes(mp4)));
  });

  it('puts the metadata first (libsignal) and strips it for an mdat-first file', async () => {
    const mp4 = Buffer.concat([ftyp, box('mdat', media), moov(ftyp.length + 8)]);
    await check(Buffer.from(await sanitizeBytes(mp4)));
  });
});

describe('other files', () => {
  it('pass unchanged', async () => {
    const bytes = Buffer.from('%PDF-1.7 Author: alice');
    expect(detectMedia(bytes)).toBe('other');
    expect(Buffer.from(await sanitizeBytes(bytes)).equals(bytes)).toBe(true);
  });
});
