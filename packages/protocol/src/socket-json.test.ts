import { describe, expect, it } from 'vitest';
import { clientFrameFromJson, clientFrameToJson, type JsonClientFrame } from './socket-json.js';

const DEST = '0b5c6f9e-3a41-4d7e-9c2b-7f1e2d3c4b5a';
const message = { deviceId: 1, registrationId: 7, type: 2, content: Buffer.from('ciphertext').toString('base64') };
const key = Buffer.alloc(16, 3).toString('base64');

describe('socket-json', () => {
  it('round-trips shortLived (and online) on every send frame', () => {
    const frames: JsonClientFrame[] = [
      { type: 'send', id: 1, destination: DEST, body: { timestamp: 5, messages: [message], resend: false, online: false, shortLived: true } },
      {
        type: 'send-multi',
        id: 2,
        body: { timestamp: 6, online: false, shortLived: true, urgent: false, recipients: [{ accountId: DEST, devices: [message] }] },
      },
      { type: 'sealed-send', id: 3, destination: DEST, accessKey: key, body: { messages: [{ ...message, type: 6 }], resend: false, online: false, shortLived: true } },
      { type: 'sealed-multi-send', id: 4, accessKey: key, body: { message: Buffer.from('multi').toString('base64'), online: false, shortLived: true } },
    ];
    for (const f of frames) expect(clientFrameToJson(clientFrameFromJson(f))).toEqual(f);
  });

  it('reads an absent shortLived as false (the field is proto3 bool: old clients never set it)', () => {
    const f = clientFrameToJson(clientFrameFromJson({ type: 'send', id: 1, destination: DEST, body: { messages: [message] } }));
    expect(f).toMatchObject({ type: 'send', body: { online: false, shortLived: false } });
    const both = clientFrameToJson(clientFrameFromJson({ type: 'sealed-multi-send', id: 2, accessKey: key, body: { message: 'AA==', online: true, shortLived: true } }));
    expect(both).toMatchObject({ body: { online: true, shortLived: true } });
  });
});
