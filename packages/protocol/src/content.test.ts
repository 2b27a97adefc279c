import { describe, expect, it } from 'vitest';
import { toBinary, create, type MessageInitShape } from '@bufbuild/protobuf';
import { BinaryWriter, WireType } from '@bufbuild/protobuf/wire';
import { ContentError, decodeContent, encodeContent, makeContent, padContent, pb } from './content.js';

const data = (init: MessageInitShape<typeof pb.DataMessageSchema> = {}) => ({
  case: 'data' as const,
  value: create(pb.DataMessageSchema, { timestamp: 1_700_000_000_000n, counter: 1n, senderUsername: 'alice', text: 'hi', ...init }),
});

describe('content codec', () => {
  it('round-trips a data message, padded to 160-byte blocks', () => {
    const bytes = encodeContent({ body: data() });
    expect(bytes.length % 160).toBe(0);
    const c = decodeContent(bytes);
    expect(c.version).toBe(1);
    expect(c.body.case).toBe('data');
    expect(c.body.case === 'data' && c.body.value.text).toBe('hi');
  });

  it('keeps unknown fields from a newer client and re-encodes them', () => {
    const raw = toBinary(pb.ContentSchema, makeContent({ body: data() }));
    const w = new BinaryWriter();
    w.raw(raw);
    w.tag(99, WireType.LengthDelimited).string('from the future');
    const c = decodeContent(padContent(w.finish()));
    expect(c.body.case).toBe('data');
    const again = decodeContent(encodeContent(c));
    expect(again.$unknown?.some((u) => u.no === 99)).toBe(true);
  });

  it('accepts a body kind it does not know, with an empty body', () => {
    const w = new BinaryWriter();
    w.tag(1, WireType.Varint).uint32(1);
    w.tag(50, WireType.LengthDelimited).bytes(new Uint8Array([8, 1]));
    const c = decodeContent(padContent(w.finish()));
    expect(c.body.case).toBeUndefined();
  });

  it('refuses garbage, bad padding, newer versions and bad sizes', () => {
    expect(() => decodeContent(new Uint8Array(160))).toThrow(ContentError);
    expect(() => decodeContent(padContent(new Uint8Array([0xff, 0xff, 0xff])))).toThrow(ContentError);
    expect(() => decodeContent(encodeContent({ version: 2, body: data() }))).toThrow(/newer/);
    expect(() => decodeContent(encodeContent({ body: data({ profileKey: new Uint8Array(3) }) }))).toThrow(/profile key/);
    expect(() => decodeContent(encodeContent({ body: data({ timestamp: 0n }) }))).toThrow(/timestamp/);
    const member = { accountId: 'a', username: 'a', role: pb.GroupRole.MEMBER };
    const update = create(pb.GroupStateSchema, { id: new Uint8Array(32), version: 1n, title: 't', members: [member] });
    expect(() =>
      decodeContent(encodeContent({ body: data({ group: { id: new Uint8Array(32), version: 1n }, groupUpdate: update }) })),
    ).toThrow(/admin/);
  });
});
