import { describe, expect, it } from 'vitest';
import { decodeServerFrame, encodeClientFrame, MAX_ACKS_PER_FRAME, MAX_MESSAGE_BYTES, type ClientFrameInit } from '@kluis/protocol';
import { envelopeFrame, parseClientFrame, responseFrame } from './frames.js';

const GUID = '11111111-1111-4111-8111-111111111111';
const ACCOUNT = '22222222-2222-4222-8222-222222222222';
const frame = (init: ClientFrameInit) => Buffer.from(encodeClientFrame(init));
const send = (value: Record<string, unknown>) =>
  frame({ frame: { case: 'send', value: { id: 4n, destination: ACCOUNT, messages: [{ deviceId: 1, registrationId: 7, type: 2, content: new Uint8Array([1, 2, 3]) }], ...value } } });

describe('envelope frames (hand-encoded)', () => {
  const base = { id: 1, guid: GUID, type: 6, sourceAccount: null, sourceDevice: null, timestamp: 0, serverTimestamp: 2, content: Buffer.from('hi') };

  it('decode with the generated decoder: sealed (no source, no timestamp), identified, large numbers, 96 KiB content', () => {
    const sealed = decodeServerFrame(envelopeFrame(base)).frame;
    expect(sealed.case).toBe('envelope');
    if (sealed.case !== 'envelope') return;
    expect(sealed.value).toMatchObject({ guid: GUID, type: 6, serverTimestamp: 2n });
    expect(sealed.value.sourceAccount).toBeUndefined();
    expect(sealed.value.sourceDevice).toBeUndefined();
    expect(sealed.value.timestamp).toBeUndefined();
    expect(Buffer.from(sealed.value.content).toString()).toBe('hi');

    const content = Buffer.alloc(MAX_MESSAGE_BYTES, 9);
    const big = { ...base, type: 2, sourceAccount: ACCOUNT, sourceDevice: 127, timestamp: 8.64e15, serverTimestamp: 2 ** 40 + 5, content };
    const id = decodeServerFrame(envelopeFrame(big)).frame;
    if (id.case !== 'envelope') throw new Error(id.case);
    expect(id.value).toMatchObject({ sourceAccount: ACCOUNT, sourceDevice: 127, timestamp: 8640000000000000n, serverTimestamp: BigInt(2 ** 40 + 5) });
    expect(Buffer.from(id.value.content).equals(content)).toBe(true);
  });

  it('responses carry the id, status and JSON body', () => {
    const r = decodeServerFrame(responseFrame(2 ** 53 - 1, 409, { code: 'MISMATCHED_DEVICES', message: 'é' })).frame;
    if (r.case !== 'response') throw new Error(r.case);
    expect(r.value.id).toBe(BigInt(2 ** 53 - 1));
    expect(r.value.status).toBe(409);
    expect(JSON.parse(r.value.body)).toEqual({ code: 'MISMATCHED_DEVICES', message: 'é' });
  });
});

describe('parseClientFrame', () => {
  it('takes each frame kind; ciphertexts are views into the frame (no copy)', () => {
    expect(parseClientFrame(frame({ frame: { case: 'ping', value: {} } }))).toEqual({ ok: true, frame: { type: 'ping' } });
    expect(parseClientFrame(frame({ frame: { case: 'ack', value: { guids: [GUID] } } }))).toEqual({ ok: true, frame: { type: 'ack', guids: [GUID] } });
    const bytes = send({ timestamp: 99n });
    const parsed = parseClientFrame(bytes);
    if (!parsed.ok || parsed.frame.type !== 'send') throw new Error('not parsed');
    expect(parsed.frame).toMatchObject({ id: 4, destination: ACCOUNT, body: { timestamp: 99, resend: false, online: false, shortLived: false } });
    expect(parsed.frame.body.messages[0]!.content.buffer).toBe(bytes.buffer);
    const multi = parseClientFrame(
      frame({ frame: { case: 'sendMulti', value: { id: 5n, shared: { type: 7, content: new Uint8Array(10) }, recipients: [{ accountId: ACCOUNT, devices: [{ deviceId: 1, registrationId: 1 }] }] } } }),
    );
    expect(multi.ok && multi.frame.type === 'send-multi' && multi.frame.body.shared?.content.length).toBe(10);
    const sealed = parseClientFrame(frame({ frame: { case: 'sealedSend', value: { id: 6n, destination: ACCOUNT, accessKey: new Uint8Array(16), messages: [{ deviceId: 1, registrationId: 1, type: 6, content: new Uint8Array(4) }] } } }));
    expect(sealed.ok && sealed.frame.type === 'sealed-send' && sealed.frame.accessKey?.length).toBe(16);
    // A key of the wrong length is no key: it gets the same 401 as a wrong one.
    const shortKey = parseClientFrame(frame({ frame: { case: 'sealedMultiSend', value: { id: 7n, accessKey: new Uint8Array(3), message: new Uint8Array(8) } } }));
    expect(shortKey.ok && shortKey.frame.type === 'sealed-multi-send' && shortKey.frame.accessKey).toBeUndefined();
  });

  it('carries shortLived (and online) from every send frame kind into its body', () => {
    const messages = [{ deviceId: 1, registrationId: 1, type: 6, content: new Uint8Array(4) }];
    const recipients = [{ accountId: ACCOUNT, devices: [{ deviceId: 1, registrationId: 1 }] }];
    const kinds: ClientFrameInit[] = [
      { frame: { case: 'send', value: { id: 1n, destination: ACCOUNT, messages, shortLived: true } } },
      { frame: { case: 'sendMulti', value: { id: 2n, shared: { type: 7, content: new Uint8Array(4) }, recipients, shortLived: true } } },
      { frame: { case: 'sealedSend', value: { id: 3n, destination: ACCOUNT, accessKey: new Uint8Array(16), messages, shortLived: true } } },
      { frame: { case: 'sealedMultiSend', value: { id: 4n, accessKey: new Uint8Array(16), message: new Uint8Array(8), shortLived: true } } },
    ];
    for (const init of kinds) {
      const parsed = parseClientFrame(frame(init));
      if (!parsed.ok || !('body' in parsed.frame)) throw new Error('not parsed');
      expect(parsed.frame.body).toMatchObject({ shortLived: true, online: false });
      // Absent (an older client): false, a normal stored send.
      const plain = structuredClone(init) as { frame: { value: { shortLived?: boolean } } };
      delete plain.frame.value.shortLived;
      const old = parseClientFrame(frame(plain as ClientFrameInit));
      if (!old.ok || !('body' in old.frame)) throw new Error('not parsed');
      expect(old.frame.body).toMatchObject({ shortLived: false });
    }
  });

  it('refuses truncated bytes, garbage, an empty frame and an unknown oneof case', () => {
    const whole = send({});
    for (const data of [whole.subarray(0, whole.length - 2), Buffer.from([0xff, 0xff, 0xff]), Buffer.from('{"type":"ping"}')]) {
      const r = parseClientFrame(data);
      expect(r.ok).toBe(false);
    }
    expect(parseClientFrame(Buffer.alloc(0))).toMatchObject({ ok: false, error: { message: expect.stringMatching(/empty or unknown frame/) } });
    // Field 15, length-delimited, empty: not a case this server knows.
    expect(parseClientFrame(Buffer.from([0x7a, 0x00]))).toMatchObject({ ok: false, error: { message: expect.stringMatching(/empty or unknown frame/) } });
  });

  it('checks structure and bounds as the HTTP schemas do, answering a send by its id', () => {
    const cases: Array<[Buffer, RegExp, number]> = [
      [send({ destination: 'NOT-A-UUID' }), /destination must be a lower-case UUID/, 400],
      [send({ messages: [{ deviceId: 0, registrationId: 1, type: 2, content: new Uint8Array(1) }] }), /device ids are 1 to 127/, 400],
      [send({ messages: [{ deviceId: 128, registrationId: 1, type: 2, content: new Uint8Array(1) }] }), /device ids are 1 to 127/, 400],
      [send({ messages: [{ deviceId: 1, registrationId: 0, type: 2, content: new Uint8Array(1) }] }), /registration ids/, 400],
      [send({ messages: [{ deviceId: 1, registrationId: 0x4000, type: 2, content: new Uint8Array(1) }] }), /registration ids/, 400],
      [send({ messages: [{ deviceId: 1, registrationId: 1, type: 4, content: new Uint8Array(1) }] }), /envelope type 4/, 400],
      [send({ messages: [] }), /1 to 6 messages/, 400],
      [send({ messages: Array.from({ length: 7 }, (_, i) => ({ deviceId: i + 1, registrationId: 1, type: 2, content: new Uint8Array(1) })) }), /1 to 6 messages/, 400],
      [send({ messages: [{ deviceId: 1, registrationId: 1, type: 2, content: new Uint8Array(MAX_MESSAGE_BYTES + 1) }] }), /larger than/, 413],
      [send({ timestamp: 9n * 10n ** 15n }), /timestamp is out of range/, 400],
    ];
    for (const [data, message, status] of cases) {
      const r = parseClientFrame(data);
      expect(r.ok).toBe(false);
      if (r.ok) continue;
      expect(r.error.message).toMatch(message);
      expect(r.error.status).toBe(status);
      expect(r.id).toBe(4);
    }
    const tooManyAcks = parseClientFrame(frame({ frame: { case: 'ack', value: { guids: Array.from({ length: MAX_ACKS_PER_FRAME + 1 }, () => GUID) } } }));
    expect(tooManyAcks).toMatchObject({ ok: false, error: { message: expect.stringMatching(/1 to 256 guids/) } });
    expect(parseClientFrame(frame({ frame: { case: 'ack', value: { guids: ['x'] } } }))).toMatchObject({ ok: false });
    const recipients = Array.from({ length: 1001 }, () => ({ accountId: ACCOUNT, devices: [] }));
    expect(parseClientFrame(frame({ frame: { case: 'sendMulti', value: { id: 1n, recipients } } }))).toMatchObject({ ok: false, id: 1, error: { message: expect.stringMatching(/1 to 1000 recipients/) } });
    // An id past 2^53 cannot be answered exactly: refused without an id.
    const hugeId = parseClientFrame(send({ id: 2n ** 60n }));
    expect(hugeId.ok).toBe(false);
    expect(!hugeId.ok && hugeId.id).toBeUndefined();
  });
});
