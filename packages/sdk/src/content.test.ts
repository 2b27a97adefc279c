import { describe, expect, it } from 'vitest';
import { decodeContent, encodeContent, pad, PADDING_BLOCK, unpad } from './content.js';

describe('content padding', () => {
  it('pads to a multiple of 160 with 0x80 then zeros', () => {
    for (const n of [0, 1, 158, 159, 160, 161, 319, 320, 1000]) {
      const p = pad(new Uint8Array(n).fill(7));
      expect(p.length % PADDING_BLOCK).toBe(0);
      expect(p.length).toBeGreaterThan(n);
      expect(p.length - n).toBeLessThanOrEqual(PADDING_BLOCK);
      expect(p[n]).toBe(0x80);
      expect(p.subarray(n + 1).every((b) => b === 0)).toBe(true);
      expect(Array.from(unpad(p))).toEqual(Array.from(new Uint8Array(n).fill(7)));
    }
  });
  it('159 bytes fill exactly one block, 160 need two', () => {
    expect(pad(new Uint8Array(159)).length).toBe(160);
    expect(pad(new Uint8Array(160)).length).toBe(320);
  });
  it('rejects bad padding', () => {
    expect(() => unpad(new Uint8Array([1, 2, 0, 0]))).toThrow(/padding/);
    expect(() => unpad(new Uint8Array([0x80, 1]))).toThrow(/padding/);
  });
});

describe('content encoding', () => {
  it('round-trips text and sync-sent', () => {
    const t = { kind: 'text', text: 'héllo 👋', timestamp: 1234, senderUsername: 'alice' } as const;
    expect(decodeContent(encodeContent(t))).toEqual({ v: 1, ...t });
    const s = {
      kind: 'sync-sent',
      text: 'x',
      timestamp: 5,
      senderUsername: 'alice',
      destination: 'bob',
      destinationAccountId: '00000000-0000-4000-8000-000000000000',
    } as const;
    expect(decodeContent(encodeContent(s))).toEqual({ v: 1, ...s });
  });
  it('rejects garbage', () => {
    expect(() => decodeContent(pad(new TextEncoder().encode('nope')))).toThrow(/JSON/);
    expect(() => decodeContent(pad(new TextEncoder().encode('{"v":2}')))).toThrow(/version/);
    expect(() => decodeContent(pad(new TextEncoder().encode('{"v":1,"kind":"text","text":1}')))).toThrow();
    expect(() =>
      decodeContent(pad(new TextEncoder().encode('{"v":1,"kind":"zap","text":"","timestamp":1,"senderUsername":"a"}'))),
    ).toThrow(/kind/);
  });
});
